/* The C API from C: load, inspect, compile, run, compare with Keras's output, and the error
 * paths (status codes and krt_last_error messages).
 * Usage: capi_test MODEL.keras INPUT.npy OUTPUT.npy */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kerasrt/kerasrt_c.h"

static int failures = 0;
#define CHECK(cond)                                                            \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      ++failures;                                                              \
    }                                                                          \
  } while (0)

/* A minimal reader for the little-endian float32 C-order .npy files of the fixtures. */
static float* read_npy(const char* path, int64_t* shape, size_t* rank, long* count) {
  FILE* f = fopen(path, "rb");
  if (!f) return NULL;
  unsigned char pre[10];
  if (fread(pre, 1, 10, f) != 10 || memcmp(pre, "\x93NUMPY", 6) != 0 || pre[6] != 1) {
    fclose(f);
    return NULL;
  }
  size_t header_len = pre[8] | (pre[9] << 8);
  char* header = calloc(header_len + 1, 1);
  if (fread(header, 1, header_len, f) != header_len || !strstr(header, "'<f4'")) {
    free(header);
    fclose(f);
    return NULL;
  }
  *rank = 0;
  *count = 1;
  for (char* p = strchr(strstr(header, "'shape'"), '(') + 1; *p && *p != ')';) {
    long d = strtol(p, &p, 10);
    shape[(*rank)++] = d;
    *count *= d;
    while (*p == ',' || *p == ' ') ++p;
  }
  free(header);
  float* data = malloc(sizeof(float) * (size_t)*count);
  if (fread(data, sizeof(float), (size_t)*count, f) != (size_t)*count) {
    free(data);
    data = NULL;
  }
  fclose(f);
  return data;
}

int main(int argc, char** argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: capi_test MODEL INPUT.npy OUTPUT.npy\n");
    return 2;
  }
  printf("kerasrt %s\n", krt_version());

  krt_model* model = NULL;
  CHECK(krt_model_load(argv[1], &model) == KRT_OK);
  if (!model) {
    fprintf(stderr, "load failed: %s\n", krt_last_error());
    return 1;
  }
  CHECK(strcmp(krt_model_name(model), "seed") == 0);
  CHECK(krt_model_input_count(model) == 1);
  CHECK(krt_model_output_count(model) == 1);
  int64_t dims[8];
  size_t rank = 0;
  CHECK(krt_model_input_shape(model, 0, dims, 8, &rank) == KRT_OK);
  CHECK(rank == 4 && dims[0] == -1 && dims[1] == 8 && dims[2] == 8 && dims[3] == 3);
  CHECK(krt_model_input_shape(model, 1, dims, 8, &rank) == KRT_INVALID_ARGUMENT);

  krt_compiled* exe = NULL;
  CHECK(krt_model_compile(model, KRT_DEVICE_CPU, &exe) == KRT_OK);

  int64_t in_shape[8], want_shape[8];
  size_t in_rank = 0, want_rank = 0;
  long in_count = 0, want_count = 0;
  float* x = read_npy(argv[2], in_shape, &in_rank, &in_count);
  float* want = read_npy(argv[3], want_shape, &want_rank, &want_count);
  CHECK(x != NULL && want != NULL);
  if (!x || !want) return 1;

  const float* inputs[1] = {x};
  const int64_t* shapes[1] = {in_shape};
  size_t ranks[1] = {in_rank};
  krt_outputs* out = NULL;
  CHECK(krt_compiled_run(exe, 1, inputs, shapes, ranks, &out) == KRT_OK);
  CHECK(krt_outputs_count(out) == 1);
  CHECK(krt_outputs_rank(out, 0) == want_rank);
  CHECK(krt_outputs_size(out, 0) == want_count);
  for (size_t d = 0; d < want_rank; ++d) CHECK(krt_outputs_shape(out, 0)[d] == want_shape[d]);
  const float* y = krt_outputs_data(out, 0);
  double worst = 0;
  for (long i = 0; y && i < want_count; ++i) {
    double diff = fabs((double)y[i] - want[i]) - 1e-5 * fabs(want[i]);
    if (diff > worst) worst = diff;
  }
  printf("max excess over rtol: %g\n", worst);
  CHECK(y != NULL && worst <= 1e-5);
  CHECK(krt_outputs_data(out, 1) == NULL && krt_outputs_shape(out, 1) == NULL);
  krt_outputs_free(out);

  /* Errors: a status, and a one-line message saying what was wrong. */
  int64_t bad_shape[4] = {2, 8, 8, 4};
  const int64_t* bad_shapes[1] = {bad_shape};
  krt_outputs* none = NULL;
  CHECK(krt_compiled_run(exe, 1, inputs, bad_shapes, ranks, &none) == KRT_INVALID_ARGUMENT);
  CHECK(none == NULL);
  CHECK(strstr(krt_last_error(), "expects (None, 8, 8, 3)") != NULL);
  krt_model* missing = NULL;
  CHECK(krt_model_load("/nonexistent/model.keras", &missing) == KRT_IO_ERROR);
  CHECK(missing == NULL && strstr(krt_last_error(), "/nonexistent/model.keras") != NULL);
  CHECK(krt_model_load(NULL, &missing) == KRT_INVALID_ARGUMENT);
  CHECK(strcmp(krt_status_name(KRT_UNSUPPORTED), "unsupported") == 0);

  /* The same model from memory. */
  FILE* f = fopen(argv[1], "rb");
  fseek(f, 0, SEEK_END);
  long size = ftell(f);
  fseek(f, 0, SEEK_SET);
  char* bytes = malloc((size_t)size);
  CHECK(fread(bytes, 1, (size_t)size, f) == (size_t)size);
  fclose(f);
  krt_model* from_memory = NULL;
  CHECK(krt_model_load_from_memory(bytes, (size_t)size, "in-memory.keras", &from_memory) == KRT_OK);
  free(bytes); /* the model keeps its own copy */
  CHECK(from_memory && strcmp(krt_model_name(from_memory), "seed") == 0);
  CHECK(krt_model_load_from_memory("garbage", 7, "junk.bin", &missing) == KRT_INVALID_FILE);
  CHECK(strstr(krt_last_error(), "junk.bin") != NULL);

  krt_model_free(from_memory);
  krt_compiled_free(exe);
  krt_model_free(model);
  krt_model_free(NULL);
  free(x);
  free(want);
  if (failures) {
    fprintf(stderr, "%d check(s) failed\n", failures);
    return 1;
  }
  printf("capi_test: all checks passed\n");
  return 0;
}
