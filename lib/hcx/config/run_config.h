// The run config: one plain struct per component, every field with a default,
// so `{}` is a valid tiny CPU run (CONTRIBUTING.md, "Adding a config key"). The dotted names
// (`train.lr`) are the public interface of experiment files, `-s` overrides,
// the run_params table and reports: add keys freely, rename none.
// Torch-free: every module may include this header.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace hcx::config {

using Json = nlohmann::json;

// One downstream task in eval.tasks (docs/method.md, "Downstream scores").
struct TaskSpec {
  std::string name;                          // label in the evals table, e.g. "hellaswag"
  std::string kind = "choice";               // "choice" | "pairs" | "synthetic"
  std::string path;                          // JSONL file (choice, pairs)
  std::string context_field = "ctx";         // choice: the shared context
  std::string choices_field = "endings";     // choice: list of candidate continuations
  std::string label_field = "label";         // choice: index of the right one
  std::string good_field = "sentence_good";  // pairs: the sentence that should score higher
  std::string bad_field = "sentence_bad";    // pairs: the one that should score lower
  int64_t limit = 0;                         // first N items only; 0 = all
  int64_t stride = 1;                        // every k-th item of the file (a cheaper, spread-out subset)
};

// A further text whose validation loss is measured (e.g. an out-of-domain corpus).
struct ExtraValSpec {
  std::string name;  // metric becomes "val/<name>/loss"
  std::string path;  // text file, tokenised like data.path
};

struct ModelConfig {
  int64_t d_model = 64;          // residual width d
  int64_t n_layers = 2;          // blocks; each has 2 sublayers (attention, FFN)
  int64_t n_heads = 4;           // d_model / n_heads must be even (RoPE rotates pairs)
  int64_t seq_len = 64;          // context length T
  int64_t vocab_size = 256;      // 256 fits byte-level text and the synthetic language
  std::string ffn = "swiglu";    // "swiglu" (hidden ~8d/3, rounded to 8) | "gelu" (hidden 4d) | "moe" (below)
  std::string norm = "layernorm";  // "layernorm" (no affine) | "rmsnorm" (affine gain)
  bool tie_embeddings = true;    // unembedding shares the embedding matrix
  double norm_eps = 1e-5;        // epsilon of every norm; 0 is allowed (init-equivalence tests)
  double init_std = 0.02;        // normal(0, init_std); output projections also / sqrt(2L)
  double rope_theta = 10000.0;   // RoPE base
  // ffn "moe": a mixture of SwiGLU experts with dropless token-choice top-k routing (OLMoE;
  // docs/method.md, "The MoE FFN"). Read only when ffn is "moe".
  int64_t moe_experts = 8;     // E experts per layer
  int64_t moe_top_k = 2;       // k experts per token, 1..E
  int64_t moe_hidden = 0;      // expert hidden h_e; 0 = ceil(h/k) of the swiglu hidden h: active FLOPs of the dense FFN
  bool moe_norm_topk = false;  // w / sum w over the chosen k (Mixtral); OLMoE: false, w = p[I]
  double moe_lb_weight = 0.01;                   // alpha of the load-balancing loss
  double moe_z_weight = 0.001;                   // beta of the router z-loss
  std::string moe_lb_convention = "megablocks";  // "megablocks": E sum f_e P_e, 1 = balanced | "hf": k times that
  std::string moe_z_reduce = "mean";             // "mean" over layers of the token means | "sum" over layers
};

struct ResidualConfig {
  // "pre_norm" | "post_norm" | "hc" | "mhc" | "frac" | "laurel" | "denseformer" | "mudd" (docs/method.md, "Variants")
  std::string kind = "pre_norm";
  int64_t n = 4;                  // expansion rate (hc, mhc), 1..8; frac: the frac rate m (divides d_model)
  bool dynamic = true;            // hc, frac: DHC / DFC (token-dependent) rather than SHC / SFC
  bool tanh = true;               // hc, frac dynamic: tanh on the dynamic projections
  bool dynamic_norm = true;       // frac dynamic: normalise each fraction before its projection
  bool dynamic_scale = true;      // frac dynamic: learnable scales s_a, s_b on the dynamic terms
  bool freeze_width = false;      // hc, frac: A_m and A_r (frac: Y and A) stay at their init
  bool freeze_beta = false;       // hc, frac: B stays at its init
  std::string reduce = "sum";     // hc, mhc: "sum" (paper) | "mean" of the n streams before the final norm
  bool scale_out_init = false;    // hc, mhc: extra 1/sqrt(n) on output-projection init (breaks init equivalence)
  int64_t sinkhorn_iters = 20;    // mhc: Sinkhorn-Knopp iterations
  int64_t laurel_rank = 0;        // laurel: 0 = LAuReL-RW; r > 0 = LAuReL-RW+LR with a rank-r map
  int64_t dwa_dilation = 1;       // denseformer: k, average only block outputs j = i (mod k)
  int64_t dwa_period = 1;         // denseformer: p, a weighted average after every p-th block only
};

struct DataConfig {
  std::string source = "synthetic";  // "synthetic" | "text" | "tokens"
  std::string path;                  // text or token file
  std::string tokenizer = "bytes";   // text: "bytes" | path to a SentencePiece model
  std::string token_dtype = "uint16";  // tokens: "uint16" | "uint32"
  double val_fraction = 0.05;        // text, tokens: tail share held out for validation
  int64_t synthetic_tokens = 1 << 20;  // synthetic: size of the generated corpus
  int64_t difficulty = 2;            // synthetic: 1 (easy) .. 4 (hard): nesting depth, distances
};

struct TrainConfig {
  int64_t steps = 200;              // optimizer steps; also the horizon of the decay
  int64_t batch_size = 16;          // sequences per micro-batch
  double lr = 1e-3;                 // peak learning rate, reached after warmup
  int64_t warmup_steps = 20;        // linear warmup from 0
  std::string schedule = "cosine";  // "cosine" | "linear" | "constant" | "wsd"
  double min_lr_ratio = 0.1;        // final lr = lr * min_lr_ratio (cosine, linear, wsd)
  double decay_fraction = 0.2;      // wsd: share of steps spent decaying at the end
  double weight_decay = 0.1;        // matrices and embeddings only; see train/optimizer.cpp
  double beta1 = 0.9;
  double beta2 = 0.95;
  double grad_clip = 1.0;           // global-norm clip; 0 disables
  int64_t grad_accum = 1;           // micro-batches per optimizer step
  std::string device = "cpu";       // "cpu" | "cuda" | "cuda:N"
  std::string dtype = "float32";    // "float32" | "bfloat16" (autocast on cpu or cuda; see train/autocast.h)
  int64_t threads = 1;              // CPU threads for this run; 0 = LibTorch's default
  int64_t checkpoint_every = 100;   // steps between checkpoints; 0 = only at the end
  int64_t keep_checkpoints = 2;     // newest checkpoints kept while training (>= 1; the older one is the
                                    // fallback when the newest cannot be read); after completion only the final one
  int64_t log_every = 10;           // steps per log interval (one DB transaction each)
  int64_t inject_nan_at = 0;        // testing aid: the loss of this step becomes NaN (0 = never)
};

struct EvalConfig {
  int64_t every = 50;               // validation (and task) evaluation interval; 0 = start and end only
  int64_t batches = 4;              // fixed validation batches per evaluation
  std::vector<TaskSpec> tasks;      // downstream tasks; empty = built-in synthetic tasks where they apply
  std::vector<ExtraValSpec> extra_val;  // further validation texts
  int64_t diagnostics_every = 0;    // collapse / grad-norm / HC-matrix interval; 0 = end only
  bool tasks_every = false;         // also score tasks every `every` steps (else only at the end)
};

struct SpikesConfig {
  int64_t window = 50;   // previous values the mean and std are taken over
  double sigma = 6.0;    // a spike is > mean + sigma * std of that window
};

struct RunConfig {
  int64_t seed = 0;  // same seed: same data order and same shared initial weights
  ModelConfig model;
  ResidualConfig residual;
  DataConfig data;
  TrainConfig train;
  EvalConfig eval;
  SpikesConfig spikes;
};

// Parses a run config from JSON (nested objects and/or dotted keys, e.g.
// {"model": {"d_model": 128}, "train.lr": 3e-3}). Missing keys keep their
// defaults. Every problem is appended to `errors` as "dotted.key: message",
// including unknown keys with the nearest known one; the returned config is
// meaningful only when no error was added. Validation (validate()) is included.
RunConfig from_json(const Json& j, std::vector<std::string>& errors);

// Same, but throws Error(kBadInput) with all problems, one per line, each
// prefixed by `where` (a file name; may be empty).
RunConfig parse_or_throw(const Json& j, const std::string& where = "");

// Reads a JSON file (comments allowed) and parses it as a run config.
RunConfig load_file(const std::string& path);

// The full nested config, every key present.
Json to_json(const RunConfig& c);

// Upper bounds of validate(): far past any model hcx is for, and refused
// before anything is allocated. What fits the machine is decided later, from
// a memory estimate (train/memory_estimate.h).
constexpr int64_t kMaxDModel = 65536;
constexpr int64_t kMaxLayers = 1024;
constexpr int64_t kMaxHeads = 1024;
constexpr int64_t kMaxExperts = 1024;  // model.moe_experts
constexpr int64_t kMaxSeqLen = int64_t{1} << 20;
constexpr int64_t kMaxVocab = int64_t{1} << 22;
constexpr int64_t kMaxBatch = int64_t{1} << 20;   // train.batch_size and train.grad_accum
constexpr int64_t kMaxSteps = 1000000000;

// Semantic checks on a parsed config, each message naming its dotted key.
std::vector<std::string> validate(const RunConfig& c);

// The flattened config: (dotted key, value) with values as text (numbers in
// JSON spelling, strings raw, lists as JSON). Feeds the run_params table.
std::vector<std::pair<std::string, std::string>> flatten(const RunConfig& c);

// Every dotted key a run config has, in declaration order.
const std::vector<std::string>& known_keys();

// Parses an override value as written on a command line: JSON when it parses
// (numbers, true/false, lists, objects), else a plain string.
Json parse_value(const std::string& raw);

// Sets `dotted` (e.g. "train.lr") inside `j`, creating objects on the way.
void set_dotted(Json& j, const std::string& dotted, const Json& value);

// Rewrites {"a.b": 1} into {"a": {"b": 1}} recursively. Throws Error(kBadInput)
// when a dotted key and a nested one set the same value differently.
Json expand_dotted(const Json& j);

// Reads a JSON file with // and /* */ comments, or a YAML file (.yaml, .yml:
// yaml.h). Throws Error naming the file and the line on a syntax error,
// Error(kIo) when it cannot be read.
Json read_json_file(const std::string& path);

// The nearest candidate by edit distance, or "" when none is close enough.
std::string nearest(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace hcx::config
