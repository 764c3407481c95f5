#include "backends/cpu/parallel.h"

#include <dlfcn.h>

#include <algorithm>

namespace krt::cpu {

namespace {

// libgomp's entry points (what `#pragma omp parallel` compiles to), looked up where libdnnl
// loaded them: no second OpenMP runtime, and no -fopenmp for our own code.
struct Gomp {
  using ParallelFn = void (*)(void (*)(void*), void*, unsigned, unsigned);
  using IntFn = int (*)();
  ParallelFn parallel = reinterpret_cast<ParallelFn>(dlsym(RTLD_DEFAULT, "GOMP_parallel"));
  IntFn max_threads = reinterpret_cast<IntFn>(dlsym(RTLD_DEFAULT, "omp_get_max_threads"));
  IntFn thread_num = reinterpret_cast<IntFn>(dlsym(RTLD_DEFAULT, "omp_get_thread_num"));
  IntFn num_threads = reinterpret_cast<IntFn>(dlsym(RTLD_DEFAULT, "omp_get_num_threads"));
  bool ok() const { return parallel && max_threads && thread_num && num_threads; }
};

const Gomp& gomp() {
  static const Gomp g;
  return g;
}

struct Job {
  int64_t n, parts;
  const std::function<void(int64_t, int64_t)>* fn;
};

void run_part(const Job& job, int64_t part) {
  const int64_t begin = job.n * part / job.parts, end = job.n * (part + 1) / job.parts;
  if (begin < end) (*job.fn)(begin, end);
}

// ThreadSanitizer cannot see libgomp's barriers (libgomp is not instrumented), so every hand-off
// of a part to an OpenMP thread would read as a race: under TSan the parts run on the calling
// thread. What TSan checks here, one compiled model run from many threads, is unchanged.
#if defined(__SANITIZE_THREAD__)
constexpr bool kOpenMpVisibleToTsan = false;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
constexpr bool kOpenMpVisibleToTsan = false;
#else
constexpr bool kOpenMpVisibleToTsan = true;
#endif
#else
constexpr bool kOpenMpVisibleToTsan = true;
#endif

}  // namespace

int max_threads() { return gomp().ok() ? std::max(1, gomp().max_threads()) : 1; }

void parallel_for(int64_t n, const std::function<void(int64_t, int64_t)>& fn,
                  int64_t min_per_thread) {
  if (n <= 0) return;
  const int64_t parts = std::min<int64_t>(
      max_threads(), std::max<int64_t>(1, n / std::max<int64_t>(min_per_thread, 1)));
  if (parts <= 1 || !kOpenMpVisibleToTsan) {
    fn(0, n);
    return;
  }
  Job job{n, parts, &fn};
  gomp().parallel(
      [](void* data) {
        // The runtime may give fewer threads than asked (nested regions): each takes every
        // num_threads-th part, so all parts run.
        const Job& j = *static_cast<const Job*>(data);
        const int64_t step = std::max(1, gomp().num_threads());
        for (int64_t part = gomp().thread_num(); part < j.parts; part += step) run_part(j, part);
      },
      &job, static_cast<unsigned>(parts), 0);
}

}  // namespace krt::cpu
