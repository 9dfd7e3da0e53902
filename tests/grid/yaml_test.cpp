// YAML experiment files: the same sweep as the JSON they spell (run ids and
// all), the same messages for the same mistakes, and YAML's own syntax
// errors with file, line and column.
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "hcx/error.h"
#include "hcx/grid/expand.h"
#include "hcx/grid/experiment.h"

namespace hcx::grid {
namespace {

std::string yaml_error(const std::string& text) {
  try {
    expand(parse_yaml_experiment(text, "exp.yaml"));
  } catch (const Error& e) {
    EXPECT_EQ(e.exit_code(), 2);
    return e.what();
  }
  return "";
}

TEST(YamlExperiment, ShippedQuickstartEqualsTheJson) {
  const Expansion json = expand(load_experiment(HCX_SOURCE_DIR "/experiments/quickstart.json"));
  const Expansion yaml = expand(load_experiment(HCX_SOURCE_DIR "/experiments/examples/quickstart.yaml"));
  EXPECT_EQ(yaml.name, json.name);
  EXPECT_EQ(yaml.description, json.description);
  ASSERT_EQ(yaml.runs.size(), 14u);
  ASSERT_EQ(yaml.runs.size(), json.runs.size());
  for (size_t i = 0; i < json.runs.size(); ++i) {
    EXPECT_EQ(yaml.runs[i].id, json.runs[i].id) << i;
    EXPECT_EQ(yaml.runs[i].variant, json.runs[i].variant) << i;
  }
  // Overrides act on both alike.
  const Expansion jo = expand(load_experiment(HCX_SOURCE_DIR "/experiments/quickstart.json", {"train.steps=7"}));
  const Expansion yo =
      expand(load_experiment(HCX_SOURCE_DIR "/experiments/examples/quickstart.yaml", {"train.steps=7"}));
  EXPECT_EQ(yo.runs.front().id, jo.runs.front().id);
  EXPECT_EQ(yo.name, "quickstart@train.steps=7");
}

TEST(YamlExperiment, ScalarsTypeAsJsonWould) {
  const Expansion ex = expand(parse_yaml_experiment(R"(
base:
  train.lr: 3e-3          # a number, though YAML 1.2 would want 3.0e-3
  train.steps: 12
  model.tie_embeddings: false
  residual.kind: "hc"     # quoted: a string
  residual.n: 2
)",
                                                    "exp.yaml"));
  ASSERT_EQ(ex.runs.size(), 1u);
  const auto& c = ex.runs[0].config;
  EXPECT_EQ(c.train.lr, 3e-3);
  EXPECT_EQ(c.train.steps, 12);
  EXPECT_EQ(c.residual.kind, "hc");
  EXPECT_EQ(c.residual.n, 2);
  EXPECT_FALSE(c.model.tie_embeddings);
}

TEST(YamlExperiment, SameMistakesSameMessagesAsJson) {
  const struct {
    const char* yaml;
    const char* json;
  } pairs[] = {
      {"gird: {}", R"({"gird": {}})"},
      {"grid:\n  train.lrr: [1]", R"({"grid": {"train.lrr": [1]}})"},
      {"base:\n  residual.n: 9\n  residual.kind: hc", R"({"base": {"residual.n": 9, "residual.kind": "hc"}})"},
      {"seeds: 0", R"({"seeds": 0})"},
      {"grid:\n  train.lr: [-0.001]", R"({"grid": {"train.lr": [-0.001]}})"},
  };
  for (const auto& p : pairs) {
    std::string json_error;
    try {
      expand(parse_experiment(p.json, "exp.yaml"));
    } catch (const Error& e) {
      json_error = e.what();
    }
    ASSERT_FALSE(json_error.empty()) << p.json;
    EXPECT_EQ(yaml_error(p.yaml), json_error) << p.yaml;
  }
}

TEST(YamlExperiment, SyntaxErrorsNameLineAndColumn) {
  EXPECT_EQ(yaml_error("name: a\ngrid: [1, 2\n").substr(0, 24), "exp.yaml:3:1: invalid YA");
  EXPECT_EQ(yaml_error("name: a\nname: b\n"), "exp.yaml:2:1: invalid YAML: duplicate key \"name\"");
  EXPECT_EQ(yaml_error("- 1\n- 2\n"), "exp.yaml: expected a mapping at the top");
  EXPECT_EQ(yaml_error("base: !!binary aGk=\n"), "exp.yaml:1:7: invalid YAML: tag tag:yaml.org,2002:binary is not supported");
  EXPECT_EQ(yaml_error("a: &x {b: 1}\nbase:\n  <<: *x\n"), "exp.yaml:3:3: invalid YAML: merge keys (<<) are not supported");
}

}  // namespace
}  // namespace hcx::grid
