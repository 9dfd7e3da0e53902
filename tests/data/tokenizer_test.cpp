// SentencePiece through hcx-spm: finding the helper, training, encoding,
// the token cache, bits-per-byte bookkeeping and the tokenizer's errors.
#include "hcx/data/tokenizer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <sstream>

#include "hcx/data/dataset.h"
#include "hcx/data/tasks.h"
#include "test_util.h"

namespace hcx::data {
namespace {

using testing::error_of;
using testing::TempDir;

std::string sample_text() {
  std::string text;
  const char* lines[] = {"The cat sat on the mat.", "A dog ran in the park, and the cat ran too.",
                         "Birds sing in the morning; the park is quiet at night.", ""};
  for (int i = 0; i < 300; ++i) text += std::string(lines[i % 4]) + "\n";
  return text;
}

// The helper is built with the tests (tests/CMakeLists.txt); a build without
// libsentencepiece skips these tests.
bool have_helper() {
  try {
    find_spm_helper();
    return true;
  } catch (const Error&) {
    return false;
  }
}

class SentencePiece : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!have_helper()) GTEST_SKIP() << "hcx-spm is not built";
    text_ = dir_.write("corpus.txt", sample_text());
    model_ = train_sentencepiece(text_, 60, dir_.file("sp"));
  }
  TempDir dir_;
  std::string text_, model_;
};

TEST_F(SentencePiece, TrainsAModelAndReadsItsVocabulary) {
  EXPECT_EQ(model_, dir_.file("sp.model"));
  EXPECT_TRUE(std::filesystem::exists(dir_.file("sp.vocab")));
  const Tokenizer tok = Tokenizer::sentencepiece(model_);
  EXPECT_EQ(tok.vocab_size(), 60);
  EXPECT_FALSE(tok.is_bytes());
  EXPECT_FALSE(tok.boundary().empty());
}

TEST_F(SentencePiece, EncodesTextsSeparatelyAndConsistentlyWithTheFileEncoder) {
  const Tokenizer tok = Tokenizer::sentencepiece(model_);
  const auto ids = tok.encode({"The cat sat on the mat.", "", "the park"});
  ASSERT_EQ(ids.size(), 3u);
  EXPECT_FALSE(ids[0].empty());
  EXPECT_TRUE(ids[1].empty());
  for (int32_t id : ids[0]) EXPECT_LT(id, 60);
  // The file encoder gives the same ids for the first line.
  const std::string one = dir_.write("one.txt", "The cat sat on the mat.\n");
  const int64_t n = encode_text_file(tok, one, dir_.file("one.bin"), TokenDtype::kUint16);
  EXPECT_EQ(n, static_cast<int64_t>(ids[0].size()));
  EXPECT_EQ(TokenSpan::map_file(dir_.file("one.bin"), TokenDtype::kUint16, "x").to_vector(), ids[0]);
}

TEST_F(SentencePiece, TextSourceIsEncodedOnceIntoTheCacheWithExactBytesPerToken) {
  config::RunConfig cfg;
  cfg.model.seq_len = 16;
  cfg.data.source = "text";
  cfg.data.path = text_;
  cfg.data.tokenizer = model_;
  cfg.data.val_fraction = 0.1;
  const std::string cache = dir_.file("cache");
  const Dataset d = open_dataset(cfg, {cache});
  ASSERT_TRUE(d.tokenizer);
  const auto cached = std::distance(std::filesystem::directory_iterator(cache + "/tokens"), {});
  EXPECT_EQ(cached, 2);  // .bin and .idx
  // Validation starts at the first line start at or after the 90 % mark, and
  // its bytes per token are those of the lines it holds.
  std::vector<std::string> lines;
  std::istringstream in(sample_text());
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  const auto per_line = d.tokenizer->encode(lines);
  int64_t n = 0;
  for (const auto& ids : per_line) n += static_cast<int64_t>(ids.size());
  const int64_t s0 = n - std::llround(n * 0.1);
  int64_t start = 0, bytes_before = 0;
  size_t k = 0;
  for (; k < lines.size() && start < s0; ++k) {
    start += static_cast<int64_t>(per_line[k].size());
    bytes_before += static_cast<int64_t>(lines[k].size()) + 1;
  }
  EXPECT_EQ(d.train.size(), start);
  EXPECT_EQ(d.val.tokens.size(), n - start);
  const int64_t val_bytes = static_cast<int64_t>(sample_text().size()) - bytes_before;
  ASSERT_TRUE(d.val.bytes_per_token);
  EXPECT_DOUBLE_EQ(*d.val.bytes_per_token, static_cast<double>(val_bytes) / static_cast<double>(n - start));
  // A second open reuses the cache (same files, same tokens).
  const auto mtime = std::filesystem::last_write_time(std::filesystem::directory_iterator(cache + "/tokens")->path());
  const Dataset again = open_dataset(cfg, {cache});
  EXPECT_EQ(again.val.tokens.to_vector(), d.val.tokens.to_vector());
  EXPECT_EQ(std::filesystem::last_write_time(std::filesystem::directory_iterator(cache + "/tokens")->path()), mtime);
  // Tasks are tokenised with the same model.
  std::vector<TaskItem> items(1);
  items[0] = {"", {"The cat sat.", "Cat the sat."}, 0, 1};
  const auto enc = encode_items(items, *d.tokenizer, 60, "t");
  EXPECT_EQ(enc[0].context, d.tokenizer->boundary());
  EXPECT_EQ(enc[0].choice_bytes, (std::vector<int64_t>{12, 12}));
}

TEST_F(SentencePiece, VocabularyLargerThanTheModelIsABadInput) {
  config::RunConfig cfg;
  cfg.model.vocab_size = 50;
  cfg.data.source = "text";
  cfg.data.path = text_;
  cfg.data.tokenizer = model_;
  EXPECT_EQ(error_of([&] { open_dataset(cfg, {dir_.file("cache")}); }),
            "data.tokenizer: " + model_ + ": a vocabulary of 60 pieces is larger than model.vocab_size 50");
}

TEST_F(SentencePiece, ErrorsFromTheHelperNameTheFile) {
  const std::string not_model = dir_.write("bogus.model", "not a model");
  const std::string msg = error_of([&] { Tokenizer::sentencepiece(not_model); });
  EXPECT_EQ(msg.rfind("data.tokenizer: " + not_model + ": not a SentencePiece model", 0), 0u) << msg;
  const std::string tiny = dir_.write("tiny.txt", "ab\nab\n");
  ErrorKind kind = ErrorKind::kIo;
  const std::string too_big = error_of([&] { train_sentencepiece(tiny, 5000, dir_.file("t")); }, &kind);
  EXPECT_NE(too_big.find(tiny + ": training failed:"), std::string::npos) << too_big;
  EXPECT_NE(too_big.find("Vocabulary size too high"), std::string::npos) << too_big;
  EXPECT_EQ(kind, ErrorKind::kBadInput);
  EXPECT_EQ(error_of([&] { train_sentencepiece(dir_.file("none.txt"), 100, dir_.file("t")); }),
            dir_.file("none.txt") + ": file not found");
}

TEST(FindSpmHelper, EnvironmentOverrideMustBeExecutable) {
  setenv("HCX_SPM", "/nonexistent/hcx-spm", 1);
  EXPECT_EQ(error_of([] { find_spm_helper(); }), "HCX_SPM: /nonexistent/hcx-spm: not an executable file");
  unsetenv("HCX_SPM");
}

TEST(ByteTokenizer, EncodeFileWidensBytes) {
  TempDir dir;
  const std::string text = dir.write("t.txt", "ab\n");
  EXPECT_EQ(encode_text_file(Tokenizer::bytes(), text, dir.file("t.bin"), TokenDtype::kUint32), 3);
  EXPECT_EQ(TokenSpan::map_file(dir.file("t.bin"), TokenDtype::kUint32, "x").to_vector(),
            (std::vector<int32_t>{'a', 'b', '\n'}));
  EXPECT_EQ(error_of([&] { encode_text_file(Tokenizer::bytes(), dir.write("e.txt", ""), dir.file("e.bin"),
                                            TokenDtype::kUint16); }),
            dir.file("e.txt") + ": file is empty");
}

}  // namespace
}  // namespace hcx::data
