// The C API over the C++ one: opaque handles own C++ objects; every exception becomes a status
// plus a thread-local message, so no C++ exception ever crosses the C boundary.
#include "kerasrt/kerasrt_c.h"

#include <new>
#include <string>
#include <vector>

#include "kerasrt/kerasrt.h"

struct krt_model {
  krt::Model model;
};
struct krt_compiled {
  krt::CompiledModel exe;
};
struct krt_outputs {
  std::vector<krt::Tensor> tensors;
};

namespace {

thread_local std::string last_error;

krt_status status_of(krt::ErrorCode code) {
  switch (code) {
    case krt::ErrorCode::invalid_argument:
      return KRT_INVALID_ARGUMENT;
    case krt::ErrorCode::invalid_file:
      return KRT_INVALID_FILE;
    case krt::ErrorCode::unsupported:
      return KRT_UNSUPPORTED;
    case krt::ErrorCode::limit_exceeded:
      return KRT_LIMIT_EXCEEDED;
    case krt::ErrorCode::io_error:
      return KRT_IO_ERROR;
    case krt::ErrorCode::internal:
      return KRT_INTERNAL;
  }
  return KRT_INTERNAL;
}

krt_status fail(krt_status status, std::string message) {
  last_error = std::move(message);
  return status;
}

// Runs `body`, turning any exception into a status and last_error.
template <class F>
krt_status guarded(F&& body) {
  try {
    body();
    return KRT_OK;
  } catch (const krt::Error& e) {
    return fail(status_of(e.code()), e.what());
  } catch (const std::bad_alloc&) {
    return fail(KRT_INTERNAL, "out of memory");
  } catch (const std::exception& e) {
    return fail(KRT_INTERNAL, e.what());
  }
}

krt_status null_argument(const char* function, const char* argument) {
  return fail(KRT_INVALID_ARGUMENT, std::string(function) + ": " + argument + " is NULL");
}

const krt::Tensor* output_at(const krt_outputs* outputs, size_t index) {
  return outputs && index < outputs->tensors.size() ? &outputs->tensors[index] : nullptr;
}

}  // namespace

extern "C" {

const char* krt_version(void) { return krt::version(); }
const char* krt_last_error(void) { return last_error.c_str(); }

const char* krt_status_name(krt_status status) {
  switch (status) {
    case KRT_OK:
      return "ok";
    case KRT_INVALID_ARGUMENT:
      return "invalid_argument";
    case KRT_INVALID_FILE:
      return "invalid_file";
    case KRT_UNSUPPORTED:
      return "unsupported";
    case KRT_LIMIT_EXCEEDED:
      return "limit_exceeded";
    case KRT_IO_ERROR:
      return "io_error";
    case KRT_INTERNAL:
      return "internal";
  }
  return "unknown";
}

krt_status krt_model_load(const char* path, krt_model** out_model) {
  if (!path) return null_argument("krt_model_load", "path");
  if (!out_model) return null_argument("krt_model_load", "out_model");
  *out_model = nullptr;
  return guarded([&] { *out_model = new krt_model{krt::load(path)}; });
}

krt_status krt_model_load_from_memory(const void* data, size_t size, const char* name,
                                      krt_model** out_model) {
  if (!data && size) return null_argument("krt_model_load_from_memory", "data");
  if (!out_model) return null_argument("krt_model_load_from_memory", "out_model");
  *out_model = nullptr;
  return guarded([&] {
    *out_model = new krt_model{krt::load_from_memory(data, size, name ? name : "<memory>")};
  });
}

void krt_model_free(krt_model* model) { delete model; }

const char* krt_model_name(const krt_model* model) {
  return model ? model->model.name().c_str() : "";
}
size_t krt_model_input_count(const krt_model* model) {
  return model ? model->model.inputs().size() : 0;
}
size_t krt_model_output_count(const krt_model* model) {
  return model ? model->model.outputs().size() : 0;
}

krt_status krt_model_input_shape(const krt_model* model, size_t index, int64_t* dims,
                                 size_t max_dims, size_t* rank) {
  if (!model) return null_argument("krt_model_input_shape", "model");
  if (!rank) return null_argument("krt_model_input_shape", "rank");
  if (index >= model->model.inputs().size())
    return fail(KRT_INVALID_ARGUMENT, "krt_model_input_shape: input " + std::to_string(index) +
                                          " of a model with " +
                                          std::to_string(model->model.inputs().size()) + " inputs");
  const krt::Shape& shape = model->model.inputs()[index].shape;
  *rank = shape.size();
  for (size_t d = 0; d < shape.size() && d < max_dims && dims; ++d) dims[d] = shape[d];
  return KRT_OK;
}

krt_status krt_model_compile(const krt_model* model, krt_device device,
                             krt_compiled** out_compiled) {
  if (!model) return null_argument("krt_model_compile", "model");
  if (!out_compiled) return null_argument("krt_model_compile", "out_compiled");
  *out_compiled = nullptr;
  return guarded([&] {
    krt::CompileOptions options;
    switch (device) {
      case KRT_DEVICE_CPU:
        options.device = krt::Device::cpu();
        break;
      case KRT_DEVICE_REFERENCE:
        options.device = krt::Device::reference();
        break;
      case KRT_DEVICE_CUDA:
        options.device = krt::Device::cuda();
        break;
      default:
        throw krt::Error(krt::ErrorCode::invalid_argument,
                         "krt_model_compile: unknown device " +
                             std::to_string(static_cast<int>(device)) +
                             " (use krt_model_compile_on with a device name)");
    }
    *out_compiled = new krt_compiled{model->model.compile(options)};
  });
}

krt_status krt_model_compile_on(const krt_model* model, const char* device, const char* precision,
                                int threads, krt_compiled** out_compiled) {
  if (!model) return null_argument("krt_model_compile_on", "model");
  if (!device) return null_argument("krt_model_compile_on", "device");
  if (!out_compiled) return null_argument("krt_model_compile_on", "out_compiled");
  *out_compiled = nullptr;
  return guarded([&] {
    krt::CompileOptions options;
    options.device = krt::Device::parse(device);
    if (precision) options.precision = krt::parse_precision(precision);
    options.threads = threads;
    *out_compiled = new krt_compiled{model->model.compile(options)};
  });
}

void krt_compiled_free(krt_compiled* compiled) { delete compiled; }

namespace {

// krt_compiled_run and krt_compiled_run_device: inputs wrapped (not copied) where they live.
krt_status run_wrapped(const char* function, const krt_compiled* compiled, size_t input_count,
                       const float* const* inputs, const int64_t* const* shapes,
                       const size_t* ranks, bool on_device, bool outputs_on_device,
                       krt_outputs** out_outputs) {
  if (!compiled) return null_argument(function, "compiled");
  if (!out_outputs) return null_argument(function, "out_outputs");
  *out_outputs = nullptr;
  if (input_count && (!inputs || !shapes || !ranks))
    return null_argument(function, "inputs, shapes or ranks");
  return guarded([&] {
    std::vector<krt::Tensor> tensors;
    krt::MemoryLocation where;
    if (on_device)
      where = {compiled->exe.options().device.backend, compiled->exe.options().device.index};
    for (size_t i = 0; i < input_count; ++i) {
      if (!inputs[i] || (ranks[i] && !shapes[i]))
        throw krt::Error(krt::ErrorCode::invalid_argument,
                         std::string(function) + ": input " + std::to_string(i) + " is NULL");
      krt::Shape shape(shapes[i], shapes[i] + ranks[i]);
      krt::shape_elements(shape);  // rejects negative dimensions and overflow before wrapping
      // Wrapped, not copied: the engine only reads its inputs.
      tensors.push_back(
          krt::Tensor::wrap_device(krt::DType::f32, shape, const_cast<float*>(inputs[i]), where));
    }
    krt::RunOptions options;
    options.outputs_on_device = outputs_on_device;
    options.outputs_as_float32 = true;  // krt_outputs_data hands out float32, on the GPU too
    *out_outputs = new krt_outputs{compiled->exe.run(tensors, options)};
  });
}

}  // namespace

krt_status krt_compiled_run(const krt_compiled* compiled, size_t input_count,
                            const float* const* inputs, const int64_t* const* shapes,
                            const size_t* ranks, krt_outputs** out_outputs) {
  return run_wrapped("krt_compiled_run", compiled, input_count, inputs, shapes, ranks, false, false,
                     out_outputs);
}

krt_status krt_compiled_run_device(const krt_compiled* compiled, size_t input_count,
                                   const float* const* device_inputs, const int64_t* const* shapes,
                                   const size_t* ranks, int outputs_on_device,
                                   krt_outputs** out_outputs) {
  return run_wrapped("krt_compiled_run_device", compiled, input_count, device_inputs, shapes, ranks,
                     true, outputs_on_device != 0, out_outputs);
}

size_t krt_outputs_count(const krt_outputs* outputs) {
  return outputs ? outputs->tensors.size() : 0;
}

size_t krt_outputs_rank(const krt_outputs* outputs, size_t index) {
  const krt::Tensor* t = output_at(outputs, index);
  return t ? t->shape().size() : 0;
}

const int64_t* krt_outputs_shape(const krt_outputs* outputs, size_t index) {
  const krt::Tensor* t = output_at(outputs, index);
  return t ? t->shape().data() : nullptr;
}

int64_t krt_outputs_size(const krt_outputs* outputs, size_t index) {
  const krt::Tensor* t = output_at(outputs, index);
  return t ? t->size() : 0;
}

const float* krt_outputs_data(const krt_outputs* outputs, size_t index) {
  const krt::Tensor* t = output_at(outputs, index);
  return t && t->dtype() == krt::DType::f32 ? static_cast<const float*>(t->data()) : nullptr;
}

void krt_outputs_free(krt_outputs* outputs) { delete outputs; }

}  // extern "C"
