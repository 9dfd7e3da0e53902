// The whole model: init equivalence of HC with Pre-Norm, paired
// initialisation, the naming contract, gradients, freezing, every variant at
// the edges (seq_len 1, batch 1), config rejection, the trace hook and CUDA.
#include "hcx/model/gpt.h"

#include <cmath>
#include <functional>
#include <map>
#include <string>

#include <gtest/gtest.h>
#include <torch/cuda.h>
#include <torch/optim/adamw.h>

#include "hcx/error.h"
#include "hcx/model/param_specs.h"
#include "model/tiny.h"

namespace hcx::model {
namespace {

using testing::max_abs_diff;
using testing::tiny;

// Every residual variant the tests sweep, as config edits on tiny().
std::vector<config::RunConfig> all_variants() {
  std::vector<config::RunConfig> out;
  out.push_back(tiny("pre_norm"));
  out.push_back(tiny("post_norm"));
  for (int64_t n : {1, 2, 4}) {
    out.push_back(tiny("hc", n, false));
    out.push_back(tiny("hc", n, true));
    out.push_back(tiny("mhc", n));
  }
  auto no_tanh = tiny("hc", 2, true);
  no_tanh.residual.tanh = false;
  out.push_back(no_tanh);
  for (int64_t m : {1, 2, 4}) {
    out.push_back(tiny("frac", m, false));
    out.push_back(tiny("frac", m, true));
  }
  auto dfc_bare = tiny("frac", 2, true);  // no norm, no scales
  dfc_bare.residual.dynamic_norm = dfc_bare.residual.dynamic_scale = false;
  out.push_back(dfc_bare);
  for (int64_t rank : {0, 4}) {
    auto c = tiny("laurel");
    c.residual.laurel_rank = rank;
    out.push_back(c);
  }
  for (int64_t kp : {1, 2}) {  // 1x1 and 2x2
    auto c = tiny("denseformer");
    c.residual.dwa_dilation = c.residual.dwa_period = kp;
    out.push_back(c);
  }
  out.push_back(tiny("mudd"));
  for (const char* kind : {"pre_norm", "post_norm", "hc", "mhc", "frac", "laurel", "denseformer", "mudd"}) {
    auto c = tiny(kind, 2, true);
    c.model.norm = "rmsnorm";
    c.model.ffn = "gelu";
    c.model.tie_embeddings = false;
    if (c.residual.kind == "laurel") c.residual.laurel_rank = 2;
    out.push_back(c);
  }
  return out;
}

std::string describe(const config::RunConfig& c) {
  return c.residual.kind + " n=" + std::to_string(c.residual.n) + (c.residual.dynamic ? " dynamic" : " static") +
         (c.residual.tanh ? "" : " no-tanh") + (c.residual.dynamic_norm ? "" : " no-norm") +
         " rank=" + std::to_string(c.residual.laurel_rank) + " dwa=" + std::to_string(c.residual.dwa_dilation) + "x" +
         std::to_string(c.residual.dwa_period) + " " + c.model.norm + " " + c.model.ffn +
         (c.model.tie_embeddings ? " tied" : " untied");
}

TEST(Gpt, HcAtInitEqualsPreNorm) {
  // docs/method.md, "Initialisation and the Pre-Norm equivalence": SHC = DHC =
  // Pre-Norm at init. With reduce "mean" at the default eps; with "sum" once
  // norm_eps = 0 (the final norm sees n x).
  const torch::Tensor idx = testing::tokens(2, 8);
  for (const char* reduce : {"mean", "sum"}) {
    auto base = tiny("pre_norm");
    if (std::string(reduce) == "sum") base.model.norm_eps = 0.0;
    Gpt pre(base);
    const torch::Tensor want = pre->forward(idx);
    for (int64_t n : {1, 2, 4, 8}) {
      for (bool dynamic : {false, true}) {
        for (bool use_tanh : {true, false}) {
          auto c = base;
          c.residual.kind = "hc";
          c.residual.n = n;
          c.residual.dynamic = dynamic;
          c.residual.tanh = use_tanh;
          c.residual.reduce = reduce;
          Gpt hc(c);
          EXPECT_LT(max_abs_diff(hc->forward(idx), want), 1e-5) << reduce << " " << describe(c);
        }
      }
    }
  }
}

TEST(Gpt, SumReduceDiffersFromPreNormWhenEpsMatters) {
  // The reason for the eps = 0 condition above: at init the stream's variance
  // (~init_std^2) is comparable to eps, so norm(n x) != norm(x). Shows that
  // the equivalence test can fail.
  auto c = tiny("hc", 4, false);
  c.residual.reduce = "sum";
  Gpt pre(tiny("pre_norm")), hc(c);
  const torch::Tensor idx = testing::tokens(2, 8);
  EXPECT_GT(max_abs_diff(pre->forward(idx), hc->forward(idx)), 1e-4);
}

TEST(Gpt, PairedInitialisationSharesEveryCommonParameter) {
  Gpt pre(tiny("pre_norm"));
  std::map<std::string, torch::Tensor> ref;
  for (const auto& item : pre->named_parameters()) ref[item.key()] = item.value();
  for (const auto& c : all_variants()) {
    if (c.model.tie_embeddings == false) continue;  // other parameter set; covered below
    Gpt m(c);
    int64_t shared = 0;
    for (const auto& item : m->named_parameters()) {
      auto it = ref.find(item.key());
      if (it == ref.end()) continue;
      ++shared;
      EXPECT_TRUE(torch::equal(it->second, item.value())) << describe(c) << ": " << item.key();
    }
    EXPECT_EQ(shared, 1 + 4 * 2) << describe(c);  // wte + 4 matrices per block
  }
  // A different seed gives different weights; untied adds lm_head without moving the others.
  auto other = tiny("pre_norm");
  other.seed = 8;
  EXPECT_FALSE(torch::equal(Gpt(other)->wte->weight, pre->wte->weight));
  auto untied = tiny("pre_norm");
  untied.model.tie_embeddings = false;
  EXPECT_TRUE(torch::equal(Gpt(untied)->wte->weight, pre->wte->weight));
}

TEST(Gpt, InitStatistics) {
  auto c = tiny("pre_norm");
  c.model.d_model = 64;
  c.model.n_heads = 4;
  c.model.n_layers = 8;
  Gpt m(c);
  const double out_std = 0.02 / std::sqrt(16.0);
  EXPECT_NEAR(m->wte->weight.std().item<double>(), 0.02, 0.002);
  auto* block = (*m->h)[0]->as<BlockImpl>();
  EXPECT_NEAR(block->attn->c_attn->weight.std().item<double>(), 0.02, 0.002);
  EXPECT_NEAR(block->attn->c_proj->weight.std().item<double>(), out_std, out_std * 0.1);
  EXPECT_NEAR(block->mlp->c_proj->weight.std().item<double>(), out_std, out_std * 0.1);
  // scale_out_init: a further 1/sqrt(n) for hc/mhc only.
  auto s = c;
  s.residual.kind = "hc";
  s.residual.scale_out_init = true;
  Gpt hc(s);
  auto* hblock = (*hc->h)[0]->as<BlockImpl>();
  EXPECT_TRUE(torch::allclose(hblock->attn->c_proj->weight, block->attn->c_proj->weight / std::sqrt(2.0)));  // n = 2
  EXPECT_TRUE(torch::equal(hblock->attn->c_attn->weight, block->attn->c_attn->weight));
}

TEST(Gpt, ParametersFollowTheNamingContract) {
  for (const auto& c : all_variants()) {
    auto frozen = c;
    frozen.residual.freeze_width = true;
    for (const auto& cfg : {c, frozen}) {
      Gpt m(cfg);
      const auto specs = param_specs(cfg);
      const auto params = named_params(*m);
      ASSERT_EQ(params.size(), specs.size()) << describe(cfg);
      for (size_t i = 0; i < specs.size(); ++i) {
        EXPECT_EQ(params[i].name, specs[i].name) << describe(cfg);
        EXPECT_EQ(params[i].tensor.sizes().vec(), specs[i].shape) << specs[i].name;
        EXPECT_EQ(params[i].trainable, specs[i].trainable) << specs[i].name;
        EXPECT_EQ(params[i].group, specs[i].group) << specs[i].name;
      }
    }
  }
  const auto names = [](const config::RunConfig& c) {
    std::vector<std::string> out;
    for (const auto& s : param_specs(c)) out.push_back(s.name);
    return out;
  };
  const auto hc = names(tiny("hc", 2, false));
  EXPECT_EQ(hc[0], "wte.weight");
  EXPECT_EQ(hc[1], "h.0.attn.c_attn.weight");
  EXPECT_EQ(hc[5], "h.0.hc_attn.static_beta");
  EXPECT_EQ(hc[6], "h.0.hc_attn.static_alpha");
  EXPECT_EQ(hc[8], "h.0.hc_ffn.static_alpha");
}

TEST(Gpt, GroupsAndDecay) {
  auto c = tiny("hc", 2, true);
  c.model.norm = "rmsnorm";
  const std::map<std::string, std::pair<std::string, bool>> want = {
      {"wte.weight", {"embedding", true}},
      {"h.0.attn.c_attn.weight", {"attention", true}},
      {"h.1.mlp.c_proj.weight", {"ffn", true}},
      {"h.0.ln_1.weight", {"norm", false}},
      {"ln_f.weight", {"norm", false}},
      {"h.0.hc_attn.static_alpha", {"hc_static", false}},
      {"h.0.hc_attn.static_beta", {"hc_static", false}},
      {"h.1.hc_ffn.dynamic_alpha_fn", {"hc_dynamic", true}},
      {"h.1.hc_ffn.dynamic_beta_fn", {"hc_dynamic", true}},
      {"h.0.hc_ffn.dynamic_alpha_scale", {"hc_scale", false}},
      {"h.0.hc_ffn.norm.weight", {"norm", false}},
      {"h.0.hc_attn.phi_res", {"hc_dynamic", true}},
      {"h.0.hc_attn.b_res", {"hc_static", false}},
      {"h.0.hc_attn.alpha_res", {"hc_scale", false}},
      {"h.0.hc_attn.rw", {"hc_scale", false}},  // LAuReL
      {"h.0.hc_attn.lr_a", {"hc_dynamic", true}},
      {"h.1.hc_ffn.lr_b", {"hc_dynamic", true}},
      {"h.1.dwa_weights", {"hc_static", false}},  // DenseFormer
      {"h.0.mudd.w1", {"hc_dynamic", true}},      // MUDD
      {"h.0.mudd.w2", {"hc_dynamic", true}},
      {"h.1.mudd.a", {"hc_static", false}},
      {"h.1.ln_1k.weight", {"norm", false}},
  };
  for (const auto& [name, gd] : want) {
    const ParamClass pc = classify_param(name);
    EXPECT_EQ(to_string(pc.group), gd.first) << name;
    EXPECT_EQ(pc.decays, gd.second) << name;
  }
  EXPECT_THROW(classify_param("h.0.attn_typo"), std::logic_error);
}

// Backward once on a perturbed model: every trainable parameter has a finite,
// non-zero gradient, frozen ones have none.
void expect_gradients(const config::RunConfig& c, int64_t B, int64_t T) {
  Gpt m(c);
  testing::perturb(*m, 0.05);
  const torch::Tensor idx = testing::tokens(B, T), targets = testing::tokens(B, T, 32, 2);
  const torch::Tensor loss = m->loss(idx, targets);
  ASSERT_TRUE(std::isfinite(loss.item<double>())) << describe(c);
  loss.backward();
  for (const auto& p : named_params(*m)) {
    if (!p.trainable) {
      EXPECT_FALSE(p.tensor.grad().defined()) << describe(c) << ": " << p.name;
      continue;
    }
    ASSERT_TRUE(p.tensor.grad().defined()) << describe(c) << ": " << p.name;
    const bool dead = c.residual.kind == "mhc" && c.residual.n == 1 && p.name.find("_res") != std::string::npos;
    if (dead) continue;  // H^res = [[1]] for n = 1 whatever its parameters (mhc.h)
    EXPECT_TRUE(torch::isfinite(p.tensor.grad()).all().item<bool>()) << describe(c) << ": " << p.name;
    EXPECT_GT(p.tensor.grad().abs().max().item<double>(), 0.0) << describe(c) << " B=" << B << " T=" << T << ": "
                                                                << p.name;
  }
}

TEST(Gpt, EveryTrainableParameterGetsAGradient) {
  for (const auto& c : all_variants()) expect_gradients(c, 2, 8);
}

TEST(Gpt, EveryVariantRunsWithSeqLenOneAndBatchOne) {
  for (const auto& c : all_variants()) {
    expect_gradients(c, 1, 8);
    Gpt m(c);  // T = 1: attention over a single position
    const torch::Tensor logits = m->forward(testing::tokens(3, 1));
    EXPECT_EQ(logits.sizes().vec(), (std::vector<int64_t>{3, 1, 32})) << describe(c);
    m->loss(testing::tokens(3, 1), testing::tokens(3, 1, 32, 2)).backward();
    EXPECT_TRUE(torch::isfinite(m->wte->weight.grad()).all().item<bool>()) << describe(c);
  }
}

TEST(Gpt, AtInitOnlyTheDynamicScalesHaveZeroGradient) {
  // W_* start at zero but their gradient s * H̄^T dL/dA is not zero; the scales'
  // gradient tanh(H̄ W) . dL/dA is exactly zero while W = 0. (mHC's alpha
  // likewise; its res part may also start at zero gradient, see mhc.h.)
  for (const auto& c : {tiny("hc", 2, true), tiny("hc", 4, true)}) {
    Gpt m(c);
    m->loss(testing::tokens(2, 8), testing::tokens(2, 8, 32, 2)).backward();
    for (const auto& p : named_params(*m)) {
      const double g = p.tensor.grad().abs().max().item<double>();
      if (p.group == ParamGroup::kHcScale) {
        EXPECT_EQ(g, 0.0) << p.name;
      } else {
        EXPECT_GT(g, 0.0) << p.name;
      }
    }
  }
}

TEST(Gpt, FrozenPartsStayUnchangedUnderAdamW) {
  for (const char* kind : {"hc", "mhc", "frac"}) {
    for (int which = 0; which < 2; ++which) {
      auto c = tiny(kind, 2, true);
      (which == 0 ? c.residual.freeze_width : c.residual.freeze_beta) = true;
      Gpt m(c);
      std::vector<torch::Tensor> trainable;
      std::map<std::string, torch::Tensor> before;
      int64_t n_frozen = 0;
      for (const auto& p : named_params(*m)) {
        before[p.name] = p.tensor.detach().clone();
        if (p.trainable) trainable.push_back(p.tensor);
        n_frozen += !p.trainable;
      }
      EXPECT_GT(n_frozen, 0);
      torch::optim::AdamW opt(trainable, torch::optim::AdamWOptions(1e-2).weight_decay(0.1));
      for (int step = 0; step < 3; ++step) {
        opt.zero_grad();
        m->loss(testing::tokens(2, 8, 32, step), testing::tokens(2, 8, 32, step + 10)).backward();
        opt.step();
      }
      for (const auto& p : named_params(*m)) {
        const bool same = torch::equal(before[p.name], p.tensor);
        EXPECT_EQ(same, !p.trainable) << kind << " freeze " << (which == 0 ? "width" : "beta") << ": " << p.name;
      }
    }
  }
}

TEST(Gpt, RejectsInvalidConfigsNamingTheKey) {
  struct Case {
    std::function<void(config::RunConfig&)> edit;
    const char* key;
  };
  const Case cases[] = {
      {[](config::RunConfig& c) { c.residual.n = 0; }, "residual.n"},
      {[](config::RunConfig& c) {
         c.model.d_model = 30;
         c.model.n_heads = 4;
       },
       "model.d_model"},
      {[](config::RunConfig& c) { c.residual.kind = "highway"; }, "residual.kind"},
      {[](config::RunConfig& c) {
         c.residual.kind = "frac";
         c.residual.n = 3;
       },
       "residual.n"},
      {[](config::RunConfig& c) {
         c.residual.kind = "laurel";
         c.residual.laurel_rank = -1;
       },
       "residual.laurel_rank"},
      {[](config::RunConfig& c) {
         c.residual.kind = "denseformer";
         c.residual.dwa_period = 0;
       },
       "residual.dwa_period"},
  };
  for (const auto& tc : cases) {
    auto c = tiny("hc");
    tc.edit(c);
    try {
      Gpt m(c);
      ADD_FAILURE() << "accepted a config with a bad " << tc.key;
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kBadInput);
      EXPECT_NE(std::string(e.what()).find(tc.key), std::string::npos) << e.what();
    }
  }
}

TEST(Gpt, TraceRecordsSublayerInputsAndMatrices) {
  for (const auto& c : {tiny("pre_norm"), tiny("post_norm"), tiny("hc", 2, false), tiny("hc", 3, true), tiny("mhc", 2)}) {
    Gpt m(c);
    testing::perturb(*m, 0.05);
    const torch::Tensor idx = testing::tokens(2, 8);
    ForwardTrace trace;
    const torch::Tensor with = m->forward(idx, &trace);
    EXPECT_TRUE(torch::equal(with, m->forward(idx))) << describe(c);  // recording changes nothing
    ASSERT_EQ(trace.sublayer_inputs.size(), 4u) << describe(c);
    for (const auto& h0 : trace.sublayer_inputs) {
      EXPECT_EQ(h0.sizes().vec(), (std::vector<int64_t>{2, 8, 16}));
      EXPECT_FALSE(h0.requires_grad());
    }
    const bool mixers = c.residual.kind == "hc" || c.residual.kind == "mhc";
    ASSERT_EQ(trace.hc_matrices.size(), mixers ? 4u : 0u) << describe(c);
    if (!mixers) {
      EXPECT_EQ(m->mixer(0), nullptr);
      continue;
    }
    const int64_t n = c.residual.n;
    // The first mixer sees the embedding copied into every stream.
    const torch::Tensor H0 = m->wte(idx).unsqueeze(2).expand({2, 8, n, 16});
    EXPECT_LT(max_abs_diff(trace.hc_matrices[0], m->mixer(0)->matrix(H0)), 1e-6) << describe(c);
    EXPECT_EQ(trace.hc_matrices[0].sizes().vec(), (std::vector<int64_t>{n + 1, n + 1}));
    if (c.residual.kind == "hc" && !c.residual.dynamic) {
      EXPECT_TRUE(torch::equal(trace.hc_matrices[3], m->mixer(3)->static_matrix()));
    }
  }
  // pre_norm: h0 of sublayer 0 is the embedding itself.
  Gpt pre(tiny("pre_norm"));
  const torch::Tensor idx = testing::tokens(2, 8);
  ForwardTrace trace;
  pre->forward(idx, &trace);
  EXPECT_TRUE(torch::equal(trace.sublayer_inputs[0], pre->wte(idx)));
}

TEST(Gpt, LossIsCrossEntropyOfLogits) {
  Gpt m(tiny("hc", 2, true));
  const torch::Tensor idx = testing::tokens(2, 8), targets = testing::tokens(2, 8, 32, 2);
  const torch::Tensor logp = at::log_softmax(m->forward(idx), -1);  // (B, T, V)
  const double want = -logp.gather(-1, targets.unsqueeze(-1)).mean().item<double>();
  EXPECT_NEAR(m->loss(idx, targets).item<double>(), want, 1e-5);
  EXPECT_NEAR(want, std::log(32.0), 0.1);  // near uniform at init
}

TEST(GptCuda, RunsOnTheGpuAndMatchesCpu) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device (LibTorch reports none)";
  for (const auto& c : {tiny("pre_norm"), tiny("hc", 4, true), tiny("mhc", 4)}) {
    Gpt cpu(c), gpu(c);
    testing::perturb(*cpu, 0.05);
    testing::perturb(*gpu, 0.05);
    gpu->to(torch::Device(torch::kCUDA));
    const torch::Tensor idx = testing::tokens(2, 8), targets = testing::tokens(2, 8, 32, 2);
    const torch::Tensor a = cpu->forward(idx);
    const torch::Tensor b = gpu->forward(idx.to(torch::kCUDA)).cpu();
    EXPECT_LT(max_abs_diff(a, b), 1e-4) << describe(c);
    gpu->loss(idx.to(torch::kCUDA), targets.to(torch::kCUDA)).backward();
    for (const auto& p : named_params(*gpu)) {
      ASSERT_TRUE(p.tensor.grad().defined()) << p.name;
      EXPECT_TRUE(torch::isfinite(p.tensor.grad()).all().item<bool>()) << p.name;
    }
  }
}

TEST(GptCuda, MixingStaysFloat32UnderBf16Autocast) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device (LibTorch reports none)";
  const torch::Device cuda(torch::kCUDA);
  HyperConnectionImpl hc(tiny("hc", 4, true), 0);
  hc.to(cuda);
  const torch::Tensor W = torch::randn({16, 16}).to(cuda);
  const torch::Tensor H = torch::randn({2, 8, 4, 16}).to(cuda);
  torch::Tensor y_dtype_probe;
  const Sublayer f = [&](const torch::Tensor& h0) {
    EXPECT_EQ(h0.scalar_type(), at::kFloat);  // the read is float32
    y_dtype_probe = at::matmul(h0, W);        // the sublayer runs under autocast
    return y_dtype_probe;
  };
  Gpt m(tiny("hc", 4, true));
  testing::perturb(*m, 0.05);
  m->to(cuda);
  const torch::Tensor idx = testing::tokens(2, 8).to(cuda);
  const torch::Tensor ref = m->forward(idx);
  testing::set_bf16_autocast(c10::DeviceType::CUDA, true);
  const torch::Tensor out = hc.forward(H, f);
  const torch::Tensor weights_alpha = hc.weights(H).alpha;
  const torch::Tensor logits = m->forward(idx);
  testing::set_bf16_autocast(c10::DeviceType::CUDA, false);
  EXPECT_EQ(y_dtype_probe.scalar_type(), at::kBFloat16);
  EXPECT_EQ(out.scalar_type(), at::kFloat);
  EXPECT_TRUE(torch::isfinite(logits).all().item<bool>());
  EXPECT_LT(max_abs_diff(logits.to(at::kFloat), ref), 0.05);
  EXPECT_EQ(weights_alpha.scalar_type(), at::kFloat);  // DHC projections in float32
}

}  // namespace
}  // namespace hcx::model
