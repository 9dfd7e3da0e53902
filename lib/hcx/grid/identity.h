// Run identity: a run's id is a hash of its canonical resolved config
// (docs/architecture.md, "Data flow"). Same config, same id, in every sweep, on every host;
// `hcx run CONFIG.json`, the sweep and the Slurm executor all call run_id().
//
// The canonical config is config::to_json() of the parsed config (typed, keys
// sorted, numbers in nlohmann's shortest round-trip spelling: key order and
// "1e-3" vs "0.001" change nothing), after three rules:
//
//  1. Placement keys are removed: train.device and train.threads say where a
//     run executes, not what it computes (the executor passes --device and
//     --threads to `hcx run`).
//  2. Keys the variant does not read are reset to their defaults, so that two
//     configs that train the same model are one run:
//       residual.kind pre_norm / post_norm: every other residual.* key;
//       residual.kind hc:  residual.sinkhorn_iters; and residual.tanh when
//                          residual.dynamic is false (SHC has no tanh);
//       residual.kind mhc: residual.dynamic, .tanh, .freeze_width, .freeze_beta;
//       residual.kind frac: .reduce, .scale_out_init, .sinkhorn_iters; and
//                          .tanh, .dynamic_norm, .dynamic_scale for SFC;
//       residual.kind laurel, denseformer, mudd: every key but their own
//                          (.laurel_rank; .dwa_dilation, .dwa_period; none);
//       .dynamic_norm, .dynamic_scale (frac), .laurel_rank, .dwa_* for every other kind;
//       model.ffn other than moe: every model.moe_* key;
//       data.source synthetic: data.path, data.tokenizer, data.token_dtype;
//       data.source text:      data.token_dtype, data.synthetic_tokens, data.difficulty;
//       data.source tokens:    data.tokenizer, data.synthetic_tokens, data.difficulty;
//       train.schedule != wsd: train.decay_fraction; constant: also train.min_lr_ratio.
//     Everything else counts, even keys that only change what is measured
//     (eval.*, spikes.*, train.log_every): results of such runs differ.
//  3. For the hash only, keys equal to their default are left out. So a key
//     added to the run config later (with a default that keeps the old
//     behaviour) leaves every stored id valid. The price: a default must never
//     change meaning, or stored runs that relied on it would be taken for the
//     new behaviour. tests/grid/identity_test.cpp pins the defaults.
//
// The hash is 64-bit FNV-1a of the compact dump of that JSON, written as 16
// lower-case hex digits. It is not cryptographic; with 64 bits the chance of
// a collision among a million runs is below 1e-7.
//
// Torch-free and DB-free. All functions are pure and thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "hcx/config/run_config.h"

namespace hcx::grid {

// Whether `dotted_key` is left out of every run's identity: the placement
// keys of rule 1 (train.device, train.threads) and train.keep_checkpoints
// (disk use). canonical_json() drops them; a sweep changed only in them keeps
// its name (experiment.h, sweep_name).
bool outside_identity(const std::string& dotted_key);

// The config with rules 1 and 2 applied (placement keys keep their values
// here: use canonical_json() for the hashed form).
config::RunConfig normalized(const config::RunConfig& c);

// to_json(normalized(c)) without the keys outside_identity() names: every other
// key present. What the runs table stores as config_json; parsing it back
// gives the same run_id.
config::Json canonical_json(const config::RunConfig& c);

// canonical_json(c) without the keys equal to their defaults (rule 3): the
// JSON whose compact dump is hashed. `{}` for the default run.
config::Json identity_json(const config::RunConfig& c);

// 16 hex digits identifying the run `c` (see the rules above).
std::string run_id(const config::RunConfig& c);

// 64-bit FNV-1a of `bytes`.
uint64_t fnv1a64(std::string_view bytes);

}  // namespace hcx::grid
