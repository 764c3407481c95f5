#include "access_log.h"

#include <chrono>
#include <ctime>
#include <stdexcept>

#include "rest_codec.h"

namespace krt::serve {

AccessLog::AccessLog(const std::string& destination) {
  if (destination == "off") return;
  if (destination == "-") {
    file_ = stderr;
    return;
  }
  file_ = std::fopen(destination.c_str(), "a");
  if (!file_) throw std::runtime_error("--access-log: cannot open '" + destination + "'");
  owned_ = true;
}

AccessLog::~AccessLog() {
  if (owned_) std::fclose(file_);
}

namespace {

std::string utc_now() {
  auto now = std::chrono::system_clock::now();
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  int ms = static_cast<int>(
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[96];  // room for any int the format could print, so GCC sees no truncation
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
  return buf;
}

}  // namespace

void AccessLog::write(const AccessRecord& r) {
  if (!file_) return;
  std::string line = "{\"time\":\"" + utc_now() + "\",\"protocol\":\"" + r.protocol +
                     "\",\"remote\":" + json_string(r.remote) +
                     ",\"method\":" + json_string(r.method) + ",\"path\":" + json_string(r.path) +
                     ",\"status\":" + std::to_string(r.status) +
                     ",\"request_bytes\":" + std::to_string(r.request_bytes) +
                     ",\"response_bytes\":" + std::to_string(r.response_bytes);
  if (r.ms >= 0) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3f", r.ms);
    line += ",\"ms\":" + std::string(buf);
  }
  if (!r.error.empty()) line += ",\"error\":" + json_string(r.error);
  line += "}\n";
  std::lock_guard<std::mutex> lock(mutex_);
  std::fputs(line.c_str(), file_);
  std::fflush(file_);
}

}  // namespace krt::serve
