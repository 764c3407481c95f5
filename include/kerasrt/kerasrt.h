// kerasrt: run trained Keras models natively in C++. Include this one header.
//
//   krt::Model model = krt::load("decoder.keras");
//   krt::CompiledModel exe = model.compile();
//   std::vector<krt::Tensor> y = exe.run({krt::Tensor::from_npy("x.npy")});
#pragma once

#include "kerasrt/error.h"
#include "kerasrt/graph_builder.h"
#include "kerasrt/limits.h"
#include "kerasrt/model.h"
#include "kerasrt/named_tensors.h"
#include "kerasrt/operations.h"
#include "kerasrt/tensor.h"

namespace krt {
// The library version ("0.1.0"), as installed in the CMake package and kerasrt.pc.
const char* version();
}  // namespace krt
