// Command-line overrides beyond key=v1,v2: the sweep functions range() and
// choice() (their values and their errors) and the name of a sweep that -s
// changed.
#include <gtest/gtest.h>

#include "hcx/error.h"
#include "hcx/grid/expand.h"
#include "hcx/grid/experiment.h"

namespace hcx::grid {
namespace {

// The values "-s text" gives its key, as one compact JSON array.
std::string values_of(const std::string& text) {
  return config::Json(parse_override(text).values).dump();
}

std::string override_error(const std::string& text) {
  try {
    parse_override(text);
  } catch (const Error& e) {
    EXPECT_EQ(e.exit_code(), 2) << text;
    return e.what();
  }
  return "";
}

TEST(Overrides, RangeFunctions) {
  const struct {
    const char* text;
    const char* values;
  } cases[] = {
      {"train.lr=range(1e-4,1e-2,log,3)", "[0.0001,0.001,0.01]"},
      {"train.lr=range(1e-4,1e-2,log,5)", "[0.0001,0.000316227766017,0.001,0.00316227766017,0.01]"},
      {"train.lr=range(1e-3, 3e-3, lin, 3)", "[0.001,0.002,0.003]"},
      {"residual.n=range(1,9,2)", "[1,3,5,7]"},       // Python's range: integers, stop excluded
      {"residual.n=range(4)", "[0,1,2,3]"},
      {"residual.n=range(2,5)", "[2,3,4]"},
      {"residual.n=range(8,0,-3)", "[8,5,2]"},       // a negative step counts down
      {"train.lr=range(0.1,0.5,0.1)", "[0.1,0.2,0.3,0.4]"},  // reals: 0.3, not 0.30000000000000004
      {"train.lr=range(0,1,0.25)", "[0.0,0.25,0.5,0.75]"},
      {"residual.kind=choice(pre_norm,hc)", "[\"pre_norm\",\"hc\"]"},
      {"train.lr=choice(1e-3)", "[0.001]"},
      {"residual.n=1,2", "[1,2]"},                    // the plain list is unchanged
      {"data.path=range.txt", "[\"range.txt\"]"},     // not a call: a string
  };
  for (const auto& c : cases) EXPECT_EQ(values_of(c.text), c.values) << c.text;
}

TEST(Overrides, RangeErrorsNameTheOverride) {
  const struct {
    const char* text;
    const char* error;
  } cases[] = {
      {"train.lr=range()", "-s train.lr: range(): expected range(stop), range(start,stop), range(start,stop,step) "
                           "or range(start,stop,log|lin,count)"},
      {"train.lr=range(1,2,3,4,5)", "-s train.lr: range(1,2,3,4,5): expected range(stop)"},
      {"train.lr=range(1,5,0)", "-s train.lr: range(1,5,0): the step must not be 0"},
      {"train.lr=range(5,1)", "-s train.lr: range(5,1): the range holds no value"},
      {"train.lr=range(0,1e9)", "-s train.lr: range(0,1e9): the range holds more than 10000 values"},
      {"train.lr=range(a,3)", "-s train.lr: range(a,3): expected a number, got \"a\""},
      {"train.lr=range(0,1e-2,log,3)", "-s train.lr: range(0,1e-2,log,3): a log range needs start and stop above 0"},
      {"train.lr=range(1e-4,1e-2,exp,3)",
       "-s train.lr: range(1e-4,1e-2,exp,3): the third argument of a 4-argument range is log or lin, got \"exp\""},
      {"train.lr=range(1e-4,1e-2,log,1)",
       "-s train.lr: range(1e-4,1e-2,log,1): the count is an integer from 2 to 10000, got \"1\""},
      {"train.lr=range(1e-4,1e-2,log,2.5)",
       "-s train.lr: range(1e-4,1e-2,log,2.5): the count is an integer from 2 to 10000, got \"2.5\""},
      {"residual.kind=choice()", "-s residual.kind: choice(): choice() needs at least one value"},
  };
  for (const auto& c : cases) {
    const std::string err = override_error(c.text);
    EXPECT_EQ(err.substr(0, std::string(c.error).size()), c.error) << c.text;
  }
}

// A range expands to the same runs as the values written out: same ids.
TEST(Overrides, RangeGivesTheRunsOfTheWrittenValues) {
  const std::string exp = R"({"base": {"train.steps": 5}})";
  const Expansion a = expand(parse_experiment(exp, "e.json", {"train.lr=range(1e-4,1e-2,log,3)"}));
  const Expansion b = expand(parse_experiment(exp, "e.json", {"train.lr=0.0001,1e-3,0.01"}));
  ASSERT_EQ(a.runs.size(), 3u);
  ASSERT_EQ(b.runs.size(), 3u);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(a.runs[i].id, b.runs[i].id) << i;
  const Expansion s = expand(parse_experiment(exp, "e.json", {"seeds=range(3,6)"}));
  ASSERT_EQ(s.runs.size(), 3u);
  EXPECT_EQ(s.runs[0].config.seed, 3);
  EXPECT_EQ(s.runs[2].config.seed, 5);
}

TEST(Overrides, ASweepChangedBySetHasItsOwnName) {
  const std::string exp = R"({"name": "quick", "base": {"train.steps": 5}})";
  EXPECT_EQ(parse_experiment(exp, "e.json").name, "quick");
  EXPECT_EQ(parse_experiment(exp, "e.json", {"train.steps=100"}).name, "quick@train.steps=100");
  EXPECT_EQ(parse_experiment(exp, "e.json", {"train.lr=1e-3,3e-3", "seeds=3"}).name,
            "quick@train.lr=1e-3,3e-3@seeds=3");
  EXPECT_EQ(parse_experiment(exp, "e.json", {"train.lr=range(1e-4,1e-2,log,5)"}).name,
            "quick@train.lr=range(1e-4,1e-2,log,5)");
  EXPECT_EQ(parse_experiment(exp, "e.json", {"data.path=/data/a b.txt"}).name, "quick@data.path=_data_a_b.txt");
  // Placement is not identity: the same runs, the same sweep.
  EXPECT_EQ(parse_experiment(exp, "e.json", {"train.device=cuda", "train.threads=4"}).name, "quick");
  EXPECT_EQ(parse_experiment(exp, "e.json", {"train.keep_checkpoints=5"}).name, "quick");  // disk use, same runs
  // A long suffix is cut and ends in a hash of the whole, so two long ones differ.
  const std::string a = sweep_name("q", {"data.path=" + std::string(100, 'a')});
  const std::string b = sweep_name("q", {"data.path=" + std::string(100, 'a') + "b"});
  EXPECT_EQ(a.size(), 1u + 80u);
  EXPECT_EQ(a.substr(0, 13), "q@data.path=a");
  EXPECT_EQ(a[a.size() - 9], '~');
  EXPECT_NE(a, b);
}

}  // namespace
}  // namespace hcx::grid
