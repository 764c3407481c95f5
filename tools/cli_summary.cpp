// `kerasrt summary` (Keras's table, or JSON for tools) and `kerasrt layers`.
#include <iostream>

#include "cli_common.h"
#include "io/json.h"

namespace krt::cli {

namespace {

io::Json shape_json(const Shape& shape) {
  std::vector<io::Json> dims;
  for (int64_t d : shape)
    dims.push_back(d == dynamic ? io::Json() : io::Json::integer(d));  // null = None
  return io::Json::array(std::move(dims));
}

io::Json tensors_json(const std::vector<TensorInfo>& tensors) {
  std::vector<io::Json> items;
  for (const TensorInfo& t : tensors)
    items.push_back(io::Json::object({{"name", io::Json::string(t.name)},
                                      {"shape", shape_json(t.shape)},
                                      {"dtype", io::Json::string(dtype_name(t.dtype))}}));
  return io::Json::array(std::move(items));
}

std::string summary_json(const Model& model) {
  std::vector<io::Json> layers;
  for (const LayerInfo& l : model.layers()) {
    std::vector<io::Json> shapes;
    for (const Shape& s : l.output_shapes) shapes.push_back(shape_json(s));
    layers.push_back(io::Json::object({{"name", io::Json::string(l.name)},
                                       {"class", io::Json::string(l.class_name)},
                                       {"output_shapes", io::Json::array(std::move(shapes))},
                                       {"params", io::Json::integer(l.param_count)}}));
  }
  return io::Json::object({{"name", io::Json::string(model.name())},
                           {"inputs", tensors_json(model.inputs())},
                           {"outputs", tensors_json(model.outputs())},
                           {"layers", io::Json::array(std::move(layers))},
                           {"total_params", io::Json::integer(model.param_count())}})
      .dump();
}

}  // namespace

int cmd_summary(const std::vector<std::string>& args) {
  std::string model_path, weights;
  bool json = false, placement = false;
  CompileOptions options;
  ArgReader a(args);
  while (a.next()) {
    if (a.is("--weights"))
      weights = a.value();
    else if (a.is("--device"))
      options.device = parse_device_flag(a.value()), placement = true;
    else if (a.is("--precision"))
      options.precision = parse_precision_flag(a.value()), placement = true;
    else if (a.is("--json"))
      json = true;
    else if (!a.is_option() && model_path.empty())
      model_path = a.arg();
    else
      a.unknown();
  }
  if (model_path.empty()) throw UsageError("summary needs a MODEL");
  Model model = load_model(model_path, weights);
  if (json)
    std::cout << summary_json(model) << "\n";
  else
    std::cout << model.summary();
  if (placement && !json) {
    CompiledModel exe = model.compile(options);
    std::cout << placement_text(exe.report()) << "\n";
    for (const std::string& why : exe.report().fallbacks) std::cout << "  " << why << "\n";
  }
  return 0;
}

int cmd_layers(const std::vector<std::string>& args) {
  if (!args.empty()) throw UsageError("layers takes no arguments");
  std::cout << "| Keras class | Supported options |\n|---|---|\n";
  for (const SupportedLayer& l : supported_layers())
    std::cout << "| " << l.class_name << " | " << l.notes << " |\n";
  std::cout << "\n## Keras 3 operations (op nodes)\n\nTensor operations between layers "
               "(`keras.ops` calls and operators such as "
               "`x + 3.0`, `x[:, 1:]`, `x @ w`), recorded in Functional configs with module "
               "`keras.src.ops.*`.\n\n"
               "| Operation class | Notes |\n|---|---|\n";
  for (const SupportedOperation& o : supported_keras_operations())
    std::cout << "| " << o.name << " | " << o.notes << " |\n";
  std::cout << "\n## TF functions (tf.keras TFOpLambda / SlicingOpLambda)\n\nThe recorded "
               "function's name "
               "(`config.function`, shown without `tf.`); no code from the file runs.\n\n| TF "
               "function | Notes |\n|---|---|\n";
  for (const SupportedOperation& o : supported_tf_functions())
    std::cout << "| tf." << o.name << " | " << o.notes << " |\n";
  return 0;
}

}  // namespace krt::cli
