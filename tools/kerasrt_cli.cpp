// The kerasrt command-line tool. Other tools rely on its contract: outputs are written as
// OUTDIR/output_<i>.npy in the model's output order, `bench --json` and `peer-bench` print one
// JSON line, and any failure prints one line "error: ..." on stderr and exits non-zero
// (2 for usage errors, 3 for outputs outside tolerance).
#include <algorithm>
#include <iostream>
#include <string>
#include <vector>

#include "cli_common.h"

namespace {

int dispatch(const std::string& command, const std::vector<std::string>& rest) {
  using namespace krt::cli;
  if (command == "summary") return cmd_summary(rest);
  if (command == "run") return cmd_run(rest);
  if (command == "verify") return cmd_verify(rest);
  if (command == "dot") return cmd_dot(rest);
  if (command == "bench") return cmd_bench(rest);
  if (command == "peer-bench") return cmd_peer_bench(rest);
  if (command == "layers") return cmd_layers(rest);
  if (command == "devices") return cmd_devices(rest);
  if (command == "serve") return cmd_serve(rest);
  throw UsageError("unknown command '" + command + "'");
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  try {
    if (args.empty() || args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
      if (args.size() == 2 && !krt::cli::command_help(args[1]).empty()) {
        std::cout << krt::cli::command_help(args[1]);
        return 0;
      }
      std::cout << krt::cli::overview_help();
      return args.empty() ? 2 : 0;
    }
    std::string command = args[0];
    std::vector<std::string> rest(args.begin() + 1, args.end());
    bool wants_help = std::any_of(rest.begin(), rest.end(),
                                  [](const std::string& a) { return a == "-h" || a == "--help"; });
    if (wants_help && !krt::cli::command_help(command).empty()) {
      std::cout << krt::cli::command_help(command);
      return 0;
    }
    return dispatch(command, rest);
  } catch (const krt::cli::UsageError& e) {
    std::cerr << "error: " << krt::cli::one_line(e.what()) << " (see kerasrt --help)\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "error: " << krt::cli::one_line(e.what()) << "\n";
    return 1;
  }
}
