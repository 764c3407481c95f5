// The native half of the `kerasrt` Python package (`kerasrt._kerasrt`): thin bindings over the
// public C++ API. The Keras-like surface (predict, input forms, batching) is Python, in kerasrt/.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <time.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "arrays.h"
#include "compile_options.h"
#include "kerasrt/kerasrt.h"

namespace py = pybind11;

namespace krt::python {
namespace {

py::list infos_to_list(const std::vector<TensorInfo>& infos) {
  py::list out;
  for (const TensorInfo& info : infos)
    out.append(py::make_tuple(info.name, shape_tuple(info.shape), dtype_name(info.dtype)));
  return out;
}

py::list layers_to_list(const std::vector<LayerInfo>& layers) {
  py::list out;
  for (const LayerInfo& layer : layers) {
    py::list shapes;
    for (const Shape& s : layer.output_shapes) shapes.append(shape_tuple(s));
    out.append(py::make_tuple(layer.name, layer.class_name, shapes, layer.param_count));
  }
  return out;
}

// Tensors over the arrays of `xs`, in order; `keep` holds the arrays that own their bytes.
std::vector<Tensor> to_tensors(const CompiledModel& exe, const py::sequence& xs,
                               std::vector<py::object>& keep) {
  const std::vector<TensorInfo>& infos = exe.inputs();
  if (xs.size() != infos.size())
    throw Error(ErrorCode::invalid_argument, "the model takes " + std::to_string(infos.size()) +
                                                 " input(s), got " + std::to_string(xs.size()));
  std::vector<Tensor> inputs;
  keep.resize(infos.size());
  for (size_t i = 0; i < infos.size(); ++i)
    inputs.push_back(to_tensor(xs[i], keep[i], i, infos[i].name));
  return inputs;
}

// Runs with the GIL released, so other Python threads (and other runs) proceed meanwhile.
py::list run(const CompiledModel& exe, const py::sequence& xs) {
  std::vector<py::object> keep;
  std::vector<Tensor> inputs = to_tensors(exe, xs, keep);
  std::vector<Tensor> outputs;
  {
    py::gil_scoped_release release;
    outputs = exe.run(inputs);
  }
  py::list result;
  for (Tensor& t : outputs) result.append(to_numpy(std::move(t)));
  return result;
}

// This thread's CPU time: unlike wall time, it does not grow while other processes hold the core.
double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

// Seconds per exe.run() over `repeat` calls made from C++ alone, in wall time or in this thread's
// CPU time: the baseline for measuring what the Python layer adds per call
// (python/bench/overhead.py, docs/performance.md).
double time_cpp_runs(const CompiledModel& exe, const py::sequence& xs, int repeat, bool cpu_time) {
  std::vector<py::object> keep;
  std::vector<Tensor> inputs = to_tensors(exe, xs, keep);
  py::gil_scoped_release release;
  auto wall = [] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
  };
  double start = cpu_time ? thread_cpu_seconds() : wall();
  for (int i = 0; i < repeat; ++i) exe.run(inputs);
  return ((cpu_time ? thread_cpu_seconds() : wall()) - start) / std::max(repeat, 1);
}

void register_error(py::module_& m) {
  // One exception type, a ValueError (Keras raises ValueError for bad files and bad inputs), with
  // the C++ message and the error code's name in `.code`.
  static py::exception<Error> error(m, "Error", PyExc_ValueError);
  error.attr("code") = "invalid_argument";  // for errors the Python layer raises itself
  error.doc() =
      "A kerasrt error: the C++ message (file, layer, what was expected and found) and a .code.";
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const Error& e) {
      py::object instance =
          py::reinterpret_borrow<py::object>(error.ptr())(e.what());  // an instance, not raised yet
      instance.attr("code") = error_code_name(e.code());
      PyErr_SetObject(error.ptr(), instance.ptr());
    }
  });
}

}  // namespace
}  // namespace krt::python

PYBIND11_MODULE(_kerasrt, m) {
  using namespace krt;
  using namespace krt::python;
  m.doc() = "Native bindings of kerasrt; use the kerasrt package, not this module.";
  register_error(m);

  py::class_<CompiledModel>(m, "CompiledModel")
      .def_property_readonly("inputs",
                             [](const CompiledModel& c) { return infos_to_list(c.inputs()); })
      .def_property_readonly("outputs",
                             [](const CompiledModel& c) { return infos_to_list(c.outputs()); })
      .def("run", &run, py::arg("inputs"))
      .def("time_cpp_runs", &time_cpp_runs, py::arg("inputs"), py::arg("repeat"),
           py::arg("cpu_time") = false);

  py::class_<Model>(m, "Model")
      .def_property_readonly("name", &Model::name)
      .def_property_readonly("inputs",
                             [](const Model& model) { return infos_to_list(model.inputs()); })
      .def_property_readonly("outputs",
                             [](const Model& model) { return infos_to_list(model.outputs()); })
      .def_property_readonly("layers",
                             [](const Model& model) { return layers_to_list(model.layers()); })
      .def("param_count", &Model::param_count)
      .def("summary", &Model::summary)
      .def(
          "compile",
          [](const Model& model, const std::string& device, int threads,
             const std::string& precision) {
            CompileOptions options = to_compile_options(device, threads, precision);
            py::gil_scoped_release release;
            return model.compile(options);
          },
          py::arg("device"), py::arg("threads"), py::arg("precision"));

  m.def(
      "load",
      [](const std::string& path, std::optional<std::string> weights) {
        py::gil_scoped_release release;
        return weights ? load(path, *weights) : load(path);
      },
      py::arg("path"), py::arg("weights") = py::none());
  m.def(
      "load_from_memory",
      [](py::bytes data, const std::string& name) {
        char* bytes = nullptr;
        Py_ssize_t size = 0;
        PyBytes_AsStringAndSize(data.ptr(), &bytes, &size);
        // `data` is immutable and held by the caller; load_from_memory copies it before returning.
        py::gil_scoped_release release;
        return load_from_memory(bytes, static_cast<size_t>(size), name);
      },
      py::arg("data"), py::arg("name"));
  m.def("version", &version);
  m.def("supported_layers", [] {
    py::list out;
    for (const SupportedLayer& layer : supported_layers())
      out.append(py::make_tuple(layer.class_name, layer.notes));
    return out;
  });
}
