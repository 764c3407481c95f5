#include "core/weight_storage.h"

#include <sys/mman.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <vector>

#include "core/check.h"

namespace krt {

namespace {

constexpr size_t kHuge = size_t{2} << 20;
constexpr size_t kAlign = 64;

struct Chunk {
  uint8_t* base = nullptr;
  size_t size = 0, used = 0;
  ~Chunk() { std::free(base); }
};

std::shared_ptr<Chunk> new_chunk(size_t at_least) {
  auto chunk = std::make_shared<Chunk>();
  chunk->size = (at_least + kHuge - 1) / kHuge * kHuge;
  chunk->base = static_cast<uint8_t*>(std::aligned_alloc(kHuge, chunk->size));
  if (!chunk->base) fail(ErrorCode::limit_exceeded, "cannot allocate ", at_least, " bytes");
  madvise(chunk->base, chunk->size, MADV_HUGEPAGE);
  return chunk;
}

struct Chunks {
  std::mutex mutex;
  // Chunks with room left, while anything uses them. A page of a chunk is resident once
  // touched, so blocks go to the first chunk with room (first fit) rather than abandoning
  // tails; a block of more than a chunk's room gets a new chunk of its size, rounded up.
  std::vector<std::weak_ptr<Chunk>> open;
  // Every chunk, full or not, for in_weight_storage.
  std::vector<std::weak_ptr<Chunk>> all;
};

Chunks& chunks() {
  static Chunks* c = new Chunks;  // never destroyed: blocks may outlive static destructors
  return *c;
}

}  // namespace

bool in_weight_storage(const void* p, size_t bytes) {
  const auto* b = static_cast<const uint8_t*>(p);
  Chunks& r = chunks();
  std::lock_guard<std::mutex> lock(r.mutex);
  for (const std::weak_ptr<Chunk>& w : r.all) {
    std::shared_ptr<Chunk> c = w.lock();
    if (c && b >= c->base && b <= c->base + c->used && bytes <= size_t(c->base + c->used - b))
      return true;
  }
  return false;
}

std::shared_ptr<void> allocate_weight_storage(size_t bytes) {
  const size_t size = (std::max<size_t>(bytes, 1) + kAlign - 1) / kAlign * kAlign;
  Chunks& r = chunks();
  std::lock_guard<std::mutex> lock(r.mutex);
  std::vector<std::weak_ptr<Chunk>>& open = r.open;
  std::shared_ptr<Chunk> chunk;
  for (auto it = open.begin(); it != open.end();) {
    std::shared_ptr<Chunk> c = it->lock();
    if (!c || c->size - c->used < kAlign) {
      it = open.erase(it);
      continue;
    }
    if (!chunk && c->size - c->used >= size) chunk = c;
    ++it;
  }
  if (!chunk) {
    chunk = new_chunk(size);
    open.push_back(chunk);
    std::erase_if(r.all, [](const std::weak_ptr<Chunk>& w) { return w.expired(); });
    r.all.push_back(chunk);
  }
  uint8_t* p = chunk->base + chunk->used;
  chunk->used += size;
  return std::shared_ptr<void>(chunk, p);
}

}  // namespace krt
