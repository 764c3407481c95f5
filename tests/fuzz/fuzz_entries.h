// The bodies of the libFuzzer targets, as plain functions: the fuzzers (fuzz_*.cpp) call them
// from LLVMFuzzerTestOneInput, and regression_test.cpp replays saved inputs through the same
// functions in the ordinary test binary. Each returns normally when the input is accepted or
// refused with krt::Error; anything else (a crash, a sanitizer report, another exception
// type, an allocation beyond the limits) is a bug the fuzzer reports.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "kerasrt/limits.h"

namespace krt::fuzz {

// Limits small enough that a valid-but-huge input cannot exhaust the fuzzer's memory
// (libFuzzer runs with -rss_limit_mb=2048) yet large enough for every fixture.
Limits fuzz_limits();

void fuzz_zip(const uint8_t* data, size_t size);
void fuzz_hdf5(const uint8_t* data, size_t size);
void fuzz_json_config(const uint8_t* data, size_t size);
void fuzz_npy(const uint8_t* data, size_t size);
void fuzz_load_run(const uint8_t* data, size_t size);

using FuzzEntry = void (*)(const uint8_t* data, size_t size);
struct FuzzTarget {
  std::string name;  // as in tests/fuzz/corpus/<name> and tests/fuzz/regressions/<name>
  FuzzEntry entry;
};
// Every target, in a fixed order.
const std::vector<FuzzTarget>& fuzz_targets();

}  // namespace krt::fuzz
