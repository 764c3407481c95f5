// Threads for our own CPU kernels: the OpenMP runtime oneDNN already brought (libgomp), found
// at run time, so our kernels and oneDNN's share one pool and one thread count (the run's, set
// by use_threads_on_this_thread). Without it, work runs on the calling thread.
#pragma once

#include <cstdint>
#include <functional>

namespace krt::cpu {

// The number of threads a parallel_for started from this thread uses.
int max_threads();

// Calls fn(begin, end) over [0, n) split into at most max_threads() contiguous ranges, one per
// thread, and returns when all are done. `min_per_thread` keeps small work on fewer threads.
void parallel_for(int64_t n, const std::function<void(int64_t, int64_t)>& fn,
                  int64_t min_per_thread = 1);

}  // namespace krt::cpu
