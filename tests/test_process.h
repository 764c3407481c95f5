// Running the command-line tool from tests.
#pragma once

#include <string>
#include <vector>

namespace krt::test {

struct ProcessResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs `program` with `args` (no shell interpretation of the arguments), capturing output.
ProcessResult run_process(const std::string& program, const std::vector<std::string>& args);

}  // namespace krt::test
