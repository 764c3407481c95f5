// Input files for `kerasrt run` / `bench`: `-i IN.npy` in the model's input order, or
// `-i NAME=IN.npy` by input name (the keys of a model built with a dict of named inputs).
#include <map>

#include "cli_common.h"

namespace krt::cli {

std::vector<Tensor> read_input_files(const Model& model, const std::vector<std::string>& specs) {
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < model.inputs().size(); ++i) index.emplace(model.inputs()[i].name, i);
  std::vector<Tensor> ordered(model.inputs().size());
  std::vector<Tensor> positional;
  size_t named = 0;
  for (const std::string& spec : specs) {
    const size_t eq = spec.find('=');
    auto it = eq == std::string::npos ? index.end() : index.find(spec.substr(0, eq));
    if (it == index.end()) {
      positional.push_back(Tensor::from_npy(spec));
      continue;
    }
    if (!ordered[it->second].empty()) throw UsageError("input '" + it->first + "' is given twice");
    ordered[it->second] = Tensor::from_npy(spec.substr(eq + 1));
    ++named;
  }
  if (named == 0) return positional;
  if (!positional.empty()) throw UsageError("give every input as NAME=IN.npy, or none");
  for (size_t i = 0; i < ordered.size(); ++i)
    if (ordered[i].empty())
      throw UsageError("input '" + model.inputs()[i].name + "' is missing (-i " +
                       model.inputs()[i].name + "=IN.npy)");
  return ordered;
}

}  // namespace krt::cli
