#include "kerasrt/named_tensors.h"

#include "core/check.h"

namespace krt {

std::vector<Tensor> inputs_by_name(const Model& model, const std::map<std::string, Tensor>& named) {
  std::vector<Tensor> out;
  for (const TensorInfo& info : model.inputs()) {
    auto it = named.find(info.name);
    if (it == named.end())
      fail(ErrorCode::invalid_argument, "model '", model.name(), "': input '", info.name,
           "' is missing");
    out.push_back(it->second);
  }
  for (const auto& [name, tensor] : named) {
    bool known = false;
    for (const TensorInfo& info : model.inputs()) known = known || info.name == name;
    if (!known)
      fail(ErrorCode::invalid_argument, "model '", model.name(), "' has no input named '", name,
           "'");
  }
  return out;
}

std::map<std::string, Tensor> outputs_by_name(const Model& model,
                                              const std::vector<Tensor>& outputs) {
  if (outputs.size() != model.outputs().size())
    fail(ErrorCode::invalid_argument, "model '", model.name(), "' has ", model.outputs().size(),
         " outputs, got ", outputs.size());
  std::map<std::string, Tensor> out;
  for (size_t i = 0; i < outputs.size(); ++i)
    if (!out.emplace(model.outputs()[i].name, outputs[i]).second)
      fail(ErrorCode::invalid_argument, "model '", model.name(), "': two outputs are named '",
           model.outputs()[i].name, "'");
  return out;
}

}  // namespace krt
