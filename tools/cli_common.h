// Shared pieces of the kerasrt command-line tool: argument errors, number parsing, model
// loading and the per-command help texts.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include "kerasrt/kerasrt.h"

namespace krt::cli {

// A mistake in the command line: printed as one `error:` line, exit status 2.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The error contract is one line: `s` with any newline folded into a space.
std::string one_line(std::string s);

// A finite number / a whole number in [lo, hi]; anything else is a UsageError naming `flag`.
double parse_number(const std::string& flag, const std::string& text);
int64_t parse_int(const std::string& flag, const std::string& text, int64_t lo, int64_t hi);

// Walks an argument list: options with values, flags and positionals, with clear errors.
class ArgReader {
 public:
  explicit ArgReader(const std::vector<std::string>& args) : args_(args) {}
  bool next();  // advances; false at the end
  const std::string& arg() const { return args_[i_]; }
  bool is(const char* a, const char* b = nullptr) const { return arg() == a || (b && arg() == b); }
  const std::string& value();  // the option's value; UsageError when missing
  bool is_option() const { return arg().size() > 1 && arg()[0] == '-'; }
  [[noreturn]] void unknown() const;  // UsageError: unknown option / unexpected argument

 private:
  const std::vector<std::string>& args_;
  size_t i_ = static_cast<size_t>(-1);
};

// --device / --precision values; a UsageError naming the choices otherwise.
Device parse_device_flag(const std::string& text);
Precision parse_precision_flag(const std::string& text);
// "placement on cuda:0 (fp32): 40 nodes on cuda, 1 nodes on cpu, 2 copies between memory spaces"
std::string placement_text(const CompileReport& report);

// Loads MODEL, or an architecture JSON with its weights-only .h5 when `weights` is given.
Model load_model(const std::string& path, const std::string& weights = "");

// Model inputs with every dynamic dimension set to `batch` (dim 0) or `fill` (others).
// `-i` values: IN.npy files in the model's input order, or NAME=IN.npy by input name
// (cli_inputs.cpp).
std::vector<Tensor> read_input_files(const Model& model, const std::vector<std::string>& specs);
std::vector<Shape> concrete_input_shapes(const Model& model, int64_t batch, int64_t fill = 1);

// Ends the process with `status` once stdout and stderr are flushed, without destructors: for a
// command whose last act is its result (run), so the OS takes back the weights, oneDNN's
// kernels and the arenas at once rather than the process freeing them piece by piece.
[[noreturn]] void exit_now(int status);

// The help text of one command ("" if the command is unknown), and the overview of all.
std::string command_help(const std::string& command);
std::string overview_help();

// The subcommands (each in its own tools/cli_*.cpp). `args` excludes the command name.
int cmd_summary(const std::vector<std::string>& args);
int cmd_layers(const std::vector<std::string>& args);
int cmd_run(const std::vector<std::string>& args);
int cmd_verify(const std::vector<std::string>& args);
int cmd_dot(const std::vector<std::string>& args);
int cmd_bench(const std::vector<std::string>& args);
int cmd_peer_bench(const std::vector<std::string>& args);
int cmd_devices(const std::vector<std::string>& args);
// Execs kerasrt-serve (tools/serve/), built beside the kerasrt tool when KERASRT_SERVE is on.
int cmd_serve(const std::vector<std::string>& args);

}  // namespace krt::cli
