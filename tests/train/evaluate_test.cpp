// Multiple-choice scoring: acc and acc_norm on a hand-built task with a model
// whose scores are known, and the one-token fast path against plain scoring.
#include "hcx/train/evaluate.h"

#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>

#include <unistd.h>

#include <gtest/gtest.h>
#include <torch/types.h>
#include <torch/utils.h>

#include "common/tiny_config.h"
#include "hcx/data/tasks.h"
#include "hcx/data/tokenizer.h"

namespace hcx::train {
namespace {

// seq_len 32 and vocab 256: every byte is a token.
config::RunConfig tiny() { return hcx::test::tiny_config(2, 32, 256); }

// All weights zero: logits are 0, every token has probability 1/V, so a
// choice of k tokens scores exactly -k ln V.
model::Gpt uniform_model() {
  model::Gpt m = model::make_model(tiny());
  torch::NoGradGuard no_grad;
  for (auto& p : m->parameters()) p.zero_();
  return m;
}

data::Task task_from(const std::string& jsonl, const char* kind) {
  // ctest runs each test as its own process, in parallel: one file per test.
  const std::string path = ::testing::TempDir() + "/hcx_eval_" +
                           ::testing::UnitTest::GetInstance()->current_test_info()->name() + "_" +
                           std::to_string(::getpid()) + ".jsonl";
  std::ofstream(path) << jsonl;
  config::TaskSpec spec;
  spec.name = "hand";
  spec.kind = kind;
  spec.path = path;
  data::Task t{"hand", kind, data::encode_items(data::read_task_items(spec), data::Tokenizer::bytes(), 256, "hand")};
  std::remove(path.c_str());
  return t;
}

TEST(Evaluate, KnownScoresGiveExactAccAndAccNorm) {
  // Choices become " x", " yyy", ... (a space joins them to the context).
  const data::Task task = task_from(
      R"({"ctx": "ab", "endings": ["x", "yyy"], "label": 0})" "\n"   // acc right (fewer bytes), acc_norm tie -> 0 right
      R"({"ctx": "ab", "endings": ["zz", "w"], "label": 0})" "\n"    // acc picks 1: wrong; acc_norm tie -> 0 right
      R"({"ctx": "ab", "endings": ["p", "q"], "label": 1})" "\n",    // both tie -> 0: wrong
      "choice");
  model::Gpt m = uniform_model();
  const at::Device cpu(at::kCPU);
  const std::vector<double> ll = choice_log_likelihoods(*m, task.items[0], cpu);
  ASSERT_EQ(ll.size(), 2u);
  EXPECT_NEAR(ll[0], -2 * std::log(256.0), 1e-5);
  EXPECT_NEAR(ll[1], -4 * std::log(256.0), 1e-5);
  const TaskScore s = score_task(*m, task, cpu);
  EXPECT_EQ(s.n, 3);
  EXPECT_DOUBLE_EQ(s.acc, 1.0 / 3.0);
  EXPECT_DOUBLE_EQ(s.acc_norm, 2.0 / 3.0);
}

TEST(Evaluate, PairsScoreTheGoodSentenceAgainstTheBad) {
  const data::Task task = task_from(R"({"sentence_good": "ab.", "sentence_bad": "abcd."})" "\n"
                                    R"({"sentence_good": "abcd.", "sentence_bad": "ab."})" "\n",
                                    "pairs");
  model::Gpt m = uniform_model();
  const TaskScore s = score_task(*m, task, at::Device(at::kCPU));
  EXPECT_DOUBLE_EQ(s.acc, 0.5);       // the shorter sentence wins under a uniform model
  EXPECT_DOUBLE_EQ(s.acc_norm, 1.0);  // per byte every choice ties, and a tie goes to index 0, the good one
}

TEST(Evaluate, OneTokenFastPathEqualsScoringEachChoice) {
  config::RunConfig c = tiny();
  c.model.vocab_size = 64;
  model::Gpt m = model::make_model(c);
  config::TaskSpec spec;
  spec.name = "syn_recall";
  spec.kind = "synthetic";
  spec.limit = 40;
  c.eval.tasks = {spec};
  const data::Task task = data::load_tasks(c, std::nullopt).at(0);
  const at::Device cpu(at::kCPU);
  const auto fast = task_log_likelihoods(*m, task, cpu);
  ASSERT_EQ(fast.size(), task.items.size());
  for (size_t i = 0; i < task.items.size(); ++i) {
    ASSERT_EQ(task.items[i].choices[0].size(), 1u);
    const auto slow = choice_log_likelihoods(*m, task.items[i], cpu);
    for (size_t k = 0; k < slow.size(); ++k) EXPECT_NEAR(fast[i][k], slow[k], 1e-4) << i << " " << k;
  }
}

}  // namespace
}  // namespace hcx::train
