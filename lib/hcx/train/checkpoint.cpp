// Checkpoint writing and reading; see checkpoint.h.
#include "hcx/train/checkpoint.h"

#include <memory>
#include <sstream>
#include <string>
#include <type_traits>

#include <torch/optim/adamw.h>
#include <torch/serialize.h>
#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>
#include <torch/version.h>

#include "hcx/error.h"

namespace hcx::train {

namespace {

// The LibTorch that writes and reads checkpoints here: the Debian build (1.13)
// and the PyPI build (2.x) read each other's files (tests/build/cross_checkpoint.sh);
// an error names both versions when one cannot.
constexpr const char* kLibTorch = TORCH_VERSION;

// The optimizer's state map is keyed by the parameter's TensorImpl: as its
// address in a string in LibTorch 1.13, as the pointer itself in 2.x.
template <typename Map>
typename Map::key_type state_key(const torch::Tensor& p) {
  if constexpr (std::is_same_v<typename Map::key_type, std::string>) {
    std::ostringstream address;  // what 1.13's c10::guts::to_string(TensorImpl*) writes
    address << static_cast<const void*>(p.unsafeGetTensorImpl());
    return address.str();
  } else {
    return p.unsafeGetTensorImpl();
  }
}

// AdamW's moments by (group, position in group), the same on every LibTorch.
// torch::optim's own serialization is not: 1.13 and 2.x order the entries
// differently, and a 2.x reader of a 1.13 file assigns one parameter's
// moments to another.
std::string entry(size_t group, size_t index, const char* what) {
  return "g" + std::to_string(group) + ".p" + std::to_string(index) + "." + what;
}

// The AdamW state of parameter `p`, or nullptr before its first step.
const torch::optim::AdamWParamState* adamw_state(torch::optim::Optimizer& optimizer, const torch::Tensor& p) {
  auto& state = optimizer.state();
  const auto it = state.find(state_key<std::remove_reference_t<decltype(state)>>(p));
  if (it == state.end()) return nullptr;
  const auto* s = dynamic_cast<const torch::optim::AdamWParamState*>(it->second.get());
  if (s == nullptr) throw std::runtime_error("checkpoints hold AdamW state only");
  return s;
}

void save_adamw_state(torch::optim::Optimizer& optimizer, torch::serialize::OutputArchive& ar) {
  const auto& groups = optimizer.param_groups();
  for (size_t g = 0; g < groups.size(); ++g) {
    for (size_t i = 0; i < groups[g].params().size(); ++i) {
      const torch::optim::AdamWParamState* s = adamw_state(optimizer, groups[g].params()[i]);
      if (s == nullptr) continue;  // not stepped yet
      ar.write(entry(g, i, "step"), torch::tensor(s->step()));
      ar.write(entry(g, i, "exp_avg"), s->exp_avg());
      ar.write(entry(g, i, "exp_avg_sq"), s->exp_avg_sq());
    }
  }
}

// Each parameter's moments have its shape: what a format-1 file read by
// another LibTorch than its writer's gets wrong, and a format-2 file of
// another model.
void check_adamw_state(torch::optim::Optimizer& optimizer) {
  for (const auto& group : optimizer.param_groups()) {
    for (const auto& p : group.params()) {
      const torch::optim::AdamWParamState* s = adamw_state(optimizer, p);
      if (s != nullptr && (!s->exp_avg().sizes().equals(p.sizes()) || !s->exp_avg_sq().sizes().equals(p.sizes())))
        throw std::runtime_error("its optimizer state does not fit the model's parameters");
    }
  }
}

void load_adamw_state(torch::optim::Optimizer& optimizer, torch::serialize::InputArchive& ar) {
  auto& state = optimizer.state();
  using Map = std::remove_reference_t<decltype(state)>;
  state.clear();
  const auto& groups = optimizer.param_groups();
  for (size_t g = 0; g < groups.size(); ++g) {
    for (size_t i = 0; i < groups[g].params().size(); ++i) {
      const torch::Tensor& p = groups[g].params()[i];
      torch::Tensor step, m, v;
      if (!ar.try_read(entry(g, i, "step"), step)) continue;
      ar.read(entry(g, i, "exp_avg"), m);
      ar.read(entry(g, i, "exp_avg_sq"), v);
      auto s = std::make_unique<torch::optim::AdamWParamState>();
      s->step(step.item<int64_t>());
      s->exp_avg(m.to(p.device()));
      s->exp_avg_sq(v.to(p.device()));
      state[state_key<Map>(p)] = std::move(s);
    }
  }
}

}  // namespace

std::filesystem::path checkpoint_path(const std::filesystem::path& dir) { return dir / "checkpoint.pt"; }

void save_checkpoint(const std::filesystem::path& path, torch::nn::Module& model,
                     torch::optim::Optimizer& optimizer, const TrainState& state,
                     const std::string& config_hash) {
  nlohmann::json meta = {{"step", state.step}, {"tokens", state.tokens}, {"extra", state.extra},
                         {"config_hash", config_hash}, {"libtorch", kLibTorch}};
  torch::serialize::OutputArchive root, model_ar, opt_ar;
  model.save(model_ar);
  save_adamw_state(optimizer, opt_ar);
  root.write("format_version", torch::tensor(kCheckpointFormat));
  root.write("model", model_ar);
  root.write("optimizer", opt_ar);
  root.write("meta", c10::IValue(meta.dump()));
  std::error_code ec;
  std::filesystem::create_directories(path.parent_path(), ec);
  const std::filesystem::path tmp = path.string() + ".tmp";
  try {
    root.save_to(tmp.string());
    std::filesystem::rename(tmp, path);  // readers see the old file or the new one
  } catch (const std::exception& e) {
    throw io_error(path.string() + ": cannot write checkpoint: " + e.what());
  }
}

bool load_checkpoint(const std::filesystem::path& path, torch::nn::Module& model,
                     torch::optim::Optimizer& optimizer, TrainState& state,
                     const std::string& config_hash) {
  if (!std::filesystem::exists(path)) return false;
  nlohmann::json meta;
  std::string writer = "an unknown LibTorch";  // known once the meta record is read
  try {
    torch::serialize::InputArchive root, model_ar, opt_ar;
    root.load_from(path.string());
    torch::Tensor version;
    root.read("format_version", version);
    const int64_t format = version.item<int64_t>();
    if (format < 1 || format > kCheckpointFormat) {
      throw io_error(path.string() + ": checkpoint format " + std::to_string(format) +
                     ", this hcx reads formats 1 to " + std::to_string(kCheckpointFormat));
    }
    c10::IValue meta_value;
    root.read("meta", meta_value);
    meta = nlohmann::json::parse(meta_value.toStringRef());
    if (meta.contains("libtorch")) writer = "LibTorch " + meta.at("libtorch").get<std::string>();
    if (meta.at("config_hash") != config_hash) {
      throw io_error(path.string() + ": checkpoint of another run (" + meta.at("config_hash").get<std::string>() +
                     "), expected " + config_hash);
    }
    root.read("model", model_ar);
    root.read("optimizer", opt_ar);
    model.load(model_ar);
    if (format == 1) {
      optimizer.load(opt_ar);  // torch::optim's layout: read back by the LibTorch that wrote it only
    } else {
      load_adamw_state(optimizer, opt_ar);
    }
    check_adamw_state(optimizer);
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    throw io_error(path.string() + ": cannot read checkpoint (written by " + writer + ", read by LibTorch " +
                   kLibTorch + "): " + e.what());
  }
  state.step = meta.at("step").get<int64_t>();
  state.tokens = meta.at("tokens").get<int64_t>();
  state.extra = meta.at("extra");
  return true;
}

}  // namespace hcx::train
