// One libFuzzer binary for every target, chosen by the KRT_FUZZ_TARGET environment variable
// (zip, hdf5, json_config, npy, load_run): handy for running all targets in parallel on
// another machine from a single copied executable. scripts/fuzz.sh uses the per-target ones.
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "fuzz/fuzz_entries.h"

namespace {

krt::fuzz::FuzzEntry chosen_entry() {
  const char* name = std::getenv("KRT_FUZZ_TARGET");
  for (const krt::fuzz::FuzzTarget& t : krt::fuzz::fuzz_targets())
    if (name && t.name == name) return t.entry;
  std::fprintf(stderr, "set KRT_FUZZ_TARGET to one of: zip hdf5 json_config npy load_run\n");
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const krt::fuzz::FuzzEntry entry = chosen_entry();
  entry(data, size);
  return 0;
}
