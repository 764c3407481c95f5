#include "backends/cpu/concat_kernels.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "backends/cpu/parallel.h"

namespace krt::cpu {

namespace {

// Threads split the output at cache lines (no line written by two threads), and take at least
// 64 KiB each: below that, waking another thread costs more than the copy.
constexpr int64_t kLine = 64;
constexpr int64_t kMinLinesPerThread = 1024;

}  // namespace

bool run_concat_fast(const Node& node, std::span<const Tensor> inputs, Tensor& y) {
  if (node.kind != OpKind::concat || inputs.empty()) return false;
  const int64_t axis = node.get<ConcatParams>().axis;
  if (axis < 0 || axis >= y.rank()) return false;
  int64_t outer = 1;
  for (int64_t a = 0; a < axis; ++a) outer *= y.dim(static_cast<int>(a));
  const int64_t total = static_cast<int64_t>(y.nbytes());
  if (outer == 0 || total == 0) return true;
  // The output is `outer` rows; each row is the inputs' blocks one after another.
  const int64_t row = total / outer;
  std::vector<int64_t> block(inputs.size()), at(inputs.size());
  int64_t offset = 0;
  for (size_t k = 0; k < inputs.size(); ++k) {
    block[k] = static_cast<int64_t>(inputs[k].nbytes()) / outer;
    at[k] = offset;
    offset += block[k];
  }
  char* yp = static_cast<char*>(y.data());
  const int threads = max_threads();
  if (outer >= 4 * static_cast<int64_t>(threads) || threads == 1) {
    // Whole rows per thread, input by input as the reference copies (each input read
    // front to back), with no range arithmetic per block: blocks are often a few channels.
    parallel_for(
        outer,
        [&](int64_t o0, int64_t o1) {
          for (size_t k = 0; k < inputs.size(); ++k) {
            const char* src = static_cast<const char*>(inputs[k].data());
            for (int64_t o = o0; o < o1; ++o)
              std::memcpy(yp + o * row + at[k], src + o * block[k], static_cast<size_t>(block[k]));
          }
        },
        std::max<int64_t>(1, kMinLinesPerThread * kLine / row));
    return true;
  }
  // Few long rows (concat along the batch or another early axis): each thread copies the
  // output bytes [begin, end), the pieces of the blocks that fall there.
  parallel_for((total + kLine - 1) / kLine,
               [&](int64_t first_line, int64_t end_line) {
                 const int64_t begin = first_line * kLine, end = std::min(total, end_line * kLine);
                 for (int64_t o = begin / row; o < outer && o * row < end; ++o) {
                   for (size_t k = 0; k < inputs.size(); ++k) {
                     const int64_t b0 = std::max(begin, o * row + at[k]);
                     const int64_t b1 = std::min(end, o * row + at[k] + block[k]);
                     if (b0 >= b1) continue;
                     const char* src = static_cast<const char*>(inputs[k].data()) + o * block[k] +
                                       (b0 - o * row - at[k]);
                     std::memcpy(yp + b0, src, static_cast<size_t>(b1 - b0));
                   }
                 }
               },
               kMinLinesPerThread);
  return true;
}

}  // namespace krt::cpu
