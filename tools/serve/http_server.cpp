// The one file that includes httplib.h: its declarations are heavy, its code is in
// Debian's shared library.
#include "http_server.h"

#include <httplib.h>

#include <chrono>
#include <stdexcept>

#include "access_log.h"
#include "kerasrt/kerasrt.h"
#include "rest_codec.h"
#include "service.h"

namespace krt::serve {

namespace {

using Clock = std::chrono::steady_clock;

// Set when routing starts, read by the logger, on the connection's thread.
thread_local Clock::time_point request_start;
thread_local bool request_timed = false;

const char* status_reason(int status) {
  switch (status) {
    case 400:
      return "bad request";
    case 404:
      return "not found";
    case 405:
      return "method not allowed";
    case 408:
      return "request timed out";
    case 413:
      return "request body too large";
    case 414:
      return "request URI too long";
    case 415:
      return "unsupported content encoding";
    case 503:
      return "service unavailable";
    default:
      return "request failed";
  }
}

void send_json(httplib::Response& res, int status, const std::string& body) {
  res.status = status;
  res.set_content(body, "application/json");
}

void send_error(httplib::Response& res, const ServeError& e) {
  send_json(res, http_status(e.kind()), error_json(e.what()));
}

// Inference-Header-Content-Length: digits only, or -1 when absent.
int64_t header_length(const httplib::Request& req) {
  if (!req.has_header("Inference-Header-Content-Length")) return -1;
  const std::string text = req.get_header_value("Inference-Header-Content-Length");
  if (text.empty() || text.size() > 18 || text.find_first_not_of("0123456789") != std::string::npos)
    throw ServeError(
        ErrorKind::bad_request,
        "Inference-Header-Content-Length must be a byte count, got '" + text.substr(0, 32) + "'");
  return std::stoll(text);
}

}  // namespace

struct HttpServer::Impl {
  InferenceService& service;
  AccessLog& log;
  HttpOptions options;
  httplib::Server server;

  Impl(InferenceService& s, AccessLog& l, HttpOptions o) : service(s), log(l), options(o) {}

  // Runs a handler, turning ServeError into the protocol's error response.
  template <class F>
  void guarded(httplib::Response& res, F&& f) {
    try {
      f();
    } catch (const ServeError& e) {
      send_error(res, e);
    } catch (const std::exception& e) {
      send_json(res, 500, error_json(e.what()));
    }
  }

  void routes() {
    const std::string model = R"(/v2/models/([^/]+)(?:/versions/([^/]+))?)";
    server.Get("/v2/health/live", [](const httplib::Request&, httplib::Response& res) {
      send_json(res, 200, R"({"live":true})");
    });
    server.Get("/v2/health/ready", [this](const httplib::Request&, httplib::Response& res) {
      bool ready = service.ready();
      send_json(res, ready ? 200 : 503, ready ? R"({"ready":true})" : R"({"ready":false})");
    });
    server.Get("/v2", [](const httplib::Request&, httplib::Response& res) {
      send_json(res, 200, server_metadata_json(krt::version()));
    });
    server.Get(model, [this](const httplib::Request& req, httplib::Response& res) {
      guarded(res, [&] {
        const ServedModel& m = service.model(req.matches[1], req.matches[2]);
        send_json(res, 200, model_metadata_json(m, service.versions(m.name)));
      });
    });
    server.Get(model + "/ready", [this](const httplib::Request& req, httplib::Response& res) {
      guarded(res, [&] {
        const ServedModel& m = service.model(req.matches[1], req.matches[2]);
        if (!service.ready())
          throw ServeError(ErrorKind::unavailable, "the server is shutting down");
        send_json(res, 200, model_ready_json(m));
      });
    });
    server.Post(model + "/infer", [this](const httplib::Request& req, httplib::Response& res) {
      guarded(res, [&] {
        InferRequest request = parse_infer_request(req.body, header_length(req), req.matches[1],
                                                   req.matches[2], service.limits());
        EncodedResponse encoded = encode_infer_response(service.infer(request, "http"));
        if (encoded.binary) {
          res.set_header("Inference-Header-Content-Length", std::to_string(encoded.json_length));
          res.set_content(std::move(encoded.body), "application/octet-stream");
        } else {
          res.set_content(std::move(encoded.body), "application/json");
        }
        res.status = 200;
      });
    });
    server.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
      res.set_content(service.metrics().text(), "text/plain; version=0.0.4");
    });
  }

  void hooks() {
    server.set_pre_routing_handler([](const httplib::Request& req, httplib::Response& res) {
      request_start = Clock::now();
      request_timed = true;
      // httplib would inflate compressed bodies before the size limit applies: refuse them.
      const std::string encoding = req.get_header_value("Content-Encoding");
      if (!encoding.empty() && encoding != "identity") {
        send_json(res, 415,
                  error_json("Content-Encoding '" + encoding.substr(0, 32) + "' is not accepted"));
        return httplib::Server::HandlerResponse::Handled;
      }
      return httplib::Server::HandlerResponse::Unhandled;
    });
    // Every 4xx/5xx gets a JSON body that names the problem; ours already have one.
    server.set_error_handler(
        httplib::Server::HandlerWithResponse([](const httplib::Request&, httplib::Response& res) {
          if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
          send_json(res, res.status, error_json(status_reason(res.status)));
          return httplib::Server::HandlerResponse::Handled;
        }));
    server.set_exception_handler(
        [](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
          std::string what = "internal error";
          try {
            std::rethrow_exception(ep);
          } catch (const std::exception& e) {
            what = e.what();
          } catch (...) {
          }
          send_json(res, 500, error_json(what));
        });
    server.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
      if (!log.enabled()) return;
      AccessRecord r;
      r.remote = req.remote_addr + ":" + std::to_string(req.remote_port);
      r.method = req.method;
      r.path = req.path;
      r.status = res.status;
      r.request_bytes = req.body.size();
      r.response_bytes = res.body.size();
      if (request_timed)
        r.ms = std::chrono::duration<double, std::milli>(Clock::now() - request_start).count();
      request_timed = false;
      if (res.status >= 400 && res.body.size() < 512) r.error = res.body;
      log.write(r);
    });
  }
};

HttpServer::HttpServer(InferenceService& service, AccessLog& log, HttpOptions options)
    : impl_(std::make_unique<Impl>(service, log, options)) {
  httplib::Server& s = impl_->server;
  const int threads = std::max(options.threads, 1);
  s.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
  s.set_payload_max_length(static_cast<size_t>(service.limits().max_body_bytes));
  s.set_read_timeout(options.read_timeout_s, 0);
  s.set_write_timeout(options.write_timeout_s, 0);
  s.set_keep_alive_timeout(options.keep_alive_timeout_s);
  // httplib's default closes a connection after 5 requests; clients reuse theirs for long.
  s.set_keep_alive_max_count(100000);
  s.set_tcp_nodelay(true);  // responses are small and latency matters
  impl_->routes();
  impl_->hooks();
}

HttpServer::~HttpServer() { stop(); }

int HttpServer::bind() {
  if (impl_->options.port == 0) {
    port_ = impl_->server.bind_to_any_port(impl_->options.host);
    if (port_ <= 0) throw std::runtime_error("cannot bind an HTTP port on " + impl_->options.host);
  } else {
    if (!impl_->server.bind_to_port(impl_->options.host, impl_->options.port))
      throw std::runtime_error("cannot bind HTTP port " + std::to_string(impl_->options.port) +
                               " on " + impl_->options.host + " (in use?)");
    port_ = impl_->options.port;
  }
  return port_;
}

void HttpServer::serve() { impl_->server.listen_after_bind(); }

void HttpServer::stop() { impl_->server.stop(); }

}  // namespace krt::serve
