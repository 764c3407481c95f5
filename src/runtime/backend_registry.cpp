// The backend registry, device and precision names, and the host defaults of Backend.
#include "runtime/backend_registry.h"

#include <sys/mman.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>

#include "core/check.h"

namespace krt {

namespace {

// Host memory to host memory, converting the dtype when it differs.
void host_copy(const Tensor& src, Tensor& dst) {
  if (src.dtype() == dst.dtype()) {
    if (src.nbytes()) std::memcpy(dst.data(), src.data(), src.nbytes());
    return;
  }
  Tensor converted = src.cast(dst.dtype());
  std::memcpy(dst.data(), converted.data(), converted.nbytes());
}

}  // namespace

void Backend::copy_from_host(RunContext&, const Tensor& src, Tensor& dst) const {
  host_copy(src, dst);
}
void Backend::copy_to_host(RunContext&, const Tensor& src, Tensor& dst) const {
  host_copy(src, dst);
}

std::string Backend::device_name(int) const {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line))
    if (line.rfind("model name", 0) == 0 && line.find(':') != std::string::npos)
      return line.substr(line.find(':') + 2);
  return "host CPU";
}

void RunContext::mark_start() { start_ = std::chrono::steady_clock::now(); }
void RunContext::mark_end() { end_ = std::chrono::steady_clock::now(); }
double RunContext::elapsed_ms() {
  return std::chrono::duration<double, std::milli>(end_ - start_).count();
}

std::unique_ptr<RunContext> Backend::open_run(const CompileOptions&) const {
  return std::make_unique<RunContext>();
}

std::shared_ptr<void> allocate_host(size_t bytes) {
  // An arena of a few MB (a MobileNet's at batch 1: 4.8 MB) on transparent huge pages: its
  // first run took ~1,200 page faults on 4 KiB pages, 0.9 ms of a 6.2 ms first run. Below
  // kHugeArena, rounding up to a whole huge page would waste more than it saves.
  constexpr size_t kHuge = size_t{2} << 20, kHugeArena = size_t{2} << 20;
  if (bytes >= kHugeArena) {
    const size_t size = (bytes + 64 + kHuge - 1) / kHuge * kHuge;
    void* p = std::aligned_alloc(kHuge, size);
    if (!p) fail(ErrorCode::limit_exceeded, "cannot allocate ", bytes, " bytes of host memory");
    madvise(p, size, MADV_HUGEPAGE);
    return std::shared_ptr<void>(p, [](void* q) { std::free(q); });
  }
  // 64-byte aligned, for vector loads; uninitialized, as an arena's first writer fills it.
  void* p = std::aligned_alloc(64, (bytes + 63) / 64 * 64 + 64);
  if (!p) fail(ErrorCode::limit_exceeded, "cannot allocate ", bytes, " bytes of host memory");
  return std::shared_ptr<void>(p, [](void* q) { std::free(q); });
}

std::shared_ptr<void> Backend::allocate(size_t bytes, int) const { return allocate_host(bytes); }

void Backend::copy_within(RunContext&, const Tensor& src, Tensor& dst) const {
  host_copy(src, dst);
}

namespace {

struct Registry {
  std::mutex mutex;
  std::vector<std::shared_ptr<const Backend>> backends;
  std::vector<std::shared_ptr<const Backend>> retired;  // unregistered, kept alive
};

Registry& registry() {
  static Registry* r = [] {
    auto* reg =
        new Registry;  // never destroyed: backends may be used by static objects' destructors
    reg->backends = make_builtin_backends();
    return reg;
  }();
  return *r;
}

std::string registered_names() {
  std::string names;
  for (const Backend* b : registered_backends()) names += (names.empty() ? "" : ", ") + b->name();
  return names;
}

}  // namespace

void register_backend(std::shared_ptr<const Backend> backend) {
  if (!backend) fail(ErrorCode::invalid_argument, "register_backend: null backend");
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  for (const auto& b : r.backends)
    if (b->name() == backend->name())
      fail(ErrorCode::invalid_argument, "a backend named '", backend->name(),
           "' is already registered");
  r.backends.push_back(std::move(backend));
}

void unregister_backend(const std::string& name) {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  for (auto it = r.backends.begin(); it != r.backends.end(); ++it)
    if ((*it)->name() == name) {
      r.retired.push_back(std::move(*it));  // compiled models may still point at it
      r.backends.erase(it);
      return;
    }
}

const Backend* find_backend(const std::string& name) {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  for (const auto& b : r.backends)
    if (b->name() == name) return b.get();
  return nullptr;
}

std::vector<const Backend*> registered_backends() {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  std::vector<const Backend*> out;
  for (const auto& b : r.backends) out.push_back(b.get());
  return out;
}

const Backend& backend_for(const Device& device) {
  const Backend* b = find_backend(device.backend);
  if (!b)
    fail(ErrorCode::invalid_argument, "unknown device '", device.backend,
         "' (available: ", registered_names(), ")");
  std::string why = b->unavailable_reason();
  if (!why.empty())
    fail(ErrorCode::unsupported, "device '", device.to_string(), "' cannot run here: ", why);
  return *b;
}

Device Device::parse(const std::string& text) {
  Device d;
  size_t colon = text.find(':');
  d.backend = text.substr(0, colon);
  if (colon != std::string::npos) {
    std::string index = text.substr(colon + 1);
    char* end = nullptr;
    long v = index.empty() ? -1 : std::strtol(index.c_str(), &end, 10);
    if (index.empty() || *end != '\0' || v < 0 || v > 1024)
      fail(ErrorCode::invalid_argument, "device '", text,
           "': expected NAME or NAME:INDEX with INDEX a device number");
    d.index = static_cast<int>(v);
  }
  if (!find_backend(d.backend))
    fail(ErrorCode::invalid_argument, "unknown device '", text,
         "' (available: ", registered_names(), ")");
  return d;
}

std::string Device::to_string() const {
  const Backend* b = find_backend(backend);
  return b && b->memory(index).is_host() ? backend : backend + ":" + std::to_string(index);
}

const char* precision_name(Precision precision) {
  switch (precision) {
    case Precision::fp32:
      return "fp32";
    case Precision::tf32:
      return "tf32";
    case Precision::fp16:
      return "fp16";
    case Precision::bf16:
      return "bf16";
  }
  return "unknown";
}

Precision parse_precision(const std::string& text) {
  for (Precision p : {Precision::fp32, Precision::tf32, Precision::fp16, Precision::bf16})
    if (text == precision_name(p)) return p;
  fail(ErrorCode::invalid_argument, "unknown precision '", text,
       "' (expected fp32, tf32, fp16 or bf16)");
}

std::string device_name(const Device& device) {
  return backend_for(device).device_name(device.index);
}

std::vector<DeviceInfo> available_devices() {
  std::vector<DeviceInfo> out;
  for (const Backend* b : registered_backends()) {
    std::string why = b->unavailable_reason();
    out.push_back({b->name(), b->description(), why.empty(), why, b->precisions()});
  }
  return out;
}

}  // namespace krt
