// hcx export end to end: a tiny model trained by the binary, exported as
// safetensors plus config.json, rebuilt in PyTorch by bench/reference_gpt.py's
// load(), whose logits must equal hcx's to 1e-5 for each residual variant;
// and the errors (unknown run, no checkpoint, a --step without one).
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cli/cli_util.h"

namespace hcx::test {
namespace {

// A python3 that imports torch (Debian: python3-torch): $HCX_PYTHON, python3, /usr/bin/python3; "" when none.
const std::string& torch_python() {
  static const std::string found = [] {
    std::vector<std::string> candidates = {"python3", "/usr/bin/python3"};
    if (const char* p = std::getenv("HCX_PYTHON")) candidates.insert(candidates.begin(), p);
    for (const auto& py : candidates)
      if (capture("'" + py + "' -c 'import torch' >/dev/null 2>&1").code == 0) return py;
    return std::string();
  }();
  return found;
}

// A tiny run on the synthetic language: 8 steps, the final checkpoint kept.
// init_std 0.1 rather than 0.02: logits above 1, attention far from uniform, and float32
// rounding still well below the 1e-5 the logits must agree to.
std::string tiny_run(const std::string& residual, const std::string& model_extra = "") {
  return R"({"model": {"d_model": 16, "n_layers": 2, "n_heads": 2, "seq_len": 24, "vocab_size": 64,
  "init_std": 0.1)" + model_extra +
         R"(}, "residual": )" + residual + R"(, "data": {"synthetic_tokens": 20000},
  "train": {"steps": 8, "batch_size": 4, "lr": 1e-2, "warmup_steps": 2, "log_every": 4, "threads": 1},
  "eval": {"every": 0, "batches": 1, "tasks": [{"name": "syn_recall", "kind": "synthetic", "limit": 2}]}})";
}

// Trains `config` in `dir` (database r/hcx.db) and returns the run id.
std::string train(const TempDir& dir, const std::string& config) {
  write_file(dir / "run.json", config);
  const Result r = run_hcx("run run.json --db r/hcx.db --progress none", dir.path().string());
  EXPECT_EQ(r.code, 0) << r.output;
  return query1(dir / "r/hcx.db", "SELECT id FROM runs");
}

// Two fixed rows of 16 ids in [0, 64) (model.seq_len is 24: synthetic tasks need more than 16).
void write_tokens(const std::string& path) {
  nlohmann::json rows = nlohmann::json::array();
  for (int b = 0; b < 2; ++b) {
    std::vector<int> row;
    for (int t = 0; t < 16; ++t) row.push_back((7 * t + 13 * b + 3) % 64);
    rows.push_back(row);
  }
  write_file(path, nlohmann::json{{"tokens", rows}}.dump());
}

// The header of a safetensors file; checks the layout on the way.
nlohmann::ordered_json safetensors_header(const std::string& path) {
  const std::string bytes = read_file(path);
  EXPECT_GE(bytes.size(), 8u);
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<unsigned char>(bytes[i]);
  EXPECT_EQ(n % 8, 0u) << "header padded to 8 bytes";
  auto header = nlohmann::ordered_json::parse(bytes.substr(8, n));
  uint64_t expect = 0;  // tensors are contiguous, in order, and fill the rest of the file
  for (const auto& [name, e] : header.items()) {
    if (name == "__metadata__") continue;
    EXPECT_EQ(e.at("data_offsets")[0].get<uint64_t>(), expect) << name;
    expect = e.at("data_offsets")[1].get<uint64_t>();
    uint64_t numel = 4;
    for (const auto& s : e.at("shape")) numel *= s.get<uint64_t>();
    EXPECT_EQ(expect - e.at("data_offsets")[0].get<uint64_t>(), numel) << name << " is F32";
    EXPECT_EQ(e.at("dtype"), "F32") << name;
  }
  EXPECT_EQ(8 + n + expect, bytes.size());
  return header;
}

struct Variant {
  const char* label;
  const char* residual;
  const char* model_extra;
};

// Pre-Norm, DHC×4 and mHC×4 as the benchmark builds them, then the other
// options load() supports: SHC with rmsnorm and mean reduction, Post-Norm
// with rmsnorm, gelu and an untied unembedding, Frac-Connections, LAuReL,
// DenseFormer, MUDD, and the MoE FFN.
const Variant kVariants[] = {
    {"pre_norm", R"({"kind": "pre_norm"})", ""},
    {"DHCx4", R"({"kind": "hc", "n": 4})", ""},
    {"mHCx4", R"({"kind": "mhc", "n": 4})", ""},
    {"SHCx2 rmsnorm mean", R"({"kind": "hc", "n": 2, "dynamic": false, "reduce": "mean"})", R"(, "norm": "rmsnorm")"},
    {"post_norm rmsnorm gelu untied", R"({"kind": "post_norm"})",
     R"(, "norm": "rmsnorm", "ffn": "gelu", "tie_embeddings": false)"},
    {"DFCx4 rmsnorm", R"({"kind": "frac", "n": 4})", R"(, "norm": "rmsnorm")"},
    {"SFCx2", R"({"kind": "frac", "n": 2, "dynamic": false})", ""},
    {"DFCx2 no-norm no-scale", R"({"kind": "frac", "n": 2, "dynamic_norm": false, "dynamic_scale": false})", ""},
    {"LAuReL-RW+LR r2", R"({"kind": "laurel", "laurel_rank": 2})", ""},
    {"DenseFormer", R"({"kind": "denseformer"})", ""},
    {"MUDD rmsnorm", R"({"kind": "mudd"})", R"(, "norm": "rmsnorm")"},
    {"Pre-Norm MoE 4x2", R"({"kind": "pre_norm"})", R"(, "ffn": "moe", "moe_experts": 4, "moe_top_k": 2)"},
    {"DHCx2 MoE 3x2 renormalised", R"({"kind": "hc", "n": 2})",
     R"(, "ffn": "moe", "moe_experts": 3, "moe_top_k": 2, "moe_norm_topk": true)"},
};

TEST(Export, PyTorchLogitsEqualHcxForEveryVariant) {
  if (torch_python().empty())
    GTEST_SKIP() << "no python3 with torch (apt-get install python3-torch, or set HCX_PYTHON)";
  for (const Variant& v : kVariants) {
    SCOPED_TRACE(v.label);
    TempDir dir;
    const std::string id = train(dir, tiny_run(v.residual, v.model_extra));
    ASSERT_EQ(id.size(), 16u);
    write_tokens(dir / "tokens.json");
    const Result e = run_hcx("export " + id + " --db r/hcx.db -o out --logits-for tokens.json", dir.path().string());
    ASSERT_EQ(e.code, 0) << e.output;
    EXPECT_NE(e.output.find("exported run " + id + " step 8"), std::string::npos) << e.output;

    const auto config = nlohmann::json::parse(read_file(dir / "out/config.json"));
    EXPECT_EQ(config.at("format"), "hcx-export");
    EXPECT_EQ(config.at("run_id"), id);
    EXPECT_EQ(config.at("step"), 8);
    EXPECT_EQ(config.at("config").at("residual").at("kind"), nlohmann::json::parse(v.residual).at("kind"));
    const auto header = safetensors_header(dir / "out/model.safetensors");
    EXPECT_EQ(header.at("__metadata__").at("hcx_run_id"), id);
    std::vector<std::string> names, expected;
    for (const auto& [name, e2] : header.items())
      if (name != "__metadata__") names.push_back(name);
    for (const auto& p : config.at("params")) expected.push_back(p.at("name"));
    EXPECT_EQ(names, expected);
    EXPECT_EQ(names.front(), "wte.weight");

    const auto [code, out] =
        capture("'" + torch_python() + "' '" HCX_SOURCE_DIR "/bench/reference_gpt.py' logits '" +
                (dir / "out").string() + "'");
    EXPECT_EQ(code, 0) << out;
    const auto j = nlohmann::json::parse(out.substr(0, out.find('\n')), nullptr, /*allow_exceptions=*/false);
    ASSERT_TRUE(j.is_object()) << out;
    EXPECT_EQ(j.at("shape"), nlohmann::json::parse("[2, 16, 64]"));
    EXPECT_LE(j.at("max_abs_diff").get<double>(), 1e-5) << out;
    std::cout << "[ logits   ] " << v.label << ": max |pytorch - hcx| = " << j.at("max_abs_diff").get<double>()
              << " (max |logit| " << j.at("max_abs_logit").get<double>() << ", torch " << j.at("torch").get<std::string>()
              << ")\n";
  }
}

TEST(Export, DefaultFolderPrefixIdReplaceAndNoTemporaryLeft) {
  TempDir dir;
  const std::string id = train(dir, tiny_run(R"({"kind": "pre_norm"})"));
  const Result e = run_hcx("export " + id.substr(0, 6) + " --db r/hcx.db", dir.path().string());
  ASSERT_EQ(e.code, 0) << e.output;
  const std::string folder = dir / ("export-" + id);
  EXPECT_TRUE(fs::exists(folder + "/model.safetensors"));
  EXPECT_TRUE(fs::exists(folder + "/config.json"));
  EXPECT_FALSE(fs::exists(folder + "/logits.json"));
  // again into the same folder: the earlier export is replaced, nothing else is left beside it
  const Result again = run_hcx("export " + id + " --db r/hcx.db --step 8", dir.path().string());
  ASSERT_EQ(again.code, 0) << again.output;
  for (const auto& entry : fs::directory_iterator(dir.path()))
    EXPECT_NE(entry.path().filename().string().rfind(".export-", 0), 0u) << entry.path();
  const auto config = nlohmann::json::parse(read_file(folder + "/config.json"));
  EXPECT_EQ(config.at("hcx_version").get<std::string>().empty(), false);
  EXPECT_EQ(config.at("config").at("model").at("d_model"), 16);
  EXPECT_EQ(config.at("n_params").get<int64_t>() * 4 + 8 < static_cast<int64_t>(fs::file_size(folder + "/model.safetensors")),
            true);
}

TEST(Export, ErrorsNameTheRunAndTheSteps) {
  TempDir dir;
  const Result no_db = run_hcx("export 0123456789abcdef --db r/hcx.db", dir.path().string());
  EXPECT_EQ(no_db.code, 2) << no_db.output;
  EXPECT_NE(no_db.output.find("no results database"), std::string::npos) << no_db.output;

  const std::string id = train(dir, tiny_run(R"({"kind": "hc", "n": 2})"));
  const Result unknown = run_hcx("export 0123456789abcdef --db r/hcx.db", dir.path().string());
  EXPECT_EQ(unknown.code, 2) << unknown.output;
  EXPECT_NE(unknown.output.find("no run 0123456789abcdef in r/hcx.db"), std::string::npos) << unknown.output;

  const Result step = run_hcx("export " + id + " --db r/hcx.db --step 5", dir.path().string());
  EXPECT_EQ(step.code, 2) << step.output;
  EXPECT_NE(step.output.find("--step 5: run " + id + " has no checkpoint of that step; it has step 8"),
            std::string::npos)
      << step.output;

  fs::create_directories(dir.path() / "taken");
  write_file(dir / "taken/notes.txt", "mine");
  const Result taken = run_hcx("export " + id + " --db r/hcx.db -o taken", dir.path().string());
  EXPECT_EQ(taken.code, 2) << taken.output;
  EXPECT_NE(taken.output.find("is not an hcx export"), std::string::npos) << taken.output;
  EXPECT_EQ(read_file(dir / "taken/notes.txt"), "mine");

  fs::remove_all(dir.path() / "r/checkpoints" / id);
  const Result none = run_hcx("export " + id + " --db r/hcx.db", dir.path().string());
  EXPECT_EQ(none.code, 2) << none.output;
  EXPECT_NE(none.output.find("run " + id + " has no checkpoint in"), std::string::npos) << none.output;
  EXPECT_FALSE(fs::exists(dir.path() / ("export-" + id)));
}

}  // namespace
}  // namespace hcx::test
