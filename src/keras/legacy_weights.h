// Weights stored in layouts older than Keras 2's, converted as Keras 2's loader converted them
// (keras/engine/saving.py: preprocess_weights_for_loading), so the importers see one layout.
//
// - Keras 1 names ("dense_1_W", "batchnormalization_1_running_std") become Keras 2 names
//   ("kernel", "moving_variance"); Keras 1's running_std already held the variance.
// - Keras 1 LSTMs store 12 arrays (W, U, b per gate, gates i, c, f, o) and GRUs 9 (gates z, r,
//   h): joined into kernel, recurrent_kernel and bias (LSTM gate order i, f, c, o).
// - Keras 1 channels_first ('th') conv kernels (filters, channels, rows, cols) are transposed to
//   (rows, cols, channels, filters); Conv1D kernels lose Keras 1's extra axis.
// - Files saved by the Theano backend (Keras 2 records backend = "theano") hold kernels for a
//   true convolution: Keras 2 flipped them spatially when loading on TensorFlow; so do we.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "io/hdf5.h"
#include "io/json.h"
#include "keras/layer_importer.h"
#include "keras/weights.h"

namespace krt::keras {

// Whether the file's weights need the conversions above (a Keras 1 file, or a Theano one).
bool legacy_weights_need_conversion(const FileInfo& file);

// The container scope of a legacy .h5 model (each top-level layer's group under `group`)
// whose layers' arrays are converted. `normalized_model` is the model config after
// normalize_model_config (layer classes and options in Keras 2 form).
std::unique_ptr<WeightScope> converting_model_weight_scope(std::shared_ptr<const io::Hdf5File> h5,
                                                           const std::string& group,
                                                           const io::Json& normalized_model,
                                                           const FileInfo& file);

// One stored variable: its name as the file writes it ("dense_1/kernel:0", "dense_1_W") and value.
struct NamedArray {
  std::string name;
  Tensor value;
};

// A container scope over variables already in memory (TF.js shards), found per layer by the
// layer name as a path component ("gru_1/kernel"), converted like the .h5 ones.
std::unique_ptr<WeightScope> named_arrays_weight_scope(std::vector<NamedArray> arrays,
                                                       const io::Json& normalized_model,
                                                       const FileInfo& file);

// tf.keras 2.12/2.13 `.keras` weights (layers under `_layer_checkpoint_dependencies/`, see
// tf_keras_weights.cpp), found per layer through the model config.
bool is_tf_keras_zip_weights(const io::Hdf5File& h5);
std::unique_ptr<WeightScope> tf_keras_zip_weight_scope(std::shared_ptr<const io::Hdf5File> h5,
                                                       const io::Json& model);

}  // namespace krt::keras
