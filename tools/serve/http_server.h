// The REST front end of the Open Inference Protocol on cpp-httplib (Debian's compiled
// libcpp-httplib): a thread per connection from a fixed pool, per-read time-outs for slow
// clients, a body size limit, and JSON errors for every 4xx/5xx.
#pragma once

#include <memory>
#include <string>

namespace krt::serve {

class AccessLog;
class InferenceService;

struct HttpOptions {
  std::string host = "0.0.0.0";
  int port = 8080;          // 0: any free port (the bound one is port())
  int threads = 64;         // connections served at once (keep-alive holds one each)
  int read_timeout_s = 10;  // a client silent this long mid-request is dropped
  int write_timeout_s = 10;
  int keep_alive_timeout_s = 5;
};

class HttpServer {
 public:
  HttpServer(InferenceService& service, AccessLog& log, HttpOptions options);
  ~HttpServer();
  // Binds (throws std::runtime_error when the port is taken); returns the port.
  int bind();
  // Serves until stop(); run it on its own thread.
  void serve();
  // Stops accepting, lets requests in flight finish, and returns once they have.
  void stop();
  int port() const { return port_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
};

}  // namespace krt::serve
