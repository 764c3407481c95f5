#include "service.h"

#include <set>

namespace krt::serve {

namespace {

const char* failure_reason(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::bad_request:
      return "bad_request";
    case ErrorKind::not_found:
      return "not_found";
    case ErrorKind::too_large:
      return "too_large";
    case ErrorKind::unavailable:
      return "unavailable";
    case ErrorKind::internal:
      return "internal";
  }
  return "internal";
}

// The inputs in the model's order, checked against its declared shapes and converted to its
// dtype (the engine runs float32; other numeric datatypes are converted as `run` would).
std::vector<Tensor> model_inputs(const ServedModel& model, std::vector<InferInput>& given) {
  std::vector<Tensor> out(model.inputs.size());
  std::set<std::string> seen;
  for (InferInput& in : given) {
    size_t i = 0;
    while (i < model.inputs.size() && model.inputs[i].name != in.name) ++i;
    if (i == model.inputs.size()) {
      std::string names;
      for (const TensorInfo& t : model.inputs)
        names += (names.empty() ? "'" : ", '") + t.name + "'";
      throw ServeError(ErrorKind::bad_request, "model '" + model.name + "' has no input '" +
                                                   in.name + "' (its inputs: " + names + ")");
    }
    if (!seen.insert(in.name).second)
      throw ServeError(ErrorKind::bad_request, "input '" + in.name + "' is given twice");
    const TensorInfo& info = model.inputs[i];
    const Shape& shape = in.data.shape();
    bool ok = shape.size() == info.shape.size();
    for (size_t d = 0; ok && d < shape.size(); ++d)
      ok = info.shape[d] == dynamic || info.shape[d] == shape[d];
    if (!ok)
      throw ServeError(ErrorKind::bad_request, "input '" + in.name + "' has shape " +
                                                   shape_text(shape) + ", the model expects " +
                                                   shape_text(info.shape));
    if (in.data.size() == 0)
      throw ServeError(ErrorKind::bad_request, "input '" + in.name + "' has no elements");
    out[i] = in.data.dtype() == info.dtype ? in.data : in.data.cast(info.dtype);
  }
  for (size_t i = 0; i < model.inputs.size(); ++i)
    if (!seen.count(model.inputs[i].name))
      throw ServeError(ErrorKind::bad_request, "input '" + model.inputs[i].name + "' is missing");
  if (model.batchable)
    for (const Tensor& t : out)
      if (t.dim(0) != out[0].dim(0))
        throw ServeError(ErrorKind::bad_request,
                         "the inputs disagree on the batch size (dimension 0): " +
                             std::to_string(out[0].dim(0)) + " and " + std::to_string(t.dim(0)));
  return out;
}

}  // namespace

InferResponse InferenceService::infer(InferRequest& request, const char* protocol) {
  ServedModel* model = nullptr;
  try {
    model = &repository_.find(request.model, request.version);
    InferResponse response = run(*model, request);
    metrics_.request(model->name, model->version, protocol, true);
    return response;
  } catch (const ServeError& e) {
    // Unknown models get no metrics series: clients must not be able to create them.
    if (model)
      metrics_.request(model->name, model->version, protocol, false, failure_reason(e.kind()));
    throw;
  }
}

InferResponse InferenceService::run(ServedModel& model, InferRequest& request) {
  // Requested outputs are checked before the model runs, so a typo costs no compute.
  std::vector<size_t> wanted;
  std::vector<bool> binary;
  if (request.outputs.empty()) {
    for (size_t i = 0; i < model.outputs.size(); ++i)
      wanted.push_back(i), binary.push_back(request.binary_outputs);
  }
  for (const RequestedOutput& o : request.outputs) {
    size_t i = 0;
    while (i < model.outputs.size() && model.outputs[i].name != o.name) ++i;
    if (i == model.outputs.size())
      throw ServeError(ErrorKind::bad_request,
                       "model '" + model.name + "' has no output '" + o.name + "'");
    wanted.push_back(i);
    binary.push_back(o.binary || request.binary_outputs);
  }
  std::future<JobResult> future = model.batcher->submit(model_inputs(model, request.inputs));
  JobResult result = future.get();  // rethrows the batcher's ServeError
  metrics_.timing(model.name, model.version, result.queue_us, result.compute_us);
  InferResponse response;
  response.model = model.name;
  response.version = model.version;
  response.id = request.id;
  for (size_t k = 0; k < wanted.size(); ++k)
    response.outputs.push_back(
        {model.outputs[wanted[k]].name, result.outputs[wanted[k]], binary[k]});
  return response;
}

}  // namespace krt::serve
