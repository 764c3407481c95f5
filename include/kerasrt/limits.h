// Resource limits applied while reading untrusted model files. Defaults are generous for
// real models; raise them for unusually large ones.
#pragma once

#include <cstdint>

namespace krt {

struct Limits {
  uint64_t max_total_bytes = uint64_t{32} << 30;  // bytes a single load may allocate
  int max_rank = 8;                               // tensor rank
  int64_t max_elements = int64_t{1} << 33;        // elements in one tensor
  int max_layers = 100000;                        // layers/nodes in one model
  uint64_t max_json_bytes = uint64_t{256} << 20;  // size of a config JSON document
  int max_json_depth = 256;                       // nesting depth of a config JSON document
  int max_h5_depth = 64;                          // group nesting and B-tree depth in HDF5
  uint64_t max_h5_objects = 1000000;              // objects, links, heap entries visited in HDF5
};

}  // namespace krt
