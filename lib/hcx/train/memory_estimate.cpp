// Memory estimate of a run against the machine; see memory_estimate.h.
#include "hcx/train/memory_estimate.h"

#include <cmath>
#include <fstream>
#include <sstream>

#include "hcx/model/inspect.h"

namespace hcx::train {
namespace {

std::string gib(double bytes) {
  std::ostringstream s;
  s.precision(3);
  if (bytes >= 1024.0 * 1024 * 1024 * 1024) {
    s << bytes / (1024.0 * 1024 * 1024 * 1024) << " TiB";
  } else {
    s << bytes / (1024.0 * 1024 * 1024) << " GiB";
  }
  return s.str();
}

// The keys behind the larger part of the estimate, with their values.
std::string driving_keys(const config::RunConfig& c, const MemoryEstimate& m) {
  const auto& md = c.model;
  auto kv = [](const char* key, int64_t v) { return std::string(key) + "=" + std::to_string(v); };
  if (m.activation_bytes > m.param_bytes)
    return kv("train.batch_size", c.train.batch_size) + ", " + kv("model.seq_len", md.seq_len) + ", " +
           kv("model.n_layers", md.n_layers);
  const double embedding = double(md.vocab_size) * double(md.d_model);
  const double blocks = 12.0 * double(md.d_model) * double(md.d_model) * double(md.n_layers);
  if (embedding > blocks) return kv("model.vocab_size", md.vocab_size) + ", " + kv("model.d_model", md.d_model);
  return kv("model.n_layers", md.n_layers) + ", " + kv("model.d_model", md.d_model);
}

}  // namespace

MemoryEstimate estimate_memory(const config::RunConfig& cfg) {
  const model::ModelStats s = model::compute_stats(cfg);
  MemoryEstimate m;
  m.param_bytes = 16.0 * double(s.params_total);
  m.activation_bytes = s.activation_bytes_per_token * double(cfg.train.batch_size) * double(cfg.model.seq_len);
  return m;
}

std::optional<double> available_host_bytes() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  double kib = 0;
  std::string unit;
  while (in >> key >> kib >> unit) {
    if (key == "MemAvailable:") return kib * 1024.0;
  }
  return std::nullopt;
}

std::string memory_refusal(const config::RunConfig& cfg, double available, const std::string& device_name) {
  const MemoryEstimate m = estimate_memory(cfg);
  if (m.total() <= available) return "";
  return driving_keys(cfg, m) + ": this run needs ~" + gib(m.total()) + " (parameters, gradients and AdamW state " +
         gib(m.param_bytes) + ", activations of one micro-batch " + gib(m.activation_bytes) + "), but " +
         device_name + " has " + gib(available) + " free; make the model or train.batch_size smaller " +
         "(hcx inspect shows the sizes)";
}

}  // namespace hcx::train
