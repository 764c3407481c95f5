// kerasrt-serve: the server behind `kerasrt serve` (a separate binary, so that the kerasrt
// tool and library never link gRPC). Loads the model repository, serves REST and gRPC until
// SIGINT or SIGTERM, then shuts down gracefully: not ready, stop accepting, finish what is in
// flight, exit 0.
#include <pthread.h>
#include <signal.h>

#include <iostream>
#include <thread>

#include "access_log.h"
#include "cli_common.h"
#include "grpc_server.h"
#include "http_server.h"
#include "metrics.h"
#include "model_repository.h"
#include "service.h"

namespace {

using namespace krt;
using namespace krt::serve;
using cli::ArgReader;
using cli::parse_int;

struct ServeArgs {
  std::string repository;
  RepositoryOptions models;
  RequestLimits limits;
  HttpOptions http;
  GrpcOptions grpc;
  std::string access_log = "-";
  int64_t grace_s = 30;
};

ServeArgs parse_args(const std::vector<std::string>& args) {
  ServeArgs s;
  ArgReader a(args);
  const int64_t big = int64_t{1} << 40;
  while (a.next()) {
    if (a.is("--model-repository"))
      s.repository = a.value();
    else if (a.is("--host"))
      s.http.host = s.grpc.host = a.value();
    else if (a.is("--http-port"))
      s.http.port = static_cast<int>(parse_int("--http-port", a.value(), 0, 65535));
    else if (a.is("--grpc-port"))
      s.grpc.port = static_cast<int>(parse_int("--grpc-port", a.value(), -1, 65535));
    else if (a.is("--device"))
      s.models.compile.device = cli::parse_device_flag(a.value());
    else if (a.is("--precision"))
      s.models.compile.precision = cli::parse_precision_flag(a.value());
    else if (a.is("--threads"))
      s.models.compile.threads = static_cast<int>(parse_int("--threads", a.value(), 0, 4096));
    else if (a.is("--instances"))
      s.models.instances = static_cast<int>(parse_int("--instances", a.value(), 1, 256));
    else if (a.is("--max-batch"))
      s.models.batching.max_batch = parse_int("--max-batch", a.value(), 0, 1 << 20);
    else if (a.is("--max-queue-delay-us"))
      s.models.batching.max_queue_delay_us =
          parse_int("--max-queue-delay-us", a.value(), 0, 60000000);
    else if (a.is("--max-queue"))
      s.models.batching.max_queue = parse_int("--max-queue", a.value(), 1, 1 << 24);
    else if (a.is("--request-timeout-ms"))
      s.models.batching.timeout_ms = parse_int("--request-timeout-ms", a.value(), 1, 3600000);
    else if (a.is("--max-body-bytes"))
      s.limits.max_body_bytes = parse_int("--max-body-bytes", a.value(), 1024, big);
    else if (a.is("--max-tensor-elements"))
      s.limits.max_tensor_elements = parse_int("--max-tensor-elements", a.value(), 1, big);
    else if (a.is("--http-threads"))
      s.http.threads = static_cast<int>(parse_int("--http-threads", a.value(), 1, 4096));
    else if (a.is("--read-timeout-s"))
      s.http.read_timeout_s = s.http.write_timeout_s =
          static_cast<int>(parse_int("--read-timeout-s", a.value(), 1, 3600));
    else if (a.is("--access-log"))
      s.access_log = a.value();
    else if (a.is("--shutdown-grace-s"))
      s.grace_s = parse_int("--shutdown-grace-s", a.value(), 0, 3600);
    else
      a.unknown();
  }
  if (s.repository.empty()) throw cli::UsageError("serve needs --model-repository DIR");
  // A JSON number takes at least two bytes ("0,"), so the body limit bounds the values.
  s.limits.max_json_values = std::max<int64_t>(s.limits.max_body_bytes / 2, 1);
  return s;
}

int run_server(const ServeArgs& args) {
  // Signals are taken by sigwait below, never by the server's threads (which inherit this).
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);  // a client that hangs up must not end the server

  Metrics metrics;
  ModelRepository repository(args.repository, args.models, metrics, std::cout);
  if (repository.size() == 0)
    throw Error(ErrorCode::invalid_argument,
                "no model could be loaded from '" + args.repository + "'");
  AccessLog access_log(args.access_log);
  InferenceService service(repository, metrics, args.limits);
  HttpServer http(service, access_log, args.http);
  const int http_port = http.bind();
  GrpcServer grpc(service, access_log, args.grpc);
  const int grpc_port = args.grpc.port < 0 ? -1 : grpc.start();
  std::thread http_thread([&] { http.serve(); });
  service.set_ready(true);
  // Tests and scripts read the ports from this line (with --http-port 0, any free port).
  std::cout << "kerasrt serve: " << repository.size() << " model version(s) ready; HTTP on "
            << args.http.host << ":" << http_port;
  if (grpc_port >= 0) std::cout << ", gRPC on " << args.grpc.host << ":" << grpc_port;
  std::cout << std::endl;

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  std::cout << "kerasrt serve: " << (signal_number == SIGINT ? "SIGINT" : "SIGTERM")
            << ": finishing requests in flight" << std::endl;
  service.set_ready(false);
  http.stop();  // returns at once; the serving thread ends once in-flight requests are done
  http_thread.join();
  if (grpc_port >= 0) grpc.stop(static_cast<int>(args.grace_s * 1000));
  repository.stop();
  std::cout << "kerasrt serve: stopped" << std::endl;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  // `kerasrt serve ARGS` runs `kerasrt-serve serve ARGS`; both spellings work here.
  if (!args.empty() && args[0] == "serve") args.erase(args.begin());
  for (const std::string& a : args)
    if (a == "-h" || a == "--help") {
      std::cout << krt::cli::command_help("serve");
      return 0;
    }
  try {
    return run_server(parse_args(args));
  } catch (const krt::cli::UsageError& e) {
    std::cerr << "error: " << krt::cli::one_line(e.what()) << " (see kerasrt serve --help)\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "error: " << krt::cli::one_line(e.what()) << "\n";
    return 1;
  }
}
