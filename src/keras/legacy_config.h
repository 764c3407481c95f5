// Old model configs rewritten into the form the layer importers read.
//
// Keras 1 spelled layers and options differently (Convolution2D, nb_filter, border_mode,
// dim_ordering, output_dim, inner_activation, ...). Rather than teach every importer every
// spelling, the loader rewrites the whole config once, before the import, into the Keras 2/3
// form, exactly as Keras 2's legacy interfaces did when it loaded a Keras 1 file.
#pragma once

#include "io/json.h"
#include "keras/layer_importer.h"

namespace krt::keras {

// The model config (a {"class_name", "config"} object, or a bare list of layers for an old
// Sequential) with every layer in Keras 2/3 spelling; nested models and wrapped layers
// included. Options kerasrt cannot honour (BatchNormalization mode 1/2, border_mode "full",
// Keras 1 layers removed in Keras 2) raise krt::Error (unsupported) naming the Keras version
// and the layer. Taken by value: a Keras 3 config, already in that spelling, is moved through
// (a deep copy of a MobileNet's was ~0.2 ms of its load).
io::Json normalize_model_config(io::Json model, const FileInfo& file);

// The Keras 2 class name for a Keras 1 one ("Convolution2D" -> "Conv2D"); others unchanged.
std::string modern_class_name(const std::string& class_name);

}  // namespace krt::keras
