// Preprocessing-layer configs the golden fixtures do not cover: Normalization's config mean
// and variance must broadcast to the kept axes (a shorter list once read past its end).
#include <gtest/gtest.h>

#include <string>

#include "expect_error.h"
#include "graph/graph.h"
#include "io/json.h"
#include "keras/model_builder.h"
#include "keras/weights.h"
#include "kerasrt/error.h"

namespace krt::keras {
namespace {

// A Sequential model: Input(batch_shape) -> Normalization(mean, variance).
void import_normalization(const std::string& batch_shape, const std::string& mean,
                          const std::string& variance) {
  std::string text = R"({"class_name": "Sequential", "config": {"name": "s", "layers": [
      {"class_name": "InputLayer", "config": {"batch_shape": )" +
                     batch_shape + R"(, "name": "in"}},
      {"class_name": "Normalization", "config": {"name": "norm", "axis": [-1], "mean": )" +
                     mean + R"(, "variance": )" + variance + "}}]}}";
  io::Json config = io::parse_json(text, "config.json");
  Graph graph;
  FileInfo file{"config.json", "", 3, ""};
  std::unique_ptr<WeightScope> scope = empty_weight_scope();
  import_model(graph, file, config, *scope, nullptr, Limits{});
}

TEST(NormalizationConfig, MeanMustBroadcastToTheKeptAxes) {
  EXPECT_NO_THROW(import_normalization("[null, 4, 6]", "[1, 2, 3, 4, 5, 6]", "[1, 1, 1, 1, 1, 2]"));
  EXPECT_NO_THROW(import_normalization("[null, 4, 6]", "[0.5]", "[2.0]"));  // one value, broadcast
  EXPECT_NO_THROW(import_normalization("[null, 4, 6]", "0.5", "2.0"));      // a scalar
  Error e = krt::test::expect_error(
      [] { import_normalization("[null, 4, 6]", "[1, 2, 3]", "[1, 1, 1]"); });
  EXPECT_NE(std::string(e.what()).find(
                "mean and variance of shape (3,) do not broadcast to the kept axes, of shape (6,)"),
            std::string::npos)
      << e.what();
  EXPECT_NE(std::string(e.what()).find("norm"), std::string::npos) << e.what();
}

}  // namespace
}  // namespace krt::keras
