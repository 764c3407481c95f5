/* kerasrt's C API: load a Keras model, compile it, run it on float32 buffers. For C and for
 * other languages' foreign-function interfaces (Python ctypes, Rust, Go, C#, ...).
 *
 *   krt_model* model = NULL;
 *   if (krt_model_load("decoder.keras", &model) != KRT_OK) { puts(krt_last_error()); return 1; }
 *   krt_compiled* exe = NULL;
 *   krt_model_compile(model, KRT_DEVICE_CPU, &exe);
 *   int64_t shape[4] = {1, 8, 8, 3};
 *   const float* data[1] = {pixels};
 *   const int64_t* shapes[1] = {shape};
 *   size_t ranks[1] = {4};
 *   krt_outputs* out = NULL;
 *   krt_compiled_run(exe, 1, data, shapes, ranks, &out);
 *   const float* y = krt_outputs_data(out, 0);   // valid until krt_outputs_free(out)
 *   krt_outputs_free(out); krt_compiled_free(exe); krt_model_free(model);
 *
 * Every function that can fail returns a krt_status; on failure krt_last_error() holds a
 * one-line message (file, layer, expected vs found), kept per thread until the next failure.
 * Handles are opaque; each *_free accepts NULL. A krt_compiled may be run from many threads at
 * once; a krt_model and a krt_outputs are read-only after creation. */
#ifndef KERASRT_KERASRT_C_H_
#define KERASRT_KERASRT_C_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Mirrors krt::ErrorCode, plus KRT_OK. */
typedef enum krt_status {
  KRT_OK = 0,
  KRT_INVALID_ARGUMENT = 1, /* the caller passed something wrong (NULL, bad shape, index) */
  KRT_INVALID_FILE = 2,     /* the model file is malformed, truncated or inconsistent */
  KRT_UNSUPPORTED = 3,      /* well-formed, but uses something kerasrt does not implement */
  KRT_LIMIT_EXCEEDED = 4,   /* a size in the file is above kerasrt's limits */
  KRT_IO_ERROR = 5,         /* the operating system refused a read or write */
  KRT_INTERNAL = 6          /* a bug in kerasrt (or out of memory) */
} krt_status;

typedef enum krt_device {
  KRT_DEVICE_CPU = 0,
  KRT_DEVICE_REFERENCE = 1,
  KRT_DEVICE_CUDA = 2
} krt_device;

typedef struct krt_model krt_model;       /* a loaded model */
typedef struct krt_compiled krt_compiled; /* a model compiled for a device */
typedef struct krt_outputs krt_outputs;   /* the outputs of one run */

/* The library version, e.g. "0.1.0". */
const char* krt_version(void);
/* The message of the last failed call on this thread ("" if none). Valid until the next failing
 * call on the same thread. */
const char* krt_last_error(void);
/* A short name for a status: "ok", "invalid_argument", ... */
const char* krt_status_name(krt_status status);

/* Loads a .keras, legacy .h5 or TF.js model.json file. */
krt_status krt_model_load(const char* path, krt_model** out_model);
/* Loads a .keras or .h5 model from memory (the bytes are copied; `name` is used in messages). */
krt_status krt_model_load_from_memory(const void* data, size_t size, const char* name,
                                      krt_model** out_model);
void krt_model_free(krt_model* model);

/* The model's name; valid while the model lives. */
const char* krt_model_name(const krt_model* model);
size_t krt_model_input_count(const krt_model* model);
size_t krt_model_output_count(const krt_model* model);
/* Writes up to `max_dims` dimensions of input `index` (-1 marks a dimension known only at run
 * time, such as the batch) and its rank to *rank. */
krt_status krt_model_input_shape(const krt_model* model, size_t index, int64_t* dims,
                                 size_t max_dims, size_t* rank);

krt_status krt_model_compile(const krt_model* model, krt_device device,
                             krt_compiled** out_compiled);
/* Compiles for a device named as on the command line ("cpu", "reference", "cuda", "cuda:1")
 * in a precision ("fp32", "tf32", "fp16", "bf16"; NULL means fp32), with `threads` CPU threads
 * per run (0: one per core). An unknown device fails with a message naming the available ones. */
krt_status krt_model_compile_on(const krt_model* model, const char* device, const char* precision,
                                int threads, krt_compiled** out_compiled);
void krt_compiled_free(krt_compiled* compiled);

/* Runs on `input_count` float32 row-major inputs, in the model's input order; input i has
 * ranks[i] dimensions shapes[i][0..]. The inputs are read in place (not copied) and must stay
 * valid during the call. */
krt_status krt_compiled_run(const krt_compiled* compiled, size_t input_count,
                            const float* const* inputs, const int64_t* const* shapes,
                            const size_t* ranks, krt_outputs** out_outputs);

/* Like krt_compiled_run, for a model compiled for a GPU, with float32 inputs in that GPU's
 * memory (device pointers; converted on the GPU at fp16/bf16, read in place at fp32). With
 * outputs_on_device nonzero the outputs stay in the GPU's memory too, as float32 at every
 * precision, and krt_outputs_data returns device pointers (freed by krt_outputs_free);
 * otherwise they are copied to the host. */
krt_status krt_compiled_run_device(const krt_compiled* compiled, size_t input_count,
                                   const float* const* device_inputs, const int64_t* const* shapes,
                                   const size_t* ranks, int outputs_on_device,
                                   krt_outputs** out_outputs);

size_t krt_outputs_count(const krt_outputs* outputs);
/* Output `index`'s rank, dimensions, element count and float32 data; NULL/0 if out of range.
 * Pointers stay valid until krt_outputs_free. */
size_t krt_outputs_rank(const krt_outputs* outputs, size_t index);
const int64_t* krt_outputs_shape(const krt_outputs* outputs, size_t index);
int64_t krt_outputs_size(const krt_outputs* outputs, size_t index);
const float* krt_outputs_data(const krt_outputs* outputs, size_t index);
void krt_outputs_free(krt_outputs* outputs);

#ifdef __cplusplus
}
#endif

#endif /* KERASRT_KERASRT_C_H_ */
