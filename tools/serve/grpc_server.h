// The gRPC front end: `inference.GRPCInferenceService` (proto/grpc_service.proto) on gRPC's
// synchronous server. Inputs come as raw_input_contents or typed contents; outputs go back as
// raw_output_contents, as Triton does.
#pragma once

#include <memory>
#include <string>

namespace krt::serve {

class AccessLog;
class InferenceService;

struct GrpcOptions {
  std::string host = "0.0.0.0";
  int port = 8081;  // 0: any free port
};

class GrpcServer {
 public:
  GrpcServer(InferenceService& service, AccessLog& log, GrpcOptions options);
  ~GrpcServer();
  // Binds and starts serving on gRPC's own threads; returns the port. Throws
  // std::runtime_error when the port cannot be bound.
  int start();
  // Stops accepting and waits (up to `grace_ms`) for calls in flight.
  void stop(int grace_ms);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace krt::serve
