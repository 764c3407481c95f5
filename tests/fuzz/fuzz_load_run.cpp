// libFuzzer entry point for the load_run target; the body is krt::fuzz::fuzz_load_run
// (fuzz_entries.cpp).
#include "fuzz/fuzz_entries.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  krt::fuzz::fuzz_load_run(data, size);
  return 0;
}
