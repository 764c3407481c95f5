// libFuzzer entry point for the npy target; the body is krt::fuzz::fuzz_npy (fuzz_entries.cpp).
#include "fuzz/fuzz_entries.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  krt::fuzz::fuzz_npy(data, size);
  return 0;
}
