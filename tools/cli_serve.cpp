// `kerasrt serve`: runs the kerasrt-serve binary installed beside this one. The server links
// gRPC and an HTTP library; keeping it a separate binary keeps them out of the kerasrt tool.
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "cli_common.h"

namespace krt::cli {

int cmd_serve(const std::vector<std::string>& args) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path self = fs::read_symlink("/proc/self/exe", ec);
  fs::path server = self.parent_path() / "kerasrt-serve";
  if (ec || !fs::exists(server, ec))
    throw Error(ErrorCode::unsupported,
                "this kerasrt was built without the server (kerasrt-serve is not beside " +
                    self.string() +
                    "); configure with -DKERASRT_SERVE=ON after scripts/install_deps.sh");
  std::vector<std::string> argv_strings = {server.string(), "serve"};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& s : argv_strings) argv.push_back(s.data());
  argv.push_back(nullptr);
  execv(argv[0], argv.data());
  throw Error(ErrorCode::io_error, "cannot run " + server.string() + ": " + std::strerror(errno));
}

}  // namespace krt::cli
