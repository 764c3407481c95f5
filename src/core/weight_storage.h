// Storage for weights made at load and compile time (aligned copies of a file's floats, folded
// kernels, layouts packed for a backend), carved one after another out of chunks that start on
// 2 MiB boundaries with transparent huge pages asked for. A MobileNet's few dozen kernels then
// cost a handful of page faults instead of one per 4 KiB (its `kerasrt run`: 7,100 page faults
// before, 2,400 after), and no zeroing pass, since every user writes all of its bytes.
#pragma once

#include <cstddef>
#include <memory>

namespace krt {

// `bytes` of uninitialized memory, 64-byte aligned. The chunk stays alive while any block carved
// from it does; only the unused tail of the newest chunk is wasted.
std::shared_ptr<void> allocate_weight_storage(size_t bytes);

// Whether [p, p + bytes) lies in a live chunk of this storage: memory of ours, writable, unlike
// a file's read-only map that a zero-copy weight may view.
bool in_weight_storage(const void* p, size_t bytes);

}  // namespace krt
