#include "arrays.h"

#include "kerasrt/error.h"

namespace py = pybind11;

namespace krt::python {

namespace {

using InPlace = py::array_t<float, py::array::c_style>;
using Converted = py::array_t<float, py::array::c_style | py::array::forcecast>;

py::dtype numpy_dtype(DType dtype) {
  switch (dtype) {
    case DType::f32:
      return py::dtype::of<float>();
    case DType::f64:
      return py::dtype::of<double>();
    case DType::i32:
      return py::dtype::of<int32_t>();
    case DType::i64:
      return py::dtype::of<int64_t>();
    case DType::u8:
      return py::dtype::of<uint8_t>();
    case DType::f16:
      return py::dtype("float16");
    case DType::bf16:
      break;  // numpy has no bfloat16; run() returns float32 host outputs, so none reach here
  }
  throw Error(ErrorCode::internal, "tensor with an unknown dtype");
}

}  // namespace

Tensor to_tensor(py::handle obj, py::object& keep, size_t index, const std::string& name) {
  py::array array;
  // array_t's check covers the dtype (native-endian float32) and C order; numpy's ALIGNED flag
  // is checked too, because kernels load whole floats.
  if (py::isinstance<InPlace>(obj) &&
      (py::reinterpret_borrow<py::array>(obj).flags() & py::detail::npy_api::NPY_ARRAY_ALIGNED_)) {
    array = py::reinterpret_borrow<py::array>(obj);
  } else {
    array = Converted::ensure(obj);
    if (!array)
      throw Error(ErrorCode::invalid_argument,
                  "input " + std::to_string(index) + " ('" + name +
                      "'): expected a numpy array (or anything numpy converts to float32), got " +
                      std::string(py::str(py::type::handle_of(obj).attr("__name__"))));
  }
  Shape shape(array.shape(), array.shape() + array.ndim());
  keep = array;
  return Tensor::wrap(DType::f32, std::move(shape), const_cast<void*>(array.data()));
}

py::array to_numpy(Tensor tensor) {
  auto* owner = new Tensor(std::move(tensor));
  py::capsule base(owner, [](void* p) { delete static_cast<Tensor*>(p); });
  std::vector<py::ssize_t> shape(owner->shape().begin(), owner->shape().end());
  return py::array(numpy_dtype(owner->dtype()), shape, owner->data(), base);
}

py::tuple shape_tuple(const Shape& shape) {
  py::tuple out(shape.size());
  for (size_t i = 0; i < shape.size(); ++i)
    out[i] = shape[i] == dynamic ? py::object(py::none()) : py::object(py::int_(shape[i]));
  return out;
}

}  // namespace krt::python
