// End to end: `hcx data` trains a SentencePiece model and encodes text
// through hcx-spm, writes byte token files, checks a run's data, and fails
// with exit 2 and a message naming the file on bad input.
#include <stdlib.h>
#include <sys/wait.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "cli/cli_util.h"

namespace {

namespace fs = std::filesystem;

using Result = hcx::test::Output;
Result run(const std::string& args, bool merge_stderr = false) { return hcx::test::run_hcx_output(args, merge_stderr); }

using hcx::test::read_file;

class CliData : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string text;
    const char* lines[] = {"It is a truth universally acknowledged, that a single man", "in possession of a good",
                           "fortune, must be in want of a wife.", ""};
    for (int i = 0; i < 400; ++i) text += std::string(lines[i % 4]) + "\n";
    text_ = write("corpus.txt", text);
  }
  std::string path(const std::string& name) const { return dir_.file(name); }
  std::string write(const std::string& name, const std::string& content) const { return dir_.write(name, content); }
  hcx::test::TempDir dir_{"cli_data"};
  std::string text_;
};

TEST_F(CliData, EncodeBytesAsUint16AndUint32) {
  const std::string text = write("small.txt", "Hi!\n");
  const Result r16 = run("data encode " + text + " --tokenizer bytes -o " + path("s16.bin") + " --dtype uint16");
  ASSERT_EQ(r16.exit_code, 0);
  EXPECT_EQ(r16.out, path("s16.bin") + ": 4 tokens (uint16, vocabulary 256)\n");
  EXPECT_EQ(read_file(path("s16.bin")), std::string("H\0i\0!\0\n\0", 8));
  ASSERT_EQ(run("data encode " + text + " -o " + path("s32.bin") + " --dtype uint32").exit_code, 0);
  EXPECT_EQ(read_file(path("s32.bin")), std::string("H\0\0\0i\0\0\0!\0\0\0\n\0\0\0", 16));
}

// hcx-spm sits next to hcx; a build without libsentencepiece has none.
bool have_helper() { return fs::exists(fs::path(HCX_BINARY).parent_path() / "hcx-spm"); }

TEST_F(CliData, SentencePieceTrainEncodeAndCheckRoundTrip) {
  if (!have_helper()) GTEST_SKIP() << "hcx-spm is not built (libsentencepiece-dev missing)";
  const Result train = run("data tokenizer train " + text_ + " --vocab 60 -o " + path("sp"));
  ASSERT_EQ(train.exit_code, 0) << run("data tokenizer train " + text_ + " --vocab 60 -o " + path("sp"), true).out;
  EXPECT_EQ(train.out, path("sp.model") + "\n");
  ASSERT_TRUE(fs::exists(path("sp.model")));

  const Result enc = run("data encode " + text_ + " --tokenizer " + path("sp.model") + " -o " + path("c.bin"));
  ASSERT_EQ(enc.exit_code, 0);
  const std::string ids = read_file(path("c.bin"));
  ASSERT_GT(ids.size(), 100u);
  ASSERT_EQ(ids.size() % 2, 0u);
  EXPECT_LT(ids.size() / 2, fs::file_size(text_));  // pieces are longer than bytes
  for (size_t i = 0; i < ids.size(); i += 2) {
    const int id = static_cast<unsigned char>(ids[i]) | static_cast<unsigned char>(ids[i + 1]) << 8;
    ASSERT_LT(id, 60) << "at " << i / 2;
  }

  // The encoded file trains as data.source "tokens"; the text itself as "text".
  const std::string tokens_cfg = write("tokens.json", R"({"model": {"vocab_size": 64, "seq_len": 16},
      "data": {"source": "tokens", "path": ")" + path("c.bin") + R"(", "tokenizer": ")" + path("sp.model") + R"("}})");
  const Result tokens = run("data check " + tokens_cfg);
  ASSERT_EQ(tokens.exit_code, 0) << run("data check " + tokens_cfg, true).out;
  const auto n = static_cast<int64_t>(ids.size() / 2);
  EXPECT_NE(tokens.out.find("train tokens  " + std::to_string(n - std::llround(n * 0.05)) + "\n"), std::string::npos)
      << tokens.out;

  // The text itself as data.source "text": encoded into the cache under
  // HCX_CACHE_DIR, with a measured bytes-per-token for bits per byte.
  const std::string text_cfg = write("text.json", R"({"model": {"vocab_size": 64, "seq_len": 16},
      "data": {"source": "text", "path": ")" + text_ + R"(", "tokenizer": ")" + path("sp.model") + R"("}})");
  const std::string cmd = "HCX_CACHE_DIR=" + path("cache") + " " + std::string(HCX_BINARY) + " data check " +
                          text_cfg + " > " + path("out.txt") + " 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << read_file(path("out.txt"));
  EXPECT_EQ(std::distance(fs::directory_iterator(path("cache") + "/tokens"), {}), 2);  // .bin and .idx
  const std::string out = read_file(path("out.txt"));
  EXPECT_NE(out.find("val tokens"), std::string::npos) << out;
  EXPECT_EQ(out.find("bytes/token n/a"), std::string::npos) << out;
}

TEST_F(CliData, BadInputsExitTwoAndNameTheFile) {
  const Result missing = run("data encode " + path("none.txt") + " -o " + path("x.bin"), true);
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.out.find(path("none.txt") + ": file not found"), std::string::npos) << missing.out;

  if (!have_helper()) GTEST_SKIP() << "hcx-spm is not built (libsentencepiece-dev missing)";
  const Result too_big = run("data tokenizer train " + write("tiny.txt", "ab\nab\n") + " --vocab 5000", true);
  EXPECT_EQ(too_big.exit_code, 2);
  EXPECT_NE(too_big.out.find(path("tiny.txt") + ": training failed"), std::string::npos) << too_big.out;

  ASSERT_EQ(run("data tokenizer train " + text_ + " --vocab 60 -o " + path("sp")).exit_code, 0);
  const std::string cfg = write("small.json", R"({"data": {"source": "text", "path": ")" + text_ +
                                                  R"(", "tokenizer": ")" + path("sp.model") +
                                                  R"("}, "model": {"vocab_size": 50}})");
  const Result vocab = run("data check " + cfg, true);
  EXPECT_EQ(vocab.exit_code, 2);
  EXPECT_NE(vocab.out.find("data.tokenizer: " + path("sp.model") +
                           ": a vocabulary of 60 pieces is larger than model.vocab_size 50"),
            std::string::npos)
      << vocab.out;
}

TEST_F(CliData, SamplePrintsTheSyntheticLanguage) {
  const Result r = run("data sample --tokens 40 --difficulty 1");
  ASSERT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out.rfind("<doc> ", 0), 0u) << r.out;
  EXPECT_EQ(run("data sample --vocab-size 20", true).exit_code, 2);
}

}  // namespace
