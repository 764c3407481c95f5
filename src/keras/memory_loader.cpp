// krt::load_from_memory: the same importer as krt::load, over a copy of the caller's bytes
// (the model keeps slices of them, e.g. weights read in place, so it must own them).
#include "io/bytes.h"
#include "keras/loader.h"

namespace krt {

Model load_from_memory(const void* data, size_t size, const std::string& name,
                       const LoadOptions& options) {
  return load_from_bytes(io::Bytes::copy_of(data, size), name, options);
}

}  // namespace krt
