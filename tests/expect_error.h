// Runs `f` and returns the krt::Error it throws; records a test failure when it throws none.
#pragma once

#include <gtest/gtest.h>

#include "kerasrt/error.h"

namespace krt::test {

template <class F>
Error expect_error(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << "expected krt::Error";
  return Error(ErrorCode::internal, "");
}

}  // namespace krt::test
