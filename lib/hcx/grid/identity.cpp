// Run ids: canonical config, defaults left out, then FNV-1a 64 (rules in identity.h).
#include "hcx/grid/identity.h"

#include <cstdio>

namespace hcx::grid {

config::RunConfig normalized(const config::RunConfig& c) {
  const config::RunConfig defaults;
  config::RunConfig n = c;
  auto& r = n.residual;
  const auto& d = defaults.residual;
  if (r.kind == "pre_norm" || r.kind == "post_norm") {
    const std::string kind = r.kind;
    r = d;
    r.kind = kind;
  } else {
    // Each variant keeps the keys it reads (identity.h, rule 2).
    const bool hc = r.kind == "hc", mhc = r.kind == "mhc", frac = r.kind == "frac";
    if (!hc && !mhc && !frac) r.n = d.n;
    if (!hc && !frac) r.dynamic = d.dynamic;
    if (!(hc || frac) || !r.dynamic) r.tanh = d.tanh;
    if (!frac || !r.dynamic) {
      r.dynamic_norm = d.dynamic_norm;
      r.dynamic_scale = d.dynamic_scale;
    }
    if (!hc && !frac) {
      r.freeze_width = d.freeze_width;
      r.freeze_beta = d.freeze_beta;
    }
    if (!hc && !mhc) {
      r.reduce = d.reduce;
      r.scale_out_init = d.scale_out_init;
    }
    if (!mhc) r.sinkhorn_iters = d.sinkhorn_iters;
    if (r.kind != "laurel") r.laurel_rank = d.laurel_rank;
    if (r.kind != "denseformer") {
      r.dwa_dilation = d.dwa_dilation;
      r.dwa_period = d.dwa_period;
    }
  }

  auto& m = n.model;
  const auto& dm = defaults.model;
  if (m.ffn != "moe") {  // the MoE keys are read only by the MoE FFN
    m.moe_experts = dm.moe_experts;
    m.moe_top_k = dm.moe_top_k;
    m.moe_hidden = dm.moe_hidden;
    m.moe_norm_topk = dm.moe_norm_topk;
    m.moe_lb_weight = dm.moe_lb_weight;
    m.moe_z_weight = dm.moe_z_weight;
    m.moe_lb_convention = dm.moe_lb_convention;
    m.moe_z_reduce = dm.moe_z_reduce;
  }

  auto& data = n.data;
  const auto& dd = defaults.data;
  if (data.source == "synthetic") {
    data.path = dd.path;
    data.tokenizer = dd.tokenizer;
    data.token_dtype = dd.token_dtype;
  } else if (data.source == "text") {
    data.token_dtype = dd.token_dtype;
    data.synthetic_tokens = dd.synthetic_tokens;
    data.difficulty = dd.difficulty;
  } else if (data.source == "tokens") {
    data.tokenizer = dd.tokenizer;
    data.synthetic_tokens = dd.synthetic_tokens;
    data.difficulty = dd.difficulty;
  }

  auto& t = n.train;
  if (t.schedule != "wsd") t.decay_fraction = defaults.train.decay_fraction;
  if (t.schedule == "constant") t.min_lr_ratio = defaults.train.min_lr_ratio;
  return n;
}

// The train.* keys outside every run's identity: where it runs, and disk use.
constexpr const char* kOutsideIdentity[] = {"device", "threads", "keep_checkpoints"};

bool outside_identity(const std::string& dotted_key) {
  for (const char* k : kOutsideIdentity) {
    if (dotted_key == std::string("train.") + k) return true;
  }
  return false;
}

config::Json canonical_json(const config::RunConfig& c) {
  config::Json j = config::to_json(normalized(c));
  for (const char* k : kOutsideIdentity) j["train"].erase(k);
  return j;
}

namespace {

// Removes from `j` every leaf equal to the same path in `defaults`, and the
// objects that become empty.
void strip_defaults(config::Json& j, const config::Json& defaults) {
  for (auto it = j.begin(); it != j.end();) {
    const auto d = defaults.find(it.key());
    if (d != defaults.end()) {
      if (it->is_object() && d->is_object()) {
        strip_defaults(*it, *d);
        if (it->empty()) {
          it = j.erase(it);
          continue;
        }
      } else if (*it == *d) {
        it = j.erase(it);
        continue;
      }
    }
    ++it;
  }
}

}  // namespace

config::Json identity_json(const config::RunConfig& c) {
  static const config::Json defaults = config::to_json(config::RunConfig{});
  config::Json j = canonical_json(c);
  strip_defaults(j, defaults);
  return j;
}

uint64_t fnv1a64(std::string_view bytes) {
  uint64_t h = 14695981039346656037ull;  // FNV offset basis
  for (unsigned char ch : bytes) {
    h ^= ch;
    h *= 1099511628211ull;  // FNV prime
  }
  return h;
}

std::string run_id(const config::RunConfig& c) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx",
                static_cast<unsigned long long>(fnv1a64(identity_json(c).dump())));
  return buf;
}

}  // namespace hcx::grid
