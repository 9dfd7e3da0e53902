// Run ids: stable under spelling, sensitive to meaning, blind to placement
// and to keys the variant does not read (rules in grid/identity.h).
#include "hcx/grid/identity.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <set>

namespace hcx::grid {
namespace {

using config::Json;

std::string id_of(const char* json) { return run_id(config::parse_or_throw(Json::parse(json))); }

TEST(RunId, IsSixteenHexDigits) {
  const std::string id = id_of("{}");
  ASSERT_EQ(id.size(), 16u);
  EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos) << id;
}

TEST(RunId, GoldenValuesAreStable) {
  // Ids are stored in results databases: they must not change between
  // releases. Adding a run-config key keeps them (defaults are left out of the
  // hash); changing a default's meaning is not allowed (see the next test).
  EXPECT_EQ(fnv1a64(""), 14695981039346656037ull);
  EXPECT_EQ(fnv1a64("a"), 0xaf63dc4c8601ec8cull);
  EXPECT_EQ(id_of("{}"), "08f44b07b5901a25");  // fnv1a64("{}")
  EXPECT_EQ(identity_json(config::parse_or_throw(Json::parse(
                R"({"seed": 1, "residual.kind": "hc", "residual.n": 2, "train.lr": 3e-3, "train.device": "cuda"})")))
                .dump(),
            R"({"residual":{"kind":"hc","n":2},"seed":1,"train":{"lr":0.003}})");
  EXPECT_EQ(id_of(R"({"seed": 1, "residual.kind": "hc", "residual.n": 2, "train.lr": 3e-3})"), "f72e6b2162bd7e92");
}

TEST(RunId, DefaultsKeepTheirMeaning) {
  // A stored run that relied on a default is identified without it: if a
  // default changed, that run would pass for one trained with the new value.
  // Add a key instead of changing a default. New keys need no entry here.
  const Json golden = config::read_json_file(HCX_SOURCE_DIR "/tests/grid/run_config_defaults.json");
  const Json now = config::to_json(config::RunConfig{});
  for (const auto& [section, value] : golden.items()) {
    if (!value.is_object()) {
      EXPECT_EQ(now[section], value) << section;
      continue;
    }
    for (const auto& [key, v] : value.items()) EXPECT_EQ(now[section][key], v) << section << "." << key;
  }
}

TEST(RunId, KeyOrderAndNumberSpellingDoNotMatter) {
  const struct {
    const char* a;
    const char* b;
  } same[] = {
      {R"({"train": {"lr": 0.001, "steps": 100}})", R"({"train": {"steps": 100, "lr": 0.001}})"},
      {R"({"train": {"lr": 0.001}})", R"({"train": {"lr": 1e-3}})"},
      {R"({"train": {"lr": 0.001}})", R"({"train.lr": 1.0e-3})"},
      {R"({"train": {"steps": 1000}})", R"({"train": {"steps": 1e3}})"},
      {R"({"model": {"init_std": 2}})", R"({"model": {"init_std": 2.0}})"},
      {R"({})", R"({"train": {"lr": 0.001}})"},  // a default spelled out
  };
  for (const auto& c : same) EXPECT_EQ(id_of(c.a), id_of(c.b)) << c.a << " vs " << c.b;
}

TEST(RunId, PlacementAndUnreadKeysDoNotMatter) {
  const struct {
    const char* a;
    const char* b;
  } same[] = {
      {R"({"train.device": "cpu"})", R"({"train.device": "cuda:1"})"},
      {R"({"train.threads": 1})", R"({"train.threads": 8})"},
      {R"({"residual.kind": "pre_norm"})", R"({"residual.kind": "pre_norm", "residual.n": 8, "residual.tanh": false})"},
      {R"({"residual.kind": "post_norm"})", R"({"residual.kind": "post_norm", "residual.dynamic": false})"},
      {R"({"residual.kind": "hc", "residual.dynamic": false})",
       R"({"residual.kind": "hc", "residual.dynamic": false, "residual.tanh": false})"},
      {R"({"residual.kind": "hc"})", R"({"residual.kind": "hc", "residual.sinkhorn_iters": 5})"},
      {R"({"residual.kind": "mhc"})", R"({"residual.kind": "mhc", "residual.freeze_beta": true})"},
      {R"({"residual.kind": "hc"})", R"({"residual.kind": "hc", "residual.dynamic_norm": false})"},
      {R"({"residual.kind": "frac", "residual.dynamic": false})",
       R"({"residual.kind": "frac", "residual.dynamic": false, "residual.dynamic_scale": false})"},
      {R"({"residual.kind": "frac"})", R"({"residual.kind": "frac", "residual.reduce": "mean"})"},
      {R"({"residual.kind": "laurel"})", R"({"residual.kind": "laurel", "residual.n": 2, "residual.dwa_period": 2})"},
      {R"({"residual.kind": "denseformer"})", R"({"residual.kind": "denseformer", "residual.laurel_rank": 4})"},
      {R"({"residual.kind": "mudd"})", R"({"residual.kind": "mudd", "residual.n": 2, "residual.dwa_period": 3})"},
      {R"({"model.ffn": "gelu"})", R"({"model.ffn": "gelu", "model.moe_experts": 16, "model.moe_top_k": 4})"},
      {R"({})", R"({"model.moe_lb_weight": 0.1, "model.moe_z_reduce": "sum"})"},
      {R"({"data.source": "synthetic"})", R"({"data.source": "synthetic", "data.tokenizer": "x.model"})"},
      {R"({"train.schedule": "cosine"})", R"({"train.schedule": "cosine", "train.decay_fraction": 0.5})"},
      {R"({"train.schedule": "constant"})", R"({"train.schedule": "constant", "train.min_lr_ratio": 0.5})"},
  };
  for (const auto& c : same) EXPECT_EQ(id_of(c.a), id_of(c.b)) << c.a << " vs " << c.b;
}

TEST(RunId, EverySemanticChangeMatters) {
  const char* configs[] = {
      R"({})",
      R"({"seed": 1})",
      R"({"train.lr": 0.0011})",
      R"({"train.steps": 201})",
      R"({"model.d_model": 128})",
      R"({"model.ffn": "moe"})",
      R"({"model.ffn": "moe", "model.moe_top_k": 1})",
      R"({"model.ffn": "moe", "model.moe_lb_weight": 0})",
      R"({"residual.kind": "post_norm"})",
      R"({"residual.kind": "hc"})",
      R"({"residual.kind": "hc", "residual.n": 2})",
      R"({"residual.kind": "hc", "residual.dynamic": false})",
      R"({"residual.kind": "hc", "residual.tanh": false})",
      R"({"residual.kind": "hc", "residual.freeze_width": true})",
      R"({"residual.kind": "hc", "residual.freeze_beta": true})",
      R"({"residual.kind": "mhc"})",
      R"({"residual.kind": "mhc", "residual.sinkhorn_iters": 5})",
      R"({"residual.kind": "frac"})",
      R"({"residual.kind": "frac", "residual.n": 2})",
      R"({"residual.kind": "frac", "residual.dynamic": false})",
      R"({"residual.kind": "frac", "residual.tanh": false})",
      R"({"residual.kind": "frac", "residual.dynamic_norm": false})",
      R"({"residual.kind": "frac", "residual.dynamic_scale": false})",
      R"({"residual.kind": "frac", "residual.freeze_width": true})",
      R"({"residual.kind": "laurel"})",
      R"({"residual.kind": "laurel", "residual.laurel_rank": 4})",
      R"({"residual.kind": "denseformer"})",
      R"({"residual.kind": "denseformer", "residual.dwa_dilation": 2})",
      R"({"residual.kind": "denseformer", "residual.dwa_period": 2})",
      R"({"residual.kind": "mudd"})",
      R"({"train.schedule": "wsd"})",
      R"({"train.schedule": "wsd", "train.decay_fraction": 0.5})",
      R"({"data.difficulty": 3})",
      R"({"eval.every": 10})",
      R"({"spikes.sigma": 4})",
  };
  std::set<std::string> ids;
  for (const char* c : configs) EXPECT_TRUE(ids.insert(id_of(c)).second) << c << " collides";
}

TEST(RunId, CanonicalJsonHashesToTheIdAndRoundTrips) {
  const config::RunConfig c = config::parse_or_throw(Json::parse(R"({"residual.kind": "hc", "train.lr": 3e-3})"));
  const Json j = canonical_json(c);
  EXPECT_FALSE(j["train"].contains("device"));
  EXPECT_FALSE(j["train"].contains("threads"));
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(fnv1a64(identity_json(c).dump())));
  EXPECT_EQ(run_id(c), hex);
  // What the runs table stores parses back to the same run.
  EXPECT_EQ(run_id(config::parse_or_throw(Json::parse(j.dump()))), run_id(c));
}

}  // namespace
}  // namespace hcx::grid
