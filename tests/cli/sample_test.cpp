// hcx sample end to end: text from a tiny model the binary trained, on bytes,
// on the synthetic language and on SentencePiece pieces; one seed gives one
// text, greedy is temperature 0 (and top-k 1), and bad options exit 2.
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "cli/cli_util.h"

namespace hcx::test {
namespace {

// A tiny byte-level model of Shakespeare (10 steps: it has barely begun to learn, which is enough).
constexpr const char* kBytesRun = R"({"model": {"d_model": 16, "n_layers": 2, "n_heads": 2, "seq_len": 32},
  "data": {"source": "text", "path": ")" HCX_DATA_DIR R"(/tinyshakespeare.txt"},
  "train": {"steps": 10, "batch_size": 4, "lr": 1e-2, "warmup_steps": 2, "log_every": 5, "threads": 1},
  "eval": {"every": 0, "batches": 1}})";

// Trains `config` in `dir` (database r/hcx.db) and returns the run id.
std::string train(const TempDir& dir, const std::string& config) {
  write_file(dir / "run.json", config);
  const Result r = run_hcx("run run.json --db r/hcx.db --progress none", dir.path().string());
  EXPECT_EQ(r.code, 0) << r.output;
  return query1(dir / "r/hcx.db", "SELECT id FROM runs");
}

class Sample : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir;
    id_ = train(*dir_, kBytesRun);
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  // `hcx sample <id> args` in the run's folder: stdout only, or with stderr.
  static Output sample(const std::string& args, bool merge_stderr = false) {
    return run_hcx_output("sample " + id_ + " --db '" + (*dir_ / "r/hcx.db").string() + "' " + args, merge_stderr);
  }
  static TempDir* dir_;
  static std::string id_;
};
TempDir* Sample::dir_ = nullptr;
std::string Sample::id_;

TEST_F(Sample, OneSeedOneTextAndThePromptFirst) {
  const Output a = sample("--prompt 'ROMEO:' --tokens 60 --temperature 1 --seed 1");
  ASSERT_EQ(a.exit_code, 0) << sample("--prompt 'ROMEO:' --tokens 60 --seed 1", true).out;
  EXPECT_EQ(a.out.size(), 6u + 60u + 1u) << a.out;  // the prompt, one byte per token, a newline
  EXPECT_EQ(a.out.rfind("ROMEO:", 0), 0u) << a.out;
  EXPECT_EQ(sample("--prompt 'ROMEO:' --tokens 60 --temperature 1 --seed 1").out, a.out);
  EXPECT_NE(sample("--prompt 'ROMEO:' --tokens 60 --temperature 1 --seed 2").out, a.out);
  EXPECT_EQ(sample("--prompt 'ROMEO:' --tokens 0").out, "ROMEO:\n");
}

TEST_F(Sample, GreedyIsTemperatureZeroAndTopKOne) {
  const Output greedy = sample("--prompt 'To be' --tokens 40 --greedy");
  ASSERT_EQ(greedy.exit_code, 0);
  EXPECT_EQ(sample("--prompt 'To be' --tokens 40 --temperature 0 --seed 7").out, greedy.out);
  EXPECT_EQ(sample("--prompt 'To be' --tokens 40 --temperature 0 --seed 8 --top-k 5").out, greedy.out);
  EXPECT_EQ(sample("--prompt 'To be' --tokens 40 --temperature 1 --top-k 1 --seed 9").out, greedy.out);
  // a checkpoint named by its step is the same one
  EXPECT_EQ(sample("--prompt 'To be' --tokens 40 --greedy --step 10").out, greedy.out);
}

// An empty prompt is allowed: the text starts where the tokenizer starts a
// text (bytes: after a "\n", which is not printed).
TEST_F(Sample, EmptyPromptStartsATextAndPromptsLongerThanTheContextAreCropped) {
  const Output empty = sample("--prompt '' --tokens 20 --seed 3");
  ASSERT_EQ(empty.exit_code, 0);
  EXPECT_EQ(empty.out.size(), 21u);
  const std::string long_prompt(100, 'a');  // model.seq_len is 32
  const Output cropped = sample("--prompt '" + long_prompt + "' --tokens 5 --greedy");
  ASSERT_EQ(cropped.exit_code, 0);
  EXPECT_EQ(cropped.out.size(), 100u + 5u + 1u);
}

TEST_F(Sample, BadOptionsExit2NamingTheFlag) {
  const struct {
    const char* args;
    const char* message;
  } cases[] = {
      {"--prompt x --temperature -1", "--temperature: expected a number >= 0"},
      {"--prompt x --top-k -3", "--top-k: expected >= 0"},
      {"--prompt x --tokens -1", "--tokens: expected >= 0"},
      {"--prompt x --step 3", "--step 3: run " },
      {"--tokens 5", "--prompt is required"},
  };
  for (const auto& c : cases) {
    const Output r = sample(c.args, /*merge_stderr=*/true);
    EXPECT_EQ(r.exit_code, 2) << c.args << ": " << r.out;
    EXPECT_NE(r.out.find(c.message), std::string::npos) << c.args << ": " << r.out;
  }
  const Output unknown =
      run_hcx_output("sample 0123456789abcdef --prompt x --db '" + (*dir_ / "r/hcx.db").string() + "'", true);
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.out.find("no run 0123456789abcdef"), std::string::npos) << unknown.out;
}

// The synthetic language reads and writes token names.
TEST(SampleSynthetic, PromptAndTextAreTokenNames) {
  TempDir dir;
  const std::string id = train(dir, R"({"model": {"d_model": 16, "n_layers": 1, "n_heads": 2, "seq_len": 24, "vocab_size": 64},
    "data": {"synthetic_tokens": 20000}, "train": {"steps": 5, "batch_size": 4, "warmup_steps": 1, "threads": 1},
    "eval": {"every": 0, "batches": 1, "tasks": [{"name": "syn_recall", "kind": "synthetic", "limit": 2}]}})");
  const std::string db = dir / "r/hcx.db";
  const Output r = run_hcx_output("sample " + id + " --db " + db + " --prompt 'set k2 v4' --tokens 6 --seed 1");
  ASSERT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out.rfind("set k2 v4 ", 0), 0u) << r.out;
  size_t words = 0;
  for (size_t at = 0; (at = r.out.find(' ', at)) != std::string::npos; ++at) ++words;
  EXPECT_EQ(words, 2u + 6u) << r.out;
  const Output bad = run_hcx_output("sample " + id + " --db " + db + " --prompt 'set kitten'", true);
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.out.find("--prompt: 'kitten' is not a token of the synthetic language"), std::string::npos) << bad.out;
}

// SentencePiece: pieces decode to text (no "▁" marks), the prompt comes first.
TEST(SampleSentencePiece, DecodesPiecesToText) {
  if (!fs::exists(fs::path(HCX_BINARY).parent_path() / "hcx-spm"))
    GTEST_SKIP() << "hcx-spm is not built (libsentencepiece-dev missing)";
  TempDir dir;
  std::string text;
  const char* lines[] = {"It is a truth universally acknowledged, that a single man", "in possession of a good",
                         "fortune, must be in want of a wife."};
  for (int i = 0; i < 300; ++i) text += std::string(lines[i % 3]) + "\n";
  write_file(dir / "corpus.txt", text);
  ASSERT_EQ(run_hcx("data tokenizer train corpus.txt --vocab 60 -o sp", dir.path().string()).code, 0);
  const std::string id = train(dir, R"({"model": {"d_model": 16, "n_layers": 1, "n_heads": 2, "seq_len": 16, "vocab_size": 64},
    "data": {"source": "text", "path": "corpus.txt", "tokenizer": "sp.model", "val_fraction": 0.2},
    "train": {"steps": 30, "batch_size": 8, "lr": 1e-2, "warmup_steps": 2, "log_every": 10, "threads": 1},
    "eval": {"every": 0, "batches": 1}})");
  // data.tokenizer is stored as written ("sp.model"), relative to where the run was started
  const std::string cmd = "cd '" + dir.path().string() + "' && " HCX_BINARY " sample " + id +
                          " --db r/hcx.db --prompt 'It is a' --tokens 12 --greedy";
  const auto [code, out] = capture(cmd + " 2>/dev/null");
  ASSERT_EQ(code, 0) << capture(cmd + " 2>&1").output;
  EXPECT_EQ(out.rfind("It is a", 0), 0u) << out;
  EXPECT_GT(out.size(), std::string("It is a\n").size()) << out;
  EXPECT_EQ(out.find("\xE2\x96\x81"), std::string::npos) << out;
  for (char c : out) EXPECT_TRUE(c == '\n' || (c >= ' ' && c < 127)) << out;
}

}  // namespace
}  // namespace hcx::test
