// Small helpers to throw krt::Error with a formatted message.
#pragma once

#include <sstream>
#include <string>
#include <utility>

#include "core/text.h"
#include "kerasrt/error.h"

namespace krt {

template <class... Args>
std::string str_cat(Args&&... args) {
  std::ostringstream out;
  (out << ... << std::forward<Args>(args));
  return out.str();
}

// Messages quote names and keys from files: printable_text keeps raw bytes out of them.
template <class... Args>
[[noreturn]] void fail(ErrorCode code, Args&&... args) {
  throw Error(code, printable_text(str_cat(std::forward<Args>(args)...)));
}

}  // namespace krt
