// Grid expansion: a case table of experiment files and overrides against the
// points they produce, then validation messages.
#include "hcx/grid/expand.h"

#include <gtest/gtest.h>

#include "hcx/error.h"
#include "hcx/grid/identity.h"

namespace hcx::grid {
namespace {

// Every assignment of a run's point, "k=v" joined by spaces.
std::string describe(const ExpandedRun& run) {
  std::vector<std::string> keys;
  for (const auto& [k, v] : run.point) keys.push_back(k);
  return point_label(run.point, keys);
}

std::vector<std::string> points_of(const std::string& text, const std::vector<std::string>& overrides = {}) {
  const Expansion ex = expand(parse_experiment(text, "exp.json", overrides));
  std::vector<std::string> out;
  for (const auto& run : ex.runs) out.push_back(describe(run));
  return out;
}

std::string error_of(const std::string& text, const std::vector<std::string>& overrides = {}) {
  try {
    expand(parse_experiment(text, "exp.json", overrides));
  } catch (const Error& e) {
    EXPECT_EQ(e.exit_code(), 2);
    return e.what();
  }
  return "";
}

using Points = std::vector<std::string>;

TEST(Expand, CaseTable) {
  const struct {
    const char* name;
    const char* text;
    std::vector<std::string> overrides;
    Points expected;
  } cases[] = {
      {"no grid: the base alone", R"({"base": {"train.steps": 5}})", {}, {""}},
      {"product, first axis outermost",
       R"({"grid": {"train.lr": [0.001, 0.002], "model.d_model": [32, 64]}})",
       {},
       {"train.lr=0.001 model.d_model=32", "train.lr=0.001 model.d_model=64", "train.lr=0.002 model.d_model=32",
        "train.lr=0.002 model.d_model=64"}},
      {"a scalar axis is one value", R"({"grid": {"train.lr": 0.002}})", {}, {"train.lr=0.002"}},
      {"objects set several keys; lists inside them expand",
       R"({"grid": {"variant": [{"residual.kind": "pre_norm"},
                                {"residual.kind": "hc", "residual.n": [1, 2, 4, 8]}]}})",
       {},
       {"residual.kind=pre_norm", "residual.kind=hc residual.n=1", "residual.kind=hc residual.n=2",
        "residual.kind=hc residual.n=4", "residual.kind=hc residual.n=8"}},
      {"nested objects flatten; two inner lists make a product",
       R"({"grid": {"v": [{"residual": {"kind": "hc", "n": [2, 4], "dynamic": [false, true]}}]}})",
       {},
       {"residual.kind=hc residual.n=2 residual.dynamic=false", "residual.kind=hc residual.n=2 residual.dynamic=true",
        "residual.kind=hc residual.n=4 residual.dynamic=false", "residual.kind=hc residual.n=4 residual.dynamic=true"}},
      {"keys relative to an axis named after a section",
       R"({"grid": {"residual": [{"kind": "post_norm"}, {"kind": "hc", "n": 2}]}})",
       {},
       {"residual.kind=post_norm", "residual.kind=hc residual.n=2"}},
      {"zip advances together",
       R"({"zip": {"train.lr": [0.001, 0.002], "train.warmup_steps": [10, 20]}})",
       {},
       {"train.lr=0.001 train.warmup_steps=10", "train.lr=0.002 train.warmup_steps=20"}},
      {"zip groups cross with the grid and each other",
       R"({"grid": {"model.d_model": [32, 64]},
           "zip": [{"train.lr": [0.001, 0.002], "train.warmup_steps": [10, 20]}, {"seed": [7]}]})",
       {},
       {"model.d_model=32 train.lr=0.001 train.warmup_steps=10 seed=7",
        "model.d_model=32 train.lr=0.002 train.warmup_steps=20 seed=7",
        "model.d_model=64 train.lr=0.001 train.warmup_steps=10 seed=7",
        "model.d_model=64 train.lr=0.002 train.warmup_steps=20 seed=7"}},
      {"include adds points after the grid",
       R"({"grid": {"train.lr": [0.001]}, "include": [{"residual.kind": "post_norm", "train.lr": [0.004, 0.005]}]})",
       {},
       {"train.lr=0.001", "residual.kind=post_norm train.lr=0.004", "residual.kind=post_norm train.lr=0.005"}},
      {"exclude drops matching points",
       R"({"grid": {"residual.kind": ["pre_norm", "hc"], "train.lr": [0.001, 0.002]},
           "exclude": [{"residual.kind": "hc", "train.lr": 0.002}]})",
       {},
       {"residual.kind=pre_norm train.lr=0.001", "residual.kind=pre_norm train.lr=0.002",
        "residual.kind=hc train.lr=0.001"}},
      {"an exclude list matches any of its values; numbers compare by value",
       R"({"grid": {"residual.n": [1, 2, 4, 8]}, "base": {"residual.kind": "hc"},
           "exclude": [{"residual.n": [1, 8.0]}]})",
       {},
       {"residual.n=2", "residual.n=4"}},
      {"exclude matches defaults and can drop invalid combinations",
       R"({"grid": {"model.d_model": [64, 60]}, "exclude": [{"model.d_model": 60, "model.n_heads": 4}]})",
       {},
       {"model.d_model=64"}},
      {"include is never excluded",
       R"({"grid": {"seed": [0]}, "exclude": [{"seed": 1}], "include": [{"seed": 1}]})",
       {},
       {"seed=0", "seed=1"}},
      {"seeds: a count is an innermost axis",
       R"({"grid": {"residual.kind": ["pre_norm", "post_norm"]}, "seeds": 2})",
       {},
       {"residual.kind=pre_norm seed=0", "residual.kind=pre_norm seed=1", "residual.kind=post_norm seed=0",
        "residual.kind=post_norm seed=1"}},
      {"seeds: a list; includes get every seed",
       R"({"seeds": [3, 5], "include": [{"residual.kind": "post_norm"}]})",
       {},
       {"seed=3", "seed=5", "residual.kind=post_norm seed=3", "residual.kind=post_norm seed=5"}},
      {"-s key=v1,v2 adds an axis",
       R"({"grid": {"residual.kind": ["pre_norm", "post_norm"]}})",
       {"train.lr=0.001,0.002"},
       {"residual.kind=pre_norm train.lr=0.001", "residual.kind=pre_norm train.lr=0.002",
        "residual.kind=post_norm train.lr=0.001", "residual.kind=post_norm train.lr=0.002"}},
      {"-s key=v1,v2 replaces the axis in place",
       R"({"grid": {"train.lr": [0.001, 0.002, 0.003], "seed": [0, 1]}})",
       {"train.lr=0.004,0.005"},
       {"train.lr=0.004 seed=0", "train.lr=0.004 seed=1", "train.lr=0.005 seed=0", "train.lr=0.005 seed=1"}},
      {"-s key=v pins: the axis goes, objects stop setting it, duplicates collapse",
       R"({"grid": {"v": [{"residual.kind": "hc", "residual.n": [1, 2, 4]}, {"residual.kind": "pre_norm"}],
                    "residual.tanh": [true, false]}})",
       {"residual.n=2", "residual.tanh=true"},
       {"residual.kind=hc", "residual.kind=pre_norm"}},
      {"-s seeds=N sets the seeds; -s strings need no quotes",
       R"({})",
       {"seeds=2", "model.ffn=gelu,swiglu"},
       {"model.ffn=gelu seed=0", "model.ffn=gelu seed=1", "model.ffn=swiglu seed=0", "model.ffn=swiglu seed=1"}},
      {"-s seed=... wins over the file's seeds", R"({"seeds": 3})", {"seed=4"}, {""}},
      {"list-valued keys: a list of lists is an axis, a list of objects one value",
       R"({"grid": {"eval.tasks": [[], [{"name": "s", "kind": "synthetic"}]], "eval.extra_val": [{"name": "a", "path": "x"}]}})",
       {},
       {R"(eval.tasks=[] eval.extra_val=[{"name":"a","path":"x"}])",
        R"(eval.tasks=[{"kind":"synthetic","name":"s"}] eval.extra_val=[{"name":"a","path":"x"}])"}},
      {"the same run twice is one run",
       R"({"grid": {"v": [{"residual.kind": "pre_norm", "residual.n": [2, 4]}, {"residual.kind": "hc", "residual.dynamic": false, "residual.tanh": [true, false]}]}})",
       {},
       {"residual.kind=pre_norm residual.n=2", "residual.kind=hc residual.dynamic=false residual.tanh=true"}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    try {
      EXPECT_EQ(points_of(c.text, c.overrides), c.expected);
    } catch (const Error& e) {
      ADD_FAILURE() << e.what();
    }
  }
}

TEST(Expand, CountsExcludedAndDuplicatePoints) {
  const Expansion ex = expand(parse_experiment(
      R"({"grid": {"residual.kind": ["pre_norm", "post_norm"], "residual.n": [2, 4]},
          "exclude": [{"residual.kind": "post_norm", "residual.n": 4}]})",
      "exp.json"));
  EXPECT_EQ(ex.excluded, 1u);
  EXPECT_EQ(ex.points, 3u);
  EXPECT_EQ(ex.duplicates, 1u);  // pre_norm ignores residual.n
  ASSERT_EQ(ex.runs.size(), 2u);
  EXPECT_EQ(ex.varying_keys, (std::vector<std::string>{"residual.kind", "residual.n"}));
}

TEST(Expand, RunsCarryIdsConfigsLabelsAndVariants) {
  const Expansion ex = expand(parse_experiment(
      R"({"name": "s", "base": {"train.steps": 7},
          "grid": {"v": [{"residual.kind": "pre_norm"}, {"residual.kind": "hc", "residual.dynamic": false, "residual.n": 2}]},
          "seeds": 2})",
      "exp.json"));
  EXPECT_EQ(ex.name, "s");
  ASSERT_EQ(ex.runs.size(), 4u);
  const ExpandedRun& shc = ex.runs[3];
  EXPECT_EQ(shc.config.train.steps, 7);
  EXPECT_EQ(shc.config.seed, 1);
  EXPECT_EQ(shc.id, run_id(shc.config));
  EXPECT_EQ(shc.config_json, canonical_json(shc.config));
  EXPECT_EQ(shc.label, "residual.kind=hc residual.dynamic=false residual.n=2 seed=1");
  EXPECT_EQ(shc.variant, "SHC×2");
  EXPECT_EQ(ex.runs[0].label, "residual.kind=pre_norm seed=0");
  EXPECT_EQ(ex.runs[0].variant, "Pre-Norm");
}

TEST(Expand, NameDefaultsToTheFileStem) {
  EXPECT_EQ(expand(parse_experiment("{}", "dir/ablation.json")).name, "ablation");
}

TEST(Expand, SameRunInTwoExperimentsHasOneId) {
  const Expansion a = expand(parse_experiment(R"({"base": {"train.lr": 0.002}, "grid": {"seed": [0, 1]}})", "a.json"));
  const Expansion b = expand(parse_experiment(R"({"grid": {"train.lr": [2e-3]}, "seeds": [1]})", "b.json"));
  ASSERT_EQ(b.runs.size(), 1u);
  EXPECT_EQ(a.runs[1].id, b.runs[0].id);
}

TEST(Expand, ReportsEveryErrorWithFilePointAndKey) {
  const std::string err = error_of(
      R"({"grid": {"v": [{"residual.kind": "hc", "residual.nn": 2},
                         {"residual.kind": "hc", "residual.n": [4, 9]}],
                   "train.lr": [0.001, -1]}})");
  EXPECT_NE(err.find("exp.json: point 1 (residual.nn=2 train.lr=0.001): "
                     "residual.nn: unknown key (did you mean 'residual.n'?)"),
            std::string::npos)
      << err;
  EXPECT_NE(err.find("exp.json: point 4 (residual.n=4 train.lr=-1): "
                     "train.lr: expected a positive number, got -1"),
            std::string::npos)
      << err;
  EXPECT_NE(err.find("exp.json: point 5 (residual.n=9 train.lr=0.001): "
                     "residual.n: expected an expansion rate from 1 to 8, got 9"),
            std::string::npos)
      << err;
  // Every bad point is listed, and only those: 1, 2, 4, 5, 6.
  for (const char* point : {"point 1 ", "point 2 ", "point 4 ", "point 5 ", "point 6 "})
    EXPECT_NE(err.find(point), std::string::npos) << point << err;
  EXPECT_EQ(err.find("point 3 "), std::string::npos) << err;
  size_t lines = 1;
  for (char ch : err) lines += ch == '\n';
  EXPECT_GE(lines, 6u) << err;
}

TEST(Expand, BaseErrorsAreReportedOnce) {
  const std::string err = error_of(R"({"base": {"train.stpes": 10}, "grid": {"seed": [0, 1, 2]}})");
  EXPECT_EQ(err, "exp.json: base: train.stpes: unknown key (did you mean 'train.steps'?)");
  // A base that each point completes is fine.
  EXPECT_EQ(error_of(R"({"base": {"data.source": "text"}, "grid": {"data.path": ["a.txt", "b.txt"]}})"), "");
}

TEST(Expand, SpecLevelErrors) {
  const struct {
    const char* text;
    std::vector<std::string> overrides;
    const char* error;
  } cases[] = {
      {R"({"gird": {}})", {}, "exp.json: gird: unknown key (did you mean 'grid'?)"},
      {R"({"grid": {"train.lrr": [1]}})", {},
       "exp.json: grid.train.lrr: unknown key (did you mean 'train.lr'?); an axis that is not a config key takes "
       "objects, got 1"},
      {R"({"grid": {"train.lr": []}})", {}, "exp.json: grid.train.lr: expected at least one value, got []"},
      {R"({"zip": {"train.lr": [1, 2], "seed": [1]}})", {},
       "exp.json: zip: lists differ in length (train.lr has 2, seed has 1)"},
      {R"({"seeds": 0})", {}, "exp.json: seeds: expected a count N >= 1 (seeds 0..N-1) or a list of integers >= 0, got 0"},
      {R"({"seeds": 2, "grid": {"seed": [1]}})", {}, "exp.json: seeds: the grid has an axis on seed too; use one of them"},
      {R"({"exclude": [{"residual.knd": "hc"}]})", {},
       "exp.json: exclude[0]: residual.knd: unknown key (did you mean 'residual.kind'?)"},
      {R"({})", {"train.lrr=1,2"}, "exp.json: -s train.lrr=1,2: train.lrr: unknown key (did you mean 'train.lr'?)"},
      {R"({})", {"train.lr"}, "exp.json: -s train.lr: expected key=value or key=v1,v2,..."},
      {R"({"grid": {"seed": [1, 2]}, "exclude": [{"seed": [1, 2]}]})", {},
       "exp.json: the grid is empty (2 points, every one excluded)"},
      {R"({"grid": {"a": [{"seed": 1}], "b": [{"seed": 2}]}})", {},
       "exp.json: point 1: seed: set by both axis 'a' and axis 'b'"},
      {"{\"grid\": ", {}, "exp.json: invalid JSON"},
      {R"({"grid": {"train.lr": [-0.001]}})", {}, "exp.json: point 1: train.lr: expected a positive number, got -0.001"},
  };
  for (const auto& c : cases) {
    const std::string err = error_of(c.text, c.overrides);
    EXPECT_EQ(err.substr(0, std::string(c.error).size()), c.error) << c.text;
  }
}

TEST(Expand, CommentsAreAllowed) {
  EXPECT_EQ(points_of("// a sweep\n{\"grid\": {/* lr */ \"train.lr\": [0.002]}}"), Points{"train.lr=0.002"});
}

TEST(ParseOverride, ValuesAndLists) {
  const struct {
    const char* text;
    std::vector<config::Json> values;
  } cases[] = {
      {"train.lr=0.001", {0.001}},
      {"train.lr=1e-3,3e-3", {1e-3, 3e-3}},
      {"residual.kind=hc,pre_norm", {"hc", "pre_norm"}},
      {"residual.dynamic=true,false", {true, false}},
      {R"(data.path="a,b.txt")", {"a,b.txt"}},
      {R"(eval.tasks=[{"name":"x"},{"name":"y"}])", {config::Json::parse(R"([{"name":"x"},{"name":"y"}])")}},
      {"data.path=", {""}},
  };
  for (const auto& c : cases) EXPECT_EQ(parse_override(c.text).values, c.values) << c.text;
  EXPECT_EQ(parse_override("a.b=1").key, "a.b");
}

}  // namespace
}  // namespace hcx::grid
