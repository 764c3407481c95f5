#include "cli_common.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>

namespace krt::cli {

std::string one_line(std::string s) {
  for (char& c : s)
    if (c == '\n' || c == '\r') c = ' ';
  return s;
}

double parse_number(const std::string& flag, const std::string& text) {
  try {
    size_t used = 0;
    double v = std::stod(text, &used);
    if (used == text.size() && std::isfinite(v)) return v;
  } catch (const std::exception&) {
  }
  throw UsageError(flag + " expects a number, got '" + text + "'");
}

int64_t parse_int(const std::string& flag, const std::string& text, int64_t lo, int64_t hi) {
  try {
    size_t used = 0;
    long long v = std::stoll(text, &used);
    if (used == text.size() && v >= lo && v <= hi) return v;
  } catch (const std::exception&) {
  }
  throw UsageError(flag + " expects a whole number from " + std::to_string(lo) + " to " +
                   std::to_string(hi) + ", got '" + text + "'");
}

void exit_now(int status) {
  // Freeing a MobileNet's compiled model piece by piece (2 MB weight chunks, oneDNN's kernels
  // and its primitive cache at static destruction) took ~0.5 ms of a 19 ms `kerasrt run`.
  std::cout.flush();
  std::cerr.flush();
  std::fflush(nullptr);
  std::_Exit(status);
}

bool ArgReader::next() { return ++i_ < args_.size(); }

const std::string& ArgReader::value() {
  if (i_ + 1 >= args_.size()) throw UsageError(args_[i_] + " needs a value");
  return args_[++i_];
}

void ArgReader::unknown() const {
  if (is_option()) throw UsageError("unknown option '" + arg() + "'");
  throw UsageError("unexpected argument '" + arg() + "'");
}

Device parse_device_flag(const std::string& text) {
  try {
    return Device::parse(text);
  } catch (const Error& e) {
    throw UsageError(std::string("--device: ") + e.what());
  }
}

Precision parse_precision_flag(const std::string& text) {
  try {
    return parse_precision(text);
  } catch (const Error& e) {
    throw UsageError(std::string("--precision: ") + e.what());
  }
}

std::string placement_text(const CompileReport& report) {
  std::string text = "placement on " + report.device + " (" + report.precision + "): ";
  bool first = true;
  for (const auto& [backend, count] : report.nodes_per_backend) {
    text += (first ? "" : ", ") + std::to_string(count) + " nodes on " + backend;
    first = false;
  }
  if (first) text += "no nodes";
  return text + ", " + std::to_string(report.copies) + " copies between memory spaces";
}

int cmd_devices(const std::vector<std::string>& args) {
  ArgReader a(args);
  while (a.next()) a.unknown();
  for (const DeviceInfo& d : available_devices()) {
    std::string precisions;
    for (Precision p : d.precisions)
      precisions += std::string(precisions.empty() ? "" : ",") + precision_name(p);
    std::cout << d.name << "\t"
              << (d.available ? "available" : "unavailable: " + d.unavailable_reason) << "\t"
              << precisions << "\t" << d.description << "\n";
  }
  return 0;
}

Model load_model(const std::string& path, const std::string& weights) {
  return weights.empty() ? load(path) : load(path, weights);
}

std::vector<Shape> concrete_input_shapes(const Model& model, int64_t batch, int64_t fill) {
  std::vector<Shape> shapes;
  for (const TensorInfo& in : model.inputs()) {
    Shape s = in.shape;
    for (size_t d = 0; d < s.size(); ++d)
      if (s[d] == dynamic) s[d] = d == 0 ? batch : fill;
    shapes.push_back(s);
  }
  return shapes;
}

namespace {

// Synopsis, description and examples per command: `kerasrt CMD --help` prints one entry.
const std::map<std::string, std::string>& help_texts() {
  static const std::map<std::string, std::string> texts = {
      {"summary",
       "kerasrt summary MODEL [--weights W.h5] [--json] [--device D] [--precision P]\n"
       "    Print the Keras-style table of layers, output shapes and parameter counts. With "
       "--json,\n"
       "    print one JSON object: name, inputs, outputs, layers (name, class, output_shapes,\n"
       "    params) and total params. With --device, also compile for device D (see `kerasrt\n"
       "    devices`) and show the placement: nodes per backend, copies, and why any node falls\n"
       "    back to the cpu.\n"
       "  examples:\n"
       "    kerasrt summary decoder.keras\n"
       "    kerasrt summary decoder.keras --device cuda --precision fp16\n"
       "    kerasrt summary decoder.keras --json | jq '.layers[].name'\n"},
      {"run",
       "kerasrt run MODEL [--weights W.h5] (-i IN.npy ... | --image IMG ...) [-o OUTDIR] "
       "[--print]\n"
       "            [--device D] [--precision P] [--threads T] [--expect OUT.npy ...] [--rtol R] "
       "[--atol A]\n"
       "            [--repeat N] [--resize WxH] [--scale S] [--offset O] [--channels 1|3] [--top "
       "K]\n"
       "    Run the model on .npy inputs (in the model's input order, or -i NAME=IN.npy by input\n"
       "    name) or on PNG/JPEG images (one\n"
       "    --image per batch row of a single image input); write OUTDIR/output_<i>.npy. Images "
       "are\n"
       "    decoded to 8-bit RGB (or gray with --channels 1), resized bilinearly to WxH (default: "
       "the\n"
       "    model's input size) and mapped to pixel * S + O (default S 1, O 0). --print shows\n"
       "    outputs of up to 64 values and, for outputs whose rows sum to 1 (softmax), the top K\n"
       "    classes (default 5). --expect compares with expected outputs and fails (exit 3) if "
       "any\n"
       "    element is outside atol + rtol * |expected|; --repeat N prints the time per run.\n"
       "    --threads T: threads for the CPU device's kernels (default 0: one per core).\n"
       "    --device D: cpu (default), reference, cuda[:N] (`kerasrt devices` lists them);\n"
       "    --precision P: fp32 (default), tf32, fp16 or bf16 where the device offers it.\n"
       "  examples:\n"
       "    kerasrt run decoder.keras -i x.npy -o out/\n"
       "    kerasrt run decoder.keras -i x.npy --device cuda --precision fp16\n"
       "    kerasrt run decoder.keras -i x.npy --expect keras_y.npy --repeat 50\n"
       "    kerasrt run classifier.keras --image cat.jpg --resize 224x224 --scale 0.00392157 "
       "--print\n"},
      {"verify",
       "kerasrt verify MODEL --reference CASE_DIR [--weights W.h5] [--rtol R] [--atol A]\n"
       "               [--device D] [--precision P]\n"
       "    Run CASE_DIR/input_*.npy through the model, compare every top-level layer with\n"
       "    CASE_DIR/layers/<name>.npy (<name>__<k>.npy for a layer's k-th output) and the "
       "outputs\n"
       "    with CASE_DIR/output_*.npy, using the tolerance in CASE_DIR/meta.json (or "
       "--rtol/--atol).\n"
       "    Prints one line per layer and the first divergence; exits 3 when anything diverges.\n"
       "    Layers are traced on the reference kernels; the outputs come from device D (default "
       "cpu).\n"
       "  examples:\n"
       "    kerasrt verify decoder.keras --reference fixtures/seed/seed_full\n"},
      {"dot",
       "kerasrt dot MODEL [--weights W.h5] [--stage imported|compiled|both] [--device D]\n"
       "    Print the graph in Graphviz format: as imported and as compiled (after the passes), "
       "as\n"
       "    two clusters. Reshape views are drawn dashed, fused activations are named on their\n"
       "    node (\"dense +relu\"), removed nodes are absent from the compiled cluster. The "
       "compiled\n"
       "    graph is the one device D (default cpu) runs: nodes name their backend, copies show.\n"
       "  examples:\n"
       "    kerasrt dot decoder.keras | dot -Tsvg > decoder.svg\n"
       "    kerasrt dot decoder.keras --stage compiled\n"},
      {"bench",
       "kerasrt bench MODEL [--weights W.h5] [-i IN.npy ...] [--batch N] [--threads T] [--iters "
       "K]\n"
       "              [--warmup W] [--device D] [--precision P] [--device-io [--stored-inputs]]\n"
       "              [--profile] [--json]\n"
       "    Time the model: on the given inputs, or on random inputs of the model's shape at batch "
       "N\n"
       "    (default 1). W warm-up calls (default 3), then K timed calls (default 20). Prints "
       "load\n"
       "    and compile time, median, p90 and min per call, throughput and peak RSS; a progress\n"
       "    line goes to stderr while it runs. --json prints one line instead, with at least\n"
       "    engine, model, batch, threads, median_ms, min_ms, p90_ms.\n"
       "    --threads T (default 1) is how many threads the CPU device's kernels use. Each call "
       "is\n"
       "    a whole run(): inputs in, outputs back on the host (a GPU is synchronized), on the "
       "wall\n"
       "    clock. --device-io uploads the inputs to the device once, leaves the outputs there "
       "and\n"
       "    times each call on the device's clock (CUDA events on a GPU), as GPU frameworks time.\n"
       "    --stored-inputs uploads them in the dtype the device keeps values in at the precision\n"
       "    (float16 under fp16), so no call converts them (as a caller holding half inputs).\n"
       "    --profile then makes K more calls that time every node (a device waits after each)\n"
       "    and prints each node's and each op kind's median time and share of the total (in\n"
       "    --json: a \"profile\" object with \"ops\" and \"nodes\").\n"
       "  examples:\n"
       "    kerasrt bench decoder.keras --batch 32 --iters 100\n"
       "    kerasrt bench decoder.keras -i x.npy --json\n"
       "    kerasrt bench mobile.keras --threads 2 --profile\n"},
      {"peer-bench",
       "kerasrt peer-bench MODEL INPUT.npy THREADS ITERS [--out OUT.npy] [--warmup N] [--name "
       "LABEL]\n"
       "    The peer benchmark kit's engine command (../shared/peers/run_side_by_side.sh): times\n"
       "    ITERS calls after a warm-up (default 20 at batch 1, 3 otherwise), writes the first\n"
       "    output to OUT.npy and prints the JSON line ort_bench.js prints: engine, model, batch,\n"
       "    threads, median_ms, min_ms, p90_ms, mean_ms, samples_per_s, iters, warmup, ...\n"
       "  examples:\n"
       "    ./run_side_by_side.sh '/path/to/kerasrt peer-bench'\n"
       "    kerasrt peer-bench decoder.keras decoder_input_b1.npy 1 500 --out y.npy\n"},
      {"devices",
       "kerasrt devices\n"
       "    List the devices (backends) this build has, whether each can run here (and why not),\n"
       "    and the precisions each offers.\n"
       "  examples:\n"
       "    kerasrt devices\n"},
      {"serve",
       "kerasrt serve --model-repository DIR [--http-port 8080] [--grpc-port 8081] [--host H]\n"
       "              [--device D] [--precision P] [--threads T] [--instances N]\n"
       "              [--max-batch B --max-queue-delay-us U] [--max-queue Q]\n"
       "              [--request-timeout-ms MS] [--max-body-bytes N] [--max-tensor-elements N]\n"
       "              [--http-threads N] [--read-timeout-s S] [--access-log FILE|-|off]\n"
       "              [--shutdown-grace-s S]\n"
       "    Serve every model of DIR/<model>/[<version>/]model.keras|model.h5|model.json over\n"
       "    the Open Inference Protocol (KServe V2): REST on --http-port (default 8080) and gRPC\n"
       "    (inference.GRPCInferenceService) on --grpc-port (default 8081; -1: off); port 0 takes\n"
       "    any free port (the ready line on stdout names it). A model that fails to load is\n"
       "    reported and skipped. Each model is compiled N times (--instances, default 1) for\n"
       "    device D (default cpu); T threads per run (default: the cores shared among\n"
       "    instances). --max-batch B > 1 turns on dynamic batching: requests arriving within\n"
       "    U microseconds (default 0: those already queued) run as one batch of up to B rows.\n"
       "    Limits: Q queued requests (default 1024), MS in the queue (default 30000), N body\n"
       "    bytes (default 64 MiB), N elements per input tensor (default 16Mi), S seconds a\n"
       "    client may stay silent mid-request (default 10). GET /metrics gives Prometheus\n"
       "    counters; one JSON access-log line per request goes to --access-log (default\n"
       "    stderr). SIGTERM or SIGINT: not ready, finish requests in flight, exit 0.\n"
       "    docs/serving.md has the protocol, KServe and Triton client examples.\n"
       "  examples:\n"
       "    kerasrt serve --model-repository models/\n"
       "    kerasrt serve --model-repository /mnt/models --max-batch 32 --max-queue-delay-us 2000\n"
       "    curl -s localhost:8080/v2/models/seed\n"},
      {"layers",
       "kerasrt layers\n"
       "    Print the supported Keras layer classes and options as a Markdown table.\n"
       "  examples:\n"
       "    kerasrt layers | grep Conv\n"},
  };
  return texts;
}

}  // namespace

std::string command_help(const std::string& command) {
  auto it = help_texts().find(command);
  return it == help_texts().end() ? "" : "usage: " + it->second;
}

std::string overview_help() {
  std::string out = "kerasrt: run trained Keras models natively.\n\ncommands:\n";
  for (const char* c :
       {"summary", "run", "verify", "dot", "bench", "peer-bench", "devices", "layers", "serve"}) {
    const std::string& text = help_texts().at(c);
    out += "  " + text.substr(0, text.find('\n')) + "\n";
  }
  out +=
      "\nMODEL is a Keras .keras file, a legacy full-model .h5 file, a TF.js model.json, or an\n"
      "architecture JSON (model.to_json()) given with its weights-only .h5 as --weights W.h5.\n"
      "`kerasrt COMMAND --help` shows a command's options and examples. Any failure prints one\n"
      "line `error: ...` on stderr; usage errors exit 2, other failures 1, divergences 3.\n";
  return out;
}

}  // namespace krt::cli
