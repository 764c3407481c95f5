// Where the tests find their data.
#pragma once

#include <string>

namespace krt::test {

// The project's own copies of fixtures and test files (tests/data).
std::string data_dir();
// ../shared/fixtures beside the project, or "" when it is absent (tests using it then skip).
std::string shared_fixtures_dir();
// The built kerasrt command-line tool.
std::string cli_path();

}  // namespace krt::test
