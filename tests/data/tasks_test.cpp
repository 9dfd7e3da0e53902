// Task files: both layouts, field mapping, limit, every malformed-line error,
// tokenisation, the run's task list, and the real files in data/.
#include "hcx/data/tasks.h"

#include <gtest/gtest.h>

#include "hcx/data/synthetic_tasks.h"
#include "test_util.h"

namespace hcx::data {
namespace {

using testing::error_of;
using testing::TempDir;

config::TaskSpec choice_spec(const std::string& path) {
  config::TaskSpec s;
  s.name = "hs";
  s.kind = "choice";
  s.path = path;
  return s;
}

config::TaskSpec pairs_spec(const std::string& path) {
  config::TaskSpec s = choice_spec(path);
  s.kind = "pairs";
  return s;
}

TEST(ReadTaskItems, ChoiceLayoutJoinsChoicesWithASpace) {
  TempDir dir;
  const auto path = dir.write("hs.jsonl",
                              R"({"ctx": "A man sits. He", "endings": ["runs.", "eats.", " jumps."], "label": 2})"
                              "\n\n"
                              R"({"ctx": "Ends in space ", "endings": ["a", "b"], "label": "1", "extra": 5})"
                              "\n");
  const auto items = read_task_items(choice_spec(path));
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].context, "A man sits. He");
  EXPECT_EQ(items[0].choices, (std::vector<std::string>{" runs.", " eats.", " jumps."}));
  EXPECT_EQ(items[0].label, 2);
  EXPECT_EQ(items[0].line, 1);
  EXPECT_EQ(items[1].choices, (std::vector<std::string>{"a", "b"}));  // the context already ends in a space
  EXPECT_EQ(items[1].label, 1);                                       // label given as a string of digits
  EXPECT_EQ(items[1].line, 3);                                        // blank line skipped, still counted
}

TEST(ReadTaskItems, PairsLayoutIsGoodThenBadWithEmptyContext) {
  TempDir dir;
  const auto path = dir.write("blimp.jsonl", R"({"UID": "x", "sentence_good": "Cats sleep.", "sentence_bad": "Cats sleeps."})"
                                             "\n");
  const auto items = read_task_items(pairs_spec(path));
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].context, "");
  EXPECT_EQ(items[0].choices, (std::vector<std::string>{"Cats sleep.", "Cats sleeps."}));
  EXPECT_EQ(items[0].label, 0);
}

TEST(ReadTaskItems, FieldMappingAndLimit) {
  TempDir dir;
  std::string text;
  for (int i = 0; i < 5; ++i)
    text += R"({"question": "Q)" + std::to_string(i) + R"(", "options": ["x", "y", "z"], "answer": 1})" "\n";
  config::TaskSpec spec = choice_spec(dir.write("q.jsonl", text));
  spec.context_field = "question";
  spec.choices_field = "options";
  spec.label_field = "answer";
  spec.limit = 3;
  const auto items = read_task_items(spec);
  ASSERT_EQ(items.size(), 3u);
  EXPECT_EQ(items[2].context, "Q2");
  EXPECT_EQ(items[2].choices[1], " y");

  spec.stride = 2;  // items 0, 2, 4 of the file, then the limit
  spec.limit = 2;
  const auto strided = read_task_items(spec);
  ASSERT_EQ(strided.size(), 2u);
  EXPECT_EQ(strided[0].context, "Q0");
  EXPECT_EQ(strided[1].context, "Q2");
  EXPECT_EQ(strided[1].line, 3);

  config::TaskSpec pairs = pairs_spec(dir.write("p.jsonl", R"({"ok": "a b", "no": "b a"})" "\n"));
  pairs.good_field = "ok";
  pairs.bad_field = "no";
  EXPECT_EQ(read_task_items(pairs)[0].choices, (std::vector<std::string>{"a b", "b a"}));
}

TEST(ReadTaskItems, MalformedLinesNameFileLineAndField) {
  TempDir dir;
  const std::string good = R"({"ctx": "c", "endings": ["a", "b"], "label": 0})";
  const struct {
    const char* kind;
    std::string line2;
    std::string error;  // after "<path>:2: "
  } cases[] = {
      {"choice", "{\"ctx\": \"c\", ", "not valid JSON (parse error at line 1, column 14: syntax error while parsing "
                                     "object key - unexpected end of input; expected string literal)"},
      {"choice", "[1, 2]", "expected a JSON object"},
      {"choice", R"({"endings": ["a", "b"], "label": 0})", "missing field \"ctx\""},
      {"choice", R"({"ctx": 3, "endings": ["a", "b"], "label": 0})", "field \"ctx\": expected a string, got a number"},
      {"choice", R"({"ctx": "c", "label": 0})", "missing field \"endings\""},
      {"choice", R"({"ctx": "c", "endings": "a", "label": 0})",
       "field \"endings\": expected a list of at least 2 strings, got a string"},
      {"choice", R"({"ctx": "c", "endings": ["a"], "label": 0})",
       "field \"endings\": expected a list of at least 2 strings, got a list of 1"},
      {"choice", R"({"ctx": "c", "endings": ["a", 7], "label": 0})",
       "field \"endings\": expected a list of at least 2 strings, got a list holding a number"},
      {"choice", R"({"ctx": "c", "endings": ["a", "b"]})", "missing field \"label\""},
      {"choice", R"({"ctx": "c", "endings": ["a", "b"], "label": 2})",
       "field \"label\": expected an integer from 0 to 1, got 2"},
      {"choice", R"({"ctx": "c", "endings": ["a", "b"], "label": -1})",
       "field \"label\": expected an integer from 0 to 1, got -1"},
      {"choice", R"({"ctx": "c", "endings": ["a", "b"], "label": "one"})",
       "field \"label\": expected an integer from 0 to 1, got \"one\""},
      {"choice", R"({"ctx": "c", "endings": ["a", "b"], "label": 1.5})",
       "field \"label\": expected an integer from 0 to 1, got 1.5"},
      {"pairs", R"({"sentence_good": "a"})", "missing field \"sentence_bad\""},
      {"pairs", R"({"sentence_good": null, "sentence_bad": "b"})",
       "field \"sentence_good\": expected a string, got null"},
  };
  for (const auto& c : cases) {
    const std::string first = std::string(c.kind) == "pairs" ? R"({"sentence_good": "a", "sentence_bad": "b"})" : good;
    const auto path = dir.write("bad.jsonl", first + "\n" + c.line2 + "\n");
    config::TaskSpec spec = choice_spec(path);
    spec.kind = c.kind;
    ErrorKind kind = ErrorKind::kIo;
    EXPECT_EQ(error_of([&] { read_task_items(spec); }, &kind), path + ":2: " + c.error) << c.line2;
    EXPECT_EQ(kind, ErrorKind::kBadInput);
  }
  // A limit that stops before a bad line never sees it.
  config::TaskSpec limited = choice_spec(dir.write("lim.jsonl", good + "\n{oops\n"));
  limited.limit = 1;
  EXPECT_EQ(read_task_items(limited).size(), 1u);
}

TEST(ReadTaskItems, MissingAndEmptyFiles) {
  TempDir dir;
  EXPECT_EQ(error_of([&] { read_task_items(choice_spec(dir.file("none.jsonl"))); }),
            dir.file("none.jsonl") + ": file not found");
  EXPECT_EQ(error_of([&] { read_task_items(choice_spec(dir.write("e.jsonl", "\n \n"))); }),
            dir.file("e.jsonl") + ": no items");
}

TEST(EncodeItems, BytesKeepTextsAndUseTheBoundaryForEmptyContexts) {
  std::vector<TaskItem> items(2);
  items[0] = {"ab", {" c", " dé"}, 1, 4};
  items[1] = {"", {"x", "yz"}, 0, 5};
  const auto enc = encode_items(items, Tokenizer::bytes(), 256, "t.jsonl");
  EXPECT_EQ(enc[0].context, (std::vector<int32_t>{'a', 'b'}));
  EXPECT_EQ(enc[0].choices[1], (std::vector<int32_t>{' ', 'd', 0xc3, 0xa9}));
  EXPECT_EQ(enc[0].choice_bytes, (std::vector<int64_t>{2, 4}));  // UTF-8 bytes, leading space included
  EXPECT_EQ(enc[0].label, 1);
  EXPECT_EQ(enc[1].context, std::vector<int32_t>{'\n'});
  EXPECT_EQ(error_of([&] { encode_items(items, Tokenizer::bytes(), 128, "t.jsonl"); }),
            "t.jsonl: item 1 (line 4): token id 195 is >= model.vocab_size 128");
  items[1].choices[0] = "";
  EXPECT_EQ(error_of([&] { encode_items(items, Tokenizer::bytes(), 256, "t.jsonl"); }),
            "t.jsonl: item 2 (line 5): choice 0 is empty after tokenisation");
}

TEST(LoadTasks, SyntheticDefaultsOnlyForTheSyntheticSource) {
  config::RunConfig cfg;
  const auto tasks = load_tasks(cfg, std::nullopt);
  ASSERT_EQ(tasks.size(), synthetic_task_names().size());
  for (const auto& t : tasks) EXPECT_EQ(static_cast<int64_t>(t.items.size()), kDefaultSyntheticItems);
  cfg.model.seq_len = 12;  // too short: no default tasks, no error
  EXPECT_TRUE(load_tasks(cfg, std::nullopt).empty());
  cfg.model.seq_len = 64;
  cfg.data.source = "text";
  EXPECT_TRUE(load_tasks(cfg, Tokenizer::bytes()).empty());
}

TEST(LoadTasks, ExplicitTasksWithLimitsAndTheirErrors) {
  TempDir dir;
  config::RunConfig cfg;
  config::TaskSpec syn;
  syn.name = "syn_recall";
  syn.kind = "synthetic";
  syn.limit = 7;
  cfg.eval.tasks = {syn};
  auto tasks = load_tasks(cfg, std::nullopt);
  ASSERT_EQ(tasks.size(), 1u);
  EXPECT_EQ(tasks[0].items.size(), 7u);

  config::TaskSpec hs = choice_spec(dir.write("hs.jsonl", R"({"ctx": "c", "endings": ["a", "b"], "label": 1})" "\n"));
  cfg.eval.tasks = {syn, hs};
  EXPECT_EQ(error_of([&] { load_tasks(cfg, std::nullopt); }),
            "eval.tasks[1] (hs): kind \"choice\" needs a text tokenizer, but data.source is \"synthetic\"");
  cfg.data.source = "text";
  EXPECT_EQ(error_of([&] { load_tasks(cfg, Tokenizer::bytes()); }),
            "eval.tasks[0] (syn_recall): kind \"synthetic\" needs data.source \"synthetic\", got \"text\"");
  cfg.eval.tasks = {hs};
  tasks = load_tasks(cfg, Tokenizer::bytes());
  ASSERT_EQ(tasks.size(), 1u);
  EXPECT_EQ(tasks[0].name, "hs");
  EXPECT_EQ(tasks[0].kind, "choice");
  EXPECT_EQ(tasks[0].items[0].choices[1], (std::vector<int32_t>{' ', 'b'}));
  hs.path = dir.file("gone.jsonl");
  cfg.eval.tasks = {hs};
  EXPECT_EQ(error_of([&] { load_tasks(cfg, Tokenizer::bytes()); }),
            "eval.tasks[0] (hs): " + hs.path + ": file not found");
}

TEST(ShippedData, HellaSwagAndBlimpLoadWithTheDefaultMapping) {
  const std::string shared = HCX_DATA_DIR;  // the repository's data/
  const auto hs = read_task_items(choice_spec(shared + "/hellaswag_val_1000.jsonl"));
  ASSERT_EQ(hs.size(), 1000u);
  EXPECT_EQ(hs[0].context, "Roof shingle removal: A man is sitting on a roof. he");
  EXPECT_EQ(hs[0].choices.size(), 4u);
  EXPECT_EQ(hs[0].choices[3], " starts pulling up roofing on a roof.");
  EXPECT_EQ(hs[0].label, 3);
  for (const auto& item : hs) EXPECT_EQ(item.choices.size(), 4u);

  config::TaskSpec blimp = pairs_spec(shared + "/blimp_pairs_100each.jsonl");
  EXPECT_EQ(read_task_items(blimp).size(), 6700u);
  blimp.limit = 100;
  const auto pairs = read_task_items(blimp);
  ASSERT_EQ(pairs.size(), 100u);
  EXPECT_EQ(pairs[0].choices[0], "Who should Derek hug after shocking Richard?");
  EXPECT_EQ(pairs[0].choices[1], "Who should Derek hug Richard after shocking?");

  const auto enc = encode_items(hs, Tokenizer::bytes(), 256, "hellaswag");
  EXPECT_EQ(enc[0].choice_bytes[3], 37);
}

}  // namespace
}  // namespace hcx::data
