// Where a layer's stored variables are, in each file format.
//
// Keras 3 `.keras`: `layers/<key>/vars/<i>` where <key> is the snake_case class name with a
// per-class counter in the container's layer order, and <i> the creation order; nested models
// recurse (`layers/<key>/layers/...`), sub-objects such as RNN cells are attributes
// (`layers/lstm/cell/vars/0`). Legacy `.h5`: `model_weights/<layer>/` lists `weight_names`
// (e.g. "fc1/kernel" or Keras 2's "fc1/kernel:0"); nested models keep all their inner
// layers' weights in the outer layer's group, told apart by the inner layer name.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "io/hdf5.h"
#include "kerasrt/tensor.h"

namespace krt::keras {

class WeightScope {
 public:
  virtual ~WeightScope() = default;
  // Variable `index` (creation order), whose Keras name is `name` ("kernel", "gamma", ...).
  virtual std::optional<Tensor> find(int index, std::string_view name) const = 0;
  // The scope of a layer inside a nested model (`key` for .keras, `layer_name` for .h5).
  virtual std::unique_ptr<WeightScope> nested_layer(const std::string& key,
                                                    const std::string& layer_name) const = 0;
  // The scope of a sub-object of the layer (an RNN's "cell", a wrapper's "layer").
  virtual std::unique_ptr<WeightScope> attribute(const std::string& attr) const = 0;
  // A wrapped layer (Bidirectional's forward_layer, TimeDistributed's layer): `attr` in .keras;
  // in legacy .h5 the weights whose names have the wrapped layer's name `layer_name` as a path
  // component ("bidir/forward_lstm/lstm_cell/kernel" for "forward_lstm").
  virtual std::unique_ptr<WeightScope> sub_layer(const std::string& attr,
                                                 const std::string& layer_name) const = 0;
  // Every variable stored directly for this layer, in creation order (for custom layers).
  std::vector<Tensor> all_variables() const {
    std::vector<Tensor> out;
    for (int i = 0; i < 4096; ++i) {
      std::optional<Tensor> t = find(i, "");
      if (!t) break;
      out.push_back(std::move(*t));
    }
    return out;
  }
  // Total elements of all variables stored in this scope, recursively (Keras's param count).
  virtual int64_t total_elements() const = 0;
};

// An empty scope (layers without stored weights, or models built without weights).
std::unique_ptr<WeightScope> empty_weight_scope();
// The root of a Keras 3 weights file (`model.weights.h5`).
std::unique_ptr<WeightScope> keras3_weight_scope(std::shared_ptr<const io::Hdf5File> file);
// A Keras 3 style scope rooted at `path` of the file (`vars/<i>`, attributes as subgroups).
std::unique_ptr<WeightScope> keras3_weight_scope_at(std::shared_ptr<const io::Hdf5File> file,
                                                    const std::string& path);
// The scope of one top-level layer of a legacy .h5 model (`group` is e.g. "model_weights/fc1").
std::unique_ptr<WeightScope> legacy_layer_weight_scope(std::shared_ptr<const io::Hdf5File> file,
                                                       const std::string& group);

// Keras's naming.to_snake_case: "Conv2DTranspose" -> "conv2d_transpose", "ReLU" -> "re_lu".
std::string keras_snake_case(std::string_view class_name);

}  // namespace krt::keras

namespace krt::keras {
// The container scope of a legacy .h5 model: each top-level layer's group under `group`.
std::unique_ptr<WeightScope> legacy_model_weight_scope(std::shared_ptr<const io::Hdf5File> file,
                                                       const std::string& group);

// A list-of-strings attribute such as `layer_names` or `weight_names`, also when Keras split it
// into chunks (`layer_names0`, `layer_names1`, ...) to stay under HDF5's 64 KB header limit.
// Empty when absent (h5py stores an empty list as an empty float array).
std::vector<std::string> string_list_attribute(const io::Hdf5File& file, const std::string& path,
                                               const std::string& name);

// A legacy .h5 layer group's weights in `weight_names` order: (weight name, dataset path).
std::vector<std::pair<std::string, std::string>> legacy_layer_weight_entries(
    const io::Hdf5File& file, const std::string& group);
}  // namespace krt::keras
