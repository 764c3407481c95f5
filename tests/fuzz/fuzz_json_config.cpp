// libFuzzer entry point for the json_config target; the body is krt::fuzz::fuzz_json_config
// (fuzz_entries.cpp).
#include "fuzz/fuzz_entries.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  krt::fuzz::fuzz_json_config(data, size);
  return 0;
}
