// Run config parsing and validation: every error names its dotted key.
#include "hcx/config/run_config.h"

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "hcx/error.h"

namespace hcx::config {
namespace {

std::vector<std::string> errors_of(const char* text) {
  std::vector<std::string> errors;
  from_json(Json::parse(text), errors);
  return errors;
}

std::string first_error(const char* text) {
  const auto errors = errors_of(text);
  return errors.empty() ? "" : errors.front();
}

TEST(RunConfig, EmptyObjectIsAValidTinyRun) {
  EXPECT_TRUE(errors_of("{}").empty());
  std::vector<std::string> errors;
  const RunConfig c = from_json(Json::object(), errors);
  EXPECT_EQ(c.residual.kind, "pre_norm");
  EXPECT_EQ(c.data.source, "synthetic");
  EXPECT_EQ(c.train.device, "cpu");
}

TEST(RunConfig, ErrorsNameKeyAndExpectation) {
  const struct {
    const char* json;
    const char* error;
  } cases[] = {
      {R"({"train": {"lr": -3}})", "train.lr: expected a positive number, got -3"},
      {R"({"modle": {}})", "modle: unknown key (did you mean 'model'?)"},
      {R"({"model": {"d_modle": 64}})", "model.d_modle: unknown key (did you mean 'model.d_model'?)"},
      {R"({"train.lr": "fast"})", "train.lr: expected a number, got \"fast\""},
      {R"({"residual": {"n": 0}})", "residual.n: expected an expansion rate from 1 to 8, got 0"},
      {R"({"residual": {"kind": "hyper"}})",
       "residual.kind: expected one of \"pre_norm\", \"post_norm\", \"hc\", \"mhc\", \"frac\", \"laurel\", "
       "\"denseformer\", \"mudd\", got \"hyper\""},
      {R"({"residual": {"kind": "frac", "n": 3}})",
       "residual.n: expected a frac rate that divides model.d_model (64) into equal fractions, got 3"},
      {R"({"residual": {"kind": "laurel", "laurel_rank": -1}})",
       "residual.laurel_rank: expected an integer >= 0, got -1"},
      {R"({"residual": {"laurel_rank": 65}})", "residual.laurel_rank: expected an integer <= 64, got 65"},
      {R"({"residual": {"dwa_dilation": 0}})", "residual.dwa_dilation: expected an integer >= 1, got 0"},
      {R"({"residual": {"dwa_period": 0}})", "residual.dwa_period: expected an integer >= 1, got 0"},
      {R"({"model": {"ffn": "moes"}})",
       "model.ffn: expected one of \"swiglu\", \"gelu\", \"moe\", got \"moes\" (did you mean 'moe'?)"},
      {R"({"model": {"ffn": "moe", "moe_experts": 4, "moe_top_k": 5}})",
       "model.moe_top_k: expected at most model.moe_experts (4) experts per token, got 5"},
      {R"({"model": {"ffn": "moe", "moe_experts": 0}})", "model.moe_experts: expected an integer >= 1, got 0"},
      {R"({"model": {"ffn": "moe", "moe_lb_weight": -1}})",
       "model.moe_lb_weight: expected a number in [0, 1000], got -1"},
      {R"({"model": {"ffn": "moe", "moe_lb_convention": "switch"}})",
       "model.moe_lb_convention: expected one of \"megablocks\", \"hf\", got \"switch\""},
      {R"({"model": {"ffn": "moe", "moe_z_reduce": "max"}})",
       "model.moe_z_reduce: expected one of \"mean\", \"sum\", got \"max\" (did you mean 'mean'?)"},
      {R"({"model": {"d_model": 60, "n_heads": 8}})",
       "model.d_model: expected a multiple of model.n_heads (8), got 60"},
      {R"({"data": {"source": "text"}})", "data.path: expected a file path for data.source \"text\", got nothing"},
      {R"({"train": {"device": "gpu"}})", "train.device: expected \"cpu\", \"cuda\" or \"cuda:N\", got \"gpu\""},
      {R"({"eval": {"tasks": [{"name": "x", "kind": "choice", "pth": "a"}]}})",
       "eval.tasks[0].pth: unknown key (did you mean 'path'?)"},
      {R"({"model": 3})", "model: expected an object, got 3"},
  };
  for (const auto& c : cases) EXPECT_EQ(first_error(c.json), c.error) << c.json;
}

// The sizes of issue reports that allocated until the OOM killer came: refused
// at validation, before anything is built.
TEST(RunConfig, SizesBeyondAnyModelAreRefusedNamingTheBound) {
  const struct {
    const char* json;
    const char* error;
  } cases[] = {
      {R"({"model.n_layers": 100000})", "model.n_layers: expected an integer <= 1024, got 100000"},
      {R"({"model.vocab_size": 1e9})", "model.vocab_size: expected an integer <= 4194304, got 1000000000"},
      {R"({"model.d_model": 1e6, "model.n_heads": 4})", "model.d_model: expected an integer <= 65536, got 1000000"},
      {R"({"train.batch_size": 1e8})", "train.batch_size: expected an integer <= 1048576, got 100000000"},
      {R"({"model.seq_len": 1e7})", "model.seq_len: expected an integer <= 1048576, got 10000000"},
      {R"({"train.keep_checkpoints": 0})", "train.keep_checkpoints: expected an integer >= 1, got 0"},
  };
  for (const auto& c : cases) EXPECT_EQ(first_error(c.json), c.error) << c.json;
}

// data.source "tokens" holds ids of some tokenizer; tasks and extra_val texts
// are encoded with data.tokenizer, whose default "bytes" is wrong for a
// vocabulary above 256: refused, naming the key, where a text would be encoded.
TEST(RunConfig, TokensAboveByteVocabularyNeedTheirTokenizerForTexts) {
  const std::string refusal =
      "data.tokenizer: \"bytes\" would encode eval.tasks[0] (hs) as bytes, but data.source \"tokens\" with "
      "model.vocab_size 4096 holds another tokenizer's ids; set data.tokenizer to the SentencePiece model "
      "data.path was encoded with (hcx data encode --tokenizer), or drop those texts";
  const struct {
    const char* json;
    std::string error;  // "" : valid
  } cases[] = {
      {R"({"data": {"source": "tokens", "path": "c.bin"}, "model.vocab_size": 4096,
           "eval.tasks": [{"name": "hs", "kind": "choice", "path": "hs.jsonl"}]})",
       refusal},
      {R"({"data": {"source": "tokens", "path": "c.bin"}, "model.vocab_size": 4096,
           "eval.tasks": [{"name": "b", "kind": "pairs", "path": "b.jsonl"}]})",
       "data.tokenizer: \"bytes\" would encode eval.tasks[0] (b) as bytes, but data.source \"tokens\" with "
       "model.vocab_size 4096 holds another tokenizer's ids; set data.tokenizer to the SentencePiece model "
       "data.path was encoded with (hcx data encode --tokenizer), or drop those texts"},
      {R"({"data": {"source": "tokens", "path": "c.bin"}, "model.vocab_size": 4096,
           "eval.extra_val": [{"name": "wiki", "path": "w.txt"}]})",
       "data.tokenizer: \"bytes\" would encode eval.extra_val[0] (wiki) as bytes, but data.source \"tokens\" with "
       "model.vocab_size 4096 holds another tokenizer's ids; set data.tokenizer to the SentencePiece model "
       "data.path was encoded with (hcx data encode --tokenizer), or drop those texts"},
      // The tokenizer named: its ids are the data's.
      {R"({"data": {"source": "tokens", "path": "c.bin", "tokenizer": "sp.model"}, "model.vocab_size": 4096,
           "eval.tasks": [{"name": "hs", "kind": "choice", "path": "hs.jsonl"}]})",
       ""},
      // No text to encode: nothing goes wrong.
      {R"({"data": {"source": "tokens", "path": "c.bin"}, "model.vocab_size": 4096})", ""},
      // Byte ids (vocabulary 256): "bytes" is right.
      {R"({"data": {"source": "tokens", "path": "c.bin"}, "model.vocab_size": 256,
           "eval.tasks": [{"name": "hs", "kind": "choice", "path": "hs.jsonl"}]})",
       ""},
      // Text data is encoded by data.tokenizer itself.
      {R"({"data": {"source": "text", "path": "c.txt"}, "model.vocab_size": 4096,
           "eval.tasks": [{"name": "hs", "kind": "choice", "path": "hs.jsonl"}]})",
       ""},
  };
  for (const auto& c : cases) EXPECT_EQ(first_error(c.json), c.error) << c.json;
}

TEST(RunConfig, ReportsEveryProblemAtOnce) {
  const auto errors = errors_of(R"({"train": {"lr": 0, "steps": 0}, "model": {"ffn": "relu"}})");
  ASSERT_EQ(errors.size(), 3u);
}

TEST(RunConfig, DottedAndNestedKeysMeanTheSame) {
  std::vector<std::string> e1, e2;
  const RunConfig a = from_json(Json::parse(R"({"train.lr": 0.003, "model": {"d_model": 32}})"), e1);
  const RunConfig b = from_json(Json::parse(R"({"train": {"lr": 3e-3}, "model.d_model": 32})"), e2);
  EXPECT_TRUE(e1.empty());
  EXPECT_TRUE(e2.empty());
  EXPECT_EQ(to_json(a), to_json(b));
}

TEST(RunConfig, RoundTripsThroughJson) {
  std::vector<std::string> errors;
  RunConfig c = from_json(Json::parse(R"({"residual": {"kind": "hc", "n": 2},
      "eval": {"tasks": [{"name": "blimp", "kind": "pairs", "path": "b.jsonl"}]}})"), errors);
  ASSERT_TRUE(errors.empty());
  const RunConfig back = from_json(to_json(c), errors);
  ASSERT_TRUE(errors.empty());
  EXPECT_EQ(to_json(back), to_json(c));
  ASSERT_EQ(back.eval.tasks.size(), 1u);
  EXPECT_EQ(back.eval.tasks[0].good_field, "sentence_good");
}

TEST(RunConfig, IntegerFieldAcceptsIntegralFloatSpelling) {
  std::vector<std::string> errors;
  const RunConfig c = from_json(Json::parse(R"({"train": {"steps": 1e3}})"), errors);
  EXPECT_TRUE(errors.empty());
  EXPECT_EQ(c.train.steps, 1000);
  EXPECT_EQ(first_error(R"({"train": {"steps": 2.5}})"), "train.steps: expected an integer, got 2.5");
}

// The dotted paths of a JSON object's leaves (arrays are leaves), in order.
void dotted_leaves(const Json& j, const std::string& prefix, std::vector<std::string>& out) {
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string key = prefix.empty() ? it.key() : prefix + "." + it.key();
    if (it->is_object()) {
      dotted_leaves(*it, key, out);
    } else {
      out.push_back(key);
    }
  }
}

TEST(RunConfig, FlattenListsEveryKeyOfTheJsonWithItsValue) {
  // Every leaf of the config's JSON, and nothing else: a field added to
  // to_json but not to flatten (or the other way round) fails here.
  std::vector<std::string> json_keys, flat_keys;
  dotted_leaves(to_json(RunConfig{}), "", json_keys);
  std::map<std::string, std::string> flat;
  for (const auto& [k, v] : flatten(RunConfig{})) {
    flat_keys.push_back(k);
    flat[k] = v;
  }
  std::sort(json_keys.begin(), json_keys.end());
  std::sort(flat_keys.begin(), flat_keys.end());
  EXPECT_EQ(flat_keys, json_keys);
  EXPECT_EQ(flatten(RunConfig{}).front().first, "seed");
  EXPECT_EQ(flat.at("residual.kind"), "pre_norm");
  EXPECT_EQ(flat.at("train.lr"), "0.001");
  EXPECT_EQ(flat.at("eval.tasks"), "[]");
  // Values follow the config.
  RunConfig c;
  c.train.lr = 3e-3;
  c.residual.n = 4;
  const auto rows = flatten(c);
  const std::map<std::string, std::string> changed(rows.begin(), rows.end());
  EXPECT_EQ(changed.at("train.lr"), "0.003");
  EXPECT_EQ(changed.at("residual.n"), "4");
}

TEST(RunConfig, ParseValueReadsJsonElseString) {
  EXPECT_EQ(parse_value("3"), Json(3));
  EXPECT_EQ(parse_value("1e-3"), Json(1e-3));
  EXPECT_EQ(parse_value("true"), Json(true));
  EXPECT_EQ(parse_value("hc"), Json("hc"));
  EXPECT_EQ(parse_value("[1,2]"), Json::parse("[1,2]"));
}

TEST(RunConfig, ParseOrThrowPrefixesTheFile) {
  try {
    parse_or_throw(Json::parse(R"({"train": {"lr": -3}})"), "experiments/x.json");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "experiments/x.json: train.lr: expected a positive number, got -3");
    EXPECT_EQ(e.exit_code(), 2);
  }
}

}  // namespace
}  // namespace hcx::config
