// Opening a run's data: every source, the split, extra validation texts and
// every bad input, with the exact message a user sees.
#include "hcx/data/dataset.h"

#include <gtest/gtest.h>

#include <functional>
#include <numeric>

#include "hcx/data/synthetic.h"
#include "test_util.h"

namespace hcx::data {
namespace {

using testing::error_of;
using testing::TempDir;

config::RunConfig small_config() {
  config::RunConfig cfg;
  cfg.model.seq_len = 8;
  cfg.data.val_fraction = 0.25;
  return cfg;
}

TEST(OpenDataset, SyntheticIsTheConfiguredCorpusSplitAtTheTail) {
  config::RunConfig cfg;
  cfg.data.synthetic_tokens = 10000;
  cfg.data.val_fraction = 0.1;
  const Dataset d = open_dataset(cfg);
  EXPECT_EQ(d.source, "synthetic");
  EXPECT_FALSE(d.tokenizer);
  EXPECT_FALSE(d.val.bytes_per_token);
  EXPECT_EQ(d.train.size(), 9000);
  EXPECT_EQ(d.val.tokens.size(), 1000);
  std::vector<int32_t> joined = d.train.to_vector();
  const auto val = d.val.tokens.to_vector();
  joined.insert(joined.end(), val.begin(), val.end());
  EXPECT_EQ(joined, generate_synthetic(synthetic_vocab(256), 2, 10000));
}

TEST(OpenDataset, SyntheticCorpusDoesNotDependOnTheRunSeed) {
  config::RunConfig a, b;
  a.data.synthetic_tokens = b.data.synthetic_tokens = 5000;
  b.seed = 99;
  EXPECT_EQ(open_dataset(a).train.to_vector(), open_dataset(b).train.to_vector());
}

TEST(OpenDataset, ByteTextSplitIsDisjointAndCoversTheFile) {
  TempDir dir;
  std::string text(1000, ' ');
  for (size_t i = 0; i < text.size(); ++i) text[i] = static_cast<char>('a' + i % 26);
  config::RunConfig cfg = small_config();
  cfg.data.source = "text";
  cfg.data.path = dir.write("t.txt", text);
  const Dataset d = open_dataset(cfg);
  EXPECT_EQ(d.tokenizer->name(), "bytes");
  EXPECT_EQ(d.train.size(), 750);
  EXPECT_EQ(d.val.tokens.size(), 250);
  EXPECT_EQ(d.train[0], 'a');
  EXPECT_EQ(d.val.tokens[0], text[750]);
  EXPECT_EQ(d.val.bytes_per_token, 1.0);
}

TEST(OpenDataset, TokensFilesOfBothDtypes) {
  TempDir dir;
  std::vector<int32_t> ids(400);
  std::iota(ids.begin(), ids.end(), 0);
  for (const char* dtype : {"uint16", "uint32"}) {
    config::RunConfig cfg = small_config();
    cfg.model.vocab_size = 400;
    cfg.data.source = "tokens";
    cfg.data.token_dtype = dtype;
    cfg.data.path = dir.file(std::string(dtype) + ".bin");
    write_token_file(cfg.data.path, ids, parse_token_dtype(dtype));
    const Dataset d = open_dataset(cfg);
    EXPECT_EQ(d.train.size(), 300) << dtype;
    EXPECT_EQ(d.val.tokens[0], 300) << dtype;
    EXPECT_FALSE(d.val.bytes_per_token);
  }
}

TEST(OpenDataset, SmallVocabularyTokensNeedNoTokenizer) {
  TempDir dir;
  config::RunConfig cfg = small_config();
  cfg.model.vocab_size = 64;
  cfg.data.source = "tokens";
  cfg.data.path = dir.file("t.bin");
  write_token_file(cfg.data.path, std::vector<int32_t>(100, 7), TokenDtype::kUint16);
  EXPECT_FALSE(open_dataset(cfg).tokenizer);
}

TEST(OpenDataset, ExtraValidationTextsAreWholeFilesTokenisedLikeTheCorpus) {
  TempDir dir;
  config::RunConfig cfg = small_config();
  cfg.data.source = "text";
  cfg.data.path = dir.write("main.txt", std::string(200, 'm'));
  cfg.eval.extra_val = {{"austen", dir.write("other.txt", std::string(50, 'o'))}};
  const Dataset d = open_dataset(cfg);
  ASSERT_EQ(d.extra_val.size(), 1u);
  EXPECT_EQ(d.extra_val[0].name, "austen");
  EXPECT_EQ(d.extra_val[0].tokens.size(), 50);
  EXPECT_EQ(d.extra_val[0].tokens[49], 'o');
  EXPECT_EQ(d.extra_val[0].bytes_per_token, 1.0);
}

TEST(OpenDataset, BadInputsFailBeforeTrainingNamingKeyFileAndProblem) {
  TempDir dir;
  const std::string ok = dir.write("ok.txt", std::string(100, 'x'));
  const std::string empty = dir.write("empty.txt", "");
  const std::string short_text = dir.write("short.txt", "short");  // 5 bytes < 9
  const std::string odd = dir.write("odd.bin", std::string(101, '\0'));
  const std::string big_ids = dir.file("big.bin");
  std::vector<int32_t> ids(100, 5);
  ids[42] = 300;
  ids[60] = 999;
  write_token_file(big_ids, ids, TokenDtype::kUint16);
  const std::string tiny_val = dir.write("tinyval.txt", std::string(20, 'x'));  // 0.25 * 20 = 5 < 9

  struct Case {
    std::string name;
    std::function<void(config::RunConfig&)> set;
    std::string error;
  };
  const std::vector<Case> cases = {
      {"missing text", [&](auto& c) { c.data.source = "text"; c.data.path = dir.file("no.txt"); },
       "data.path: " + dir.file("no.txt") + ": file not found"},
      {"empty text", [&](auto& c) { c.data.source = "text"; c.data.path = empty; },
       "data.path: " + empty + ": file is empty"},
      {"missing tokens", [&](auto& c) { c.data.source = "tokens"; c.data.path = dir.file("no.bin"); },
       "data.path: " + dir.file("no.bin") + ": file not found"},
      {"empty tokens", [&](auto& c) { c.data.source = "tokens"; c.data.path = empty; },
       "data.path: " + empty + ": file is empty"},
      {"odd byte length", [&](auto& c) { c.data.source = "tokens"; c.data.path = odd; },
       "data.path: " + odd + ": 101 bytes is not a multiple of 2 (uint16 ids)"},
      {"id too large", [&](auto& c) { c.data.source = "tokens"; c.data.path = big_ids; },
       "data.path: " + big_ids + ": token id 300 at position 42 is >= model.vocab_size 256"},
      {"shorter than a sequence", [&](auto& c) { c.data.source = "text"; c.data.path = short_text; },
       "data.path: " + short_text + ": 5 tokens, fewer than one sequence (model.seq_len + 1 = 9)"},
      {"validation split too short", [&](auto& c) { c.data.source = "text"; c.data.path = tiny_val; },
       "data.path: " + tiny_val + ": the validation split (data.val_fraction 0.25) has 5 tokens, fewer than one "
                                  "sequence (model.seq_len + 1 = 9)"},
      {"training split too short",
       [&](auto& c) { c.data.source = "text"; c.data.path = tiny_val; c.data.val_fraction = 0.9; },
       "data.path: " + tiny_val + ": the training split has 2 tokens, fewer than one sequence (model.seq_len + 1 = 9)"},
      {"missing extra_val file",
       [&](auto& c) {
         c.data.source = "tokens";
         c.data.path = big_ids;
         c.model.vocab_size = 1000;
         c.data.tokenizer = "bytes";
         c.eval.extra_val = {{"x", dir.file("none.txt")}};
       },
       "eval.extra_val[0] (x): " + dir.file("none.txt") + ": file not found"},
      {"synthetic vocab too small", [&](auto& c) { c.model.vocab_size = 40; },
       "model.vocab_size: the synthetic language needs at least 48 ids, got 40"},
      {"synthetic too short", [&](auto& c) { c.data.synthetic_tokens = 1024; c.model.seq_len = 512; },
       "data.synthetic_tokens: 1024: the validation split (data.val_fraction 0.25) has 256 tokens, fewer than one "
       "sequence (model.seq_len + 1 = 513)"},
      {"extra val with synthetic", [&](auto& c) { c.eval.extra_val = {{"x", ok}}; },
       "eval.extra_val[0] (x): needs a text tokenizer, but data.source is \"synthetic\""},
      {"extra val too short",
       [&](auto& c) { c.data.source = "text"; c.data.path = ok; c.eval.extra_val = {{"s", short_text}}; },
       "eval.extra_val[0] (s): " + short_text + ": 5 tokens, fewer than one sequence (model.seq_len + 1 = 9)"},
      {"missing tokenizer model", [&](auto& c) { c.data.source = "text"; c.data.path = ok; c.data.tokenizer = dir.file("m.model"); },
       "data.tokenizer: " + dir.file("m.model") + ": file not found"},
  };
  for (const auto& c : cases) {
    config::RunConfig cfg = small_config();
    c.set(cfg);
    ErrorKind kind = ErrorKind::kIo;
    EXPECT_EQ(error_of([&] { open_dataset(cfg); }, &kind), c.error) << c.name;
    EXPECT_EQ(kind, ErrorKind::kBadInput) << c.name;
  }
}

TEST(DefaultCacheDir, EnvironmentOverrides) {
  unsetenv("HCX_CACHE_DIR");
  EXPECT_EQ(default_cache_dir(), "results/cache");
  setenv("HCX_CACHE_DIR", "/tmp/x", 1);
  EXPECT_EQ(default_cache_dir(), "/tmp/x");
  unsetenv("HCX_CACHE_DIR");
}

}  // namespace
}  // namespace hcx::data
