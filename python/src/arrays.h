// numpy arrays <-> krt::Tensor without copies where the layout allows it.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <string>

#include "kerasrt/tensor.h"

namespace krt::python {

// A tensor over `obj`'s bytes when it is a C-contiguous, aligned, native float32 array; else over
// a float32 copy (numpy's conversion, so lists and other dtypes work too). `keep` receives the
// array that owns the bytes and must outlive every use of the tensor. Errors name the input by
// its index and name ("input 0 ('image')").
Tensor to_tensor(pybind11::handle obj, pybind11::object& keep, size_t index,
                 const std::string& name);

// A numpy array over the tensor's storage (shared, not copied), which it keeps alive.
pybind11::array to_numpy(Tensor tensor);

// (2, None, 3): Keras's shape tuples, with None for dynamic dimensions.
pybind11::tuple shape_tuple(const Shape& shape);

}  // namespace krt::python
