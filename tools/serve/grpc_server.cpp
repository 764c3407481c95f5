#include "grpc_server.h"

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstring>
#include <stdexcept>
#include <type_traits>

#include "access_log.h"
#include "grpc_service.grpc.pb.h"
#include "rest_codec.h"
#include "service.h"

namespace krt::serve {

namespace {

using Clock = std::chrono::steady_clock;

grpc::StatusCode status_code(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::bad_request:
      return grpc::StatusCode::INVALID_ARGUMENT;
    case ErrorKind::not_found:
      return grpc::StatusCode::NOT_FOUND;
    case ErrorKind::too_large:
      return grpc::StatusCode::RESOURCE_EXHAUSTED;
    case ErrorKind::unavailable:
      return grpc::StatusCode::UNAVAILABLE;
    case ErrorKind::internal:
      return grpc::StatusCode::INTERNAL;
  }
  return grpc::StatusCode::INTERNAL;
}

[[noreturn]] void bad(const std::string& message) {
  throw ServeError(ErrorKind::bad_request, message);
}

// Copies typed contents into `t`, checking the count and (for narrower types) the range.
template <class Field, class T>
void copy_contents(const Field& values, Tensor& t, const std::string& name, const char* field) {
  if (static_cast<int64_t>(values.size()) != t.size())
    bad("input '" + name + "': shape " + shape_text(t.shape()) + " has " +
        std::to_string(t.size()) + " elements but " + field + " has " +
        std::to_string(values.size()));
  T* out = static_cast<T*>(t.data());
  for (int64_t i = 0; i < t.size(); ++i) {
    auto v = values.Get(static_cast<int>(i));
    if constexpr (std::is_integral_v<T>)
      if (static_cast<decltype(v)>(static_cast<T>(v)) != v)
        bad("input '" + name + "': element " + std::to_string(i) + " is out of range");
    out[i] = static_cast<T>(v);
  }
}

void decode_contents(const inference::InferTensorContents& c, Tensor& t, const std::string& name) {
  switch (t.dtype()) {
    case DType::f32:
      return copy_contents<decltype(c.fp32_contents()), float>(c.fp32_contents(), t, name,
                                                               "fp32_contents");
    case DType::f64:
      return copy_contents<decltype(c.fp64_contents()), double>(c.fp64_contents(), t, name,
                                                                "fp64_contents");
    case DType::i32:
      return copy_contents<decltype(c.int_contents()), int32_t>(c.int_contents(), t, name,
                                                                "int_contents");
    case DType::i64:
      return copy_contents<decltype(c.int64_contents()), int64_t>(c.int64_contents(), t, name,
                                                                  "int64_contents");
    case DType::u8:
      return copy_contents<decltype(c.uint_contents()), uint8_t>(c.uint_contents(), t, name,
                                                                 "uint_contents");
    case DType::f16:
    case DType::bf16:
      bad("input '" + name + "': FP16 and BF16 have no typed contents; send raw_input_contents");
  }
}

InferRequest decode_request(const inference::ModelInferRequest& req, const RequestLimits& limits) {
  InferRequest request;
  request.model = req.model_name();
  request.version = req.model_version();
  request.id = req.id();
  const bool raw = req.raw_input_contents_size() > 0;
  if (raw && req.raw_input_contents_size() != req.inputs_size())
    bad("raw_input_contents has " + std::to_string(req.raw_input_contents_size()) +
        " entries for " + std::to_string(req.inputs_size()) + " inputs");
  if (req.inputs_size() == 0) bad("the request has no inputs");
  for (int i = 0; i < req.inputs_size(); ++i) {
    const auto& in = req.inputs(i);
    InferInput input;
    input.name = in.name();
    input.datatype = in.datatype();
    DType dtype = parse_datatype(in.datatype(), in.name());
    Shape shape(in.shape().begin(), in.shape().end());
    checked_elements(shape, in.name(), limits);
    input.data = Tensor(dtype, shape);
    if (raw) {
      if (in.has_contents()) bad("input '" + in.name() + "' has both contents and raw contents");
      const std::string& bytes = req.raw_input_contents(i);
      if (bytes.size() != input.data.nbytes())
        bad("input '" + in.name() + "': raw_input_contents has " + std::to_string(bytes.size()) +
            " bytes but shape " + shape_text(shape) + " of " + in.datatype() + " takes " +
            std::to_string(input.data.nbytes()));
      std::memcpy(input.data.data(), bytes.data(), bytes.size());
    } else {
      decode_contents(in.contents(), input.data, in.name());
    }
    request.inputs.push_back(std::move(input));
  }
  for (const auto& out : req.outputs()) request.outputs.push_back({out.name(), false});
  return request;
}

void fill_tensor_metadata(const TensorInfo& info,
                          inference::ModelMetadataResponse::TensorMetadata* out) {
  out->set_name(info.name);
  out->set_datatype(datatype_name(info.dtype));
  for (int64_t d : info.shape) out->add_shape(d);
}

}  // namespace

class GrpcServiceImpl final : public inference::GRPCInferenceService::Service {
 public:
  GrpcServiceImpl(InferenceService& service, AccessLog& log) : service_(service), log_(log) {}

  grpc::Status ServerLive(grpc::ServerContext*, const inference::ServerLiveRequest*,
                          inference::ServerLiveResponse* res) override {
    res->set_live(service_.live());
    return grpc::Status::OK;
  }
  grpc::Status ServerReady(grpc::ServerContext*, const inference::ServerReadyRequest*,
                           inference::ServerReadyResponse* res) override {
    res->set_ready(service_.ready());
    return grpc::Status::OK;
  }
  grpc::Status ModelReady(grpc::ServerContext*, const inference::ModelReadyRequest* req,
                          inference::ModelReadyResponse* res) override {
    // An unknown model is simply not ready: the message has a boolean for that.
    try {
      service_.model(req->name(), req->version());
      res->set_ready(service_.ready());
    } catch (const ServeError&) {
      res->set_ready(false);
    }
    return grpc::Status::OK;
  }
  grpc::Status ServerMetadata(grpc::ServerContext*, const inference::ServerMetadataRequest*,
                              inference::ServerMetadataResponse* res) override {
    res->set_name(kServerName);
    res->set_version(krt::version());
    for (const std::string& e : kExtensions) res->add_extensions(e);
    return grpc::Status::OK;
  }
  grpc::Status ModelMetadata(grpc::ServerContext*, const inference::ModelMetadataRequest* req,
                             inference::ModelMetadataResponse* res) override {
    return guarded([&] {
      const ServedModel& m = service_.model(req->name(), req->version());
      res->set_name(m.name);
      for (const std::string& v : service_.versions(m.name)) res->add_versions(v);
      res->set_platform("kerasrt");
      for (const TensorInfo& t : m.inputs) fill_tensor_metadata(t, res->add_inputs());
      for (const TensorInfo& t : m.outputs) fill_tensor_metadata(t, res->add_outputs());
    });
  }
  grpc::Status ModelInfer(grpc::ServerContext* ctx, const inference::ModelInferRequest* req,
                          inference::ModelInferResponse* res) override {
    const Clock::time_point start = Clock::now();
    grpc::Status status = guarded([&] {
      InferRequest request = decode_request(*req, service_.limits());
      InferResponse response = service_.infer(request, "grpc");
      res->set_model_name(response.model);
      res->set_model_version(response.version);
      res->set_id(response.id);
      for (const InferOutput& o : response.outputs) {
        auto* out = res->add_outputs();
        out->set_name(o.name);
        out->set_datatype(datatype_name(o.data.dtype()));
        for (int64_t d : o.data.shape()) out->add_shape(d);
        res->add_raw_output_contents(static_cast<const char*>(o.data.data()), o.data.nbytes());
      }
    });
    if (log_.enabled()) {
      AccessRecord r;
      r.protocol = "grpc";
      r.remote = ctx->peer();
      r.method = "ModelInfer";
      r.path = req->model_name();
      r.status = status.error_code();
      r.request_bytes = req->ByteSizeLong();
      r.response_bytes = status.ok() ? res->ByteSizeLong() : 0;
      r.ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
      r.error = status.error_message();
      log_.write(r);
    }
    return status;
  }

 private:
  template <class F>
  grpc::Status guarded(F&& f) {
    try {
      f();
      return grpc::Status::OK;
    } catch (const ServeError& e) {
      return grpc::Status(status_code(e.kind()), e.what());
    } catch (const std::exception& e) {
      return grpc::Status(grpc::StatusCode::INTERNAL, e.what());
    }
  }

  InferenceService& service_;
  AccessLog& log_;
};

struct GrpcServer::Impl {
  InferenceService& service;
  GrpcOptions options;
  GrpcServiceImpl impl;
  std::unique_ptr<grpc::Server> server;
  Impl(InferenceService& s, AccessLog& log, GrpcOptions o) : service(s), options(o), impl(s, log) {}
};

GrpcServer::GrpcServer(InferenceService& service, AccessLog& log, GrpcOptions options)
    : impl_(std::make_unique<Impl>(service, log, options)) {}

GrpcServer::~GrpcServer() { stop(0); }

int GrpcServer::start() {
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(impl_->options.host + ":" + std::to_string(impl_->options.port),
                           grpc::InsecureServerCredentials(), &port);
  // The body limit applies to gRPC messages too (gRPC's own default is 4 MiB).
  builder.SetMaxReceiveMessageSize(
      static_cast<int>(std::min<int64_t>(impl_->service.limits().max_body_bytes, INT32_MAX)));
  builder.RegisterService(&impl_->impl);
  impl_->server = builder.BuildAndStart();
  if (!impl_->server || port == 0)
    throw std::runtime_error("cannot bind gRPC port " + std::to_string(impl_->options.port) +
                             " on " + impl_->options.host + " (in use?)");
  return port;
}

void GrpcServer::stop(int grace_ms) {
  if (!impl_->server) return;
  impl_->server->Shutdown(std::chrono::system_clock::now() + std::chrono::milliseconds(grace_ms));
  impl_->server->Wait();
  impl_->server.reset();
}

}  // namespace krt::serve
