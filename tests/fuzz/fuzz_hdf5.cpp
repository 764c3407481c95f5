// libFuzzer entry point for the hdf5 target; the body is krt::fuzz::fuzz_hdf5 (fuzz_entries.cpp).
#include "fuzz/fuzz_entries.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  krt::fuzz::fuzz_hdf5(data, size);
  return 0;
}
