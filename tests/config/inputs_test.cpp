// The files a run reads: which keys name them, the check that they can be
// read, and their identity (runs.data_id).
#include "hcx/config/inputs.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "common/temp_dir.h"
#include "hcx/error.h"

namespace hcx::config {
namespace {

namespace fs = std::filesystem;

struct InputsTest : ::testing::Test {
  hcx::test::TempDir dir{"inputs"};
  std::string write(const std::string& name, const std::string& text) { return dir.write(name, text); }
};

RunConfig parse(const std::string& text) {
  std::vector<std::string> errors;
  RunConfig c = from_json(Json::parse(text), errors);
  EXPECT_TRUE(errors.empty()) << text << ": " << (errors.empty() ? "" : errors[0]);
  return c;
}

TEST_F(InputsTest, ListsEveryFileWithItsKey) {
  const RunConfig c = parse(R"({"data": {"source": "tokens", "path": "c.bin", "tokenizer": "sp.model"},
      "model.vocab_size": 4096,
      "eval": {"tasks": [{"name": "hs", "kind": "choice", "path": "hs.jsonl"},
                         {"name": "parity", "kind": "synthetic"},
                         {"name": "blimp", "kind": "pairs", "path": "b.jsonl"}],
               "extra_val": [{"name": "wiki", "path": "w.txt"}]}})");
  std::vector<std::string> got;
  for (const auto& f : input_files(c)) got.push_back(f.key + "=" + f.path);
  EXPECT_EQ(got, (std::vector<std::string>{"data.path=c.bin", "data.tokenizer=sp.model", "eval.tasks[0].path=hs.jsonl",
                                           "eval.tasks[2].path=b.jsonl", "eval.extra_val[0].path=w.txt"}));
  // Synthetic data reads no file; its tokenizer setting is unused.
  EXPECT_TRUE(input_files(parse(R"({"data.tokenizer": "sp.model"})")).empty());
  // Text with byte tokens: only the text.
  EXPECT_EQ(input_files(parse(R"({"data": {"source": "text", "path": "t.txt"}})")).size(), 1u);
}

// Paths in an experiment or run file are relative to that file: seen from
// its folder (relative when the folder was), absolute ones unchanged.
TEST_F(InputsTest, ResolvePathsSeesThemFromTheFilesFolder) {
  RunConfig c = parse(R"({"data": {"source": "tokens", "path": "../data/c.bin", "tokenizer": "/abs/sp.model"},
      "model.vocab_size": 4096,
      "eval": {"tasks": [{"name": "hs", "kind": "choice", "path": "hs.jsonl"}, {"name": "p", "kind": "synthetic"}],
               "extra_val": [{"name": "wiki", "path": "./w.txt"}]}})");
  resolve_input_paths(c, "experiments");
  std::vector<std::string> got;
  for (const auto& f : input_files(c)) got.push_back(f.key + "=" + f.path);
  EXPECT_EQ(got, (std::vector<std::string>{"data.path=data/c.bin", "data.tokenizer=/abs/sp.model",
                                           "eval.tasks[0].path=experiments/hs.jsonl",
                                           "eval.extra_val[0].path=experiments/w.txt"}));
  RunConfig same = parse(R"({"data": {"source": "text", "path": "t.txt"}})");
  resolve_input_paths(same, "");  // a file in the working directory
  EXPECT_EQ(same.data.path, "t.txt");
  RunConfig synthetic = parse(R"({"data.tokenizer": "sp.model"})");
  resolve_input_paths(synthetic, "experiments");
  EXPECT_EQ(synthetic.data.tokenizer, "sp.model");  // unused by synthetic data: left alone
}

TEST_F(InputsTest, CheckNamesKeyPathAndWhy) {
  const std::string text = write("t.txt", "hello");
  fs::create_directories(dir / "d");
  const std::string d = (dir / "d").string();
  const std::string missing = (dir / "none.jsonl").string();
  RunConfig c;
  c.data.source = "text";
  c.data.path = text;
  EXPECT_TRUE(check_input_files(c).empty());
  c.eval.tasks.push_back({"hs", "choice", missing});
  c.eval.extra_val.push_back({"wiki", d});
  EXPECT_EQ(check_input_files(c), (std::vector<std::string>{"eval.tasks[0].path: " + missing + ": file not found",
                                                            "eval.extra_val[0].path: " + d +
                                                                ": is a directory, not a file"}));
  if (geteuid() != 0) {  // root reads anything
    const std::string locked = write("locked.txt", "x");
    chmod(locked.c_str(), 0);
    c.eval.tasks.clear();
    c.eval.extra_val.clear();
    c.data.path = locked;
    EXPECT_EQ(check_input_files(c),
              (std::vector<std::string>{"data.path: " + locked + ": cannot be read (Permission denied)"}));
  }
}

TEST_F(InputsTest, FileIdIsSizeAndFnv1a64) {
  // FNV-1a 64 reference values: "" -> cbf29ce484222325, "a" -> af63dc4c8601ec8c, "foobar" -> 85944171f73967e8.
  EXPECT_EQ(file_id(write("e", ""), "k"), "0:cbf29ce484222325");
  EXPECT_EQ(file_id(write("a", "a"), "k"), "1:af63dc4c8601ec8c");
  const std::string f = write("f", "foobar");
  EXPECT_EQ(file_id(f, "k"), "6:85944171f73967e8");
  // New contents (new size and mtime): a new id, not the remembered one.
  write("f", "foobar!");
  EXPECT_NE(file_id(f, "k"), "6:85944171f73967e8");
  EXPECT_EQ(file_id(f, "k").substr(0, 2), "7:");
  try {
    file_id((dir / "nope").string(), "data.path");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "data.path: " + (dir / "nope").string() + ": file not found");
    EXPECT_EQ(e.exit_code(), 2);
  }
}

TEST_F(InputsTest, DataIdJoinsTheFilesIds) {
  RunConfig c;
  EXPECT_EQ(data_id(c), "synthetic");
  c.eval.tasks.push_back({"hs", "choice", write("hs.jsonl", "a")});
  EXPECT_EQ(data_id(c), "synthetic 1:af63dc4c8601ec8c");
  c.data.source = "text";
  c.data.path = write("t.txt", "foobar");
  EXPECT_EQ(data_id(c), "6:85944171f73967e8 1:af63dc4c8601ec8c");
}

}  // namespace
}  // namespace hcx::config
