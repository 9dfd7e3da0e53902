// Checkpoint writing and reading; see checkpoint.h.
#include "hcx/train/checkpoint.h"

#include <signal.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <sstream>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include <torch/optim/adamw.h>
#include <torch/serialize.h>
#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>
#include <torch/version.h>

#include "hcx/error.h"
#include "hcx/train/torch_error.h"
#include "hcx/util/fsync.h"

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

namespace fs = std::filesystem;

constexpr const char* kLegacyName = "checkpoint.pt";  // the one file per run of hcx before per-step files
constexpr const char* kTmpMark = ".tmp.";              // .<name>.tmp.<pid>: a writer's temporary file

// "step-00000120.pt" -> 120; -1 for any other name.
int64_t step_of(const std::string& name) {
  if (name.size() != 16 || name.rfind("step-", 0) != 0 || name.substr(13) != ".pt") return -1;
  const std::string digits = name.substr(5, 8);
  if (digits.find_first_not_of("0123456789") != std::string::npos) return -1;
  return std::stoll(digits);
}

double free_bytes(const fs::path& dir) {
  struct statvfs st {};
  if (statvfs(dir.c_str(), &st) != 0) return -1;
  return static_cast<double>(st.f_bavail) * static_cast<double>(st.f_frsize);
}

std::string mib(double bytes) { return std::to_string(static_cast<int64_t>(std::ceil(bytes / (1024.0 * 1024.0)))) + " MiB"; }

// About what the next checkpoint takes: the newest one's size, or the
// tensors' bytes (weights and two AdamW moments) and a margin before the first.
double expected_bytes(const fs::path& dir, torch::nn::Module& model) {
  for (const auto& f : list_checkpoints(dir)) {
    std::error_code ec;
    const auto size = fs::file_size(f.path, ec);
    if (!ec) return static_cast<double>(size) * 1.05 + 64 * 1024;
  }
  double bytes = 0;
  for (const auto& p : model.parameters()) bytes += static_cast<double>(p.numel() * p.element_size());
  for (const auto& b : model.buffers()) bytes += static_cast<double>(b.numel() * b.element_size());
  return 3.3 * bytes + 64 * 1024;
}

}  // namespace

std::filesystem::path checkpoint_path(const std::filesystem::path& dir, int64_t step) {
  char name[32];
  std::snprintf(name, sizeof name, "step-%08lld.pt", static_cast<long long>(step));
  return dir / name;
}

std::vector<CheckpointFile> list_checkpoints(const std::filesystem::path& dir) {
  std::vector<CheckpointFile> out;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (!it->is_regular_file()) continue;
    const std::string name = it->path().filename().string();
    const int64_t step = step_of(name);
    if (step >= 0 || name == kLegacyName) out.push_back({it->path(), step});
  }
  std::sort(out.begin(), out.end(), [](const CheckpointFile& a, const CheckpointFile& b) { return a.step > b.step; });
  return out;
}

void prune_checkpoints(const std::filesystem::path& dir, int64_t keep) {
  const auto files = list_checkpoints(dir);
  std::error_code ec;
  for (size_t i = static_cast<size_t>(std::max<int64_t>(keep, 1)); i < files.size(); ++i) fs::remove(files[i].path, ec);
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    const size_t mark = name.rfind(kTmpMark);
    if (name.empty() || name[0] != '.' || mark == std::string::npos) continue;
    const std::string pid = name.substr(mark + std::strlen(kTmpMark));
    if (pid.empty() || pid.find_first_not_of("0123456789") != std::string::npos) continue;
    if (kill(static_cast<pid_t>(std::stoll(pid)), 0) != 0 && errno == ESRCH) fs::remove(it->path(), ec);
  }
}

std::filesystem::path set_aside(const std::filesystem::path& file) {
  const fs::path dest = file.parent_path() / "set-aside" / file.filename();
  std::error_code ec;
  fs::create_directories(dest.parent_path(), ec);
  if (!ec) fs::rename(file, dest, ec);
  if (ec) throw io_error(file.string() + ": cannot move the checkpoint aside to " + dest.string() + ": " + ec.message());
  return dest;
}

void save_checkpoint(const std::filesystem::path& path, torch::nn::Module& model,
                     torch::optim::Optimizer& optimizer, const TrainState& state,
                     const std::string& config_hash) {
  nlohmann::json meta = {{"step", state.step},         {"tokens", state.tokens}, {"extra", state.extra},
                         {"config_hash", config_hash}, {"libtorch", kLibTorch},  {"db_id", state.db_id},
                         {"attempt", state.attempt}};
  const fs::path dir = path.parent_path();
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw io_error(dir.string() + ": cannot create the checkpoint folder: " + ec.message());
  const double needed = expected_bytes(dir, model);
  const double free = free_bytes(dir);
  if (free >= 0 && free < needed) {
    throw io_error(path.string() + ": cannot write checkpoint: no space left on " + dir.string() + " (" + mib(free) +
                   " free, a checkpoint needs ~" + mib(needed) + ")");
  }
  const fs::path tmp = dir / ("." + path.filename().string() + kTmpMark + std::to_string(getpid()));
  try {
    torch::serialize::OutputArchive root, model_ar, opt_ar;
    model.save(model_ar);
    save_adamw_state(optimizer, opt_ar);
    root.write("format_version", torch::tensor(kCheckpointFormat));
    root.write("model", model_ar);
    root.write("optimizer", opt_ar);
    root.write("meta", c10::IValue(meta.dump()));
    root.save_to(tmp.string());
    if (!util::sync_path(tmp)) throw std::runtime_error(std::string("fsync: ") + std::strerror(errno));
    fs::rename(tmp, path);  // readers see the old file or the new one
    if (!util::sync_path(dir, /*directory=*/true))
      throw std::runtime_error(std::string("fsync of the folder: ") + std::strerror(errno));
  } catch (const std::exception& e) {
    fs::remove(tmp, ec);
    const double left = free_bytes(dir);
    const std::string why = left >= 0 && left < needed ? "no space left on " + dir.string() + " (" + mib(left) +
                                                             " free, a checkpoint needs ~" + mib(needed) + "): "
                                                       : "";
    throw io_error(path.string() + ": cannot write checkpoint: " + why + message_of(e));
  }
}

namespace {

// Opens the checkpoint at `path` into `root` (its tensors mapped to `device`
// when given) and returns its format version and meta record. Throws
// Error(kIo) for a format this hcx does not read; the archive's own
// exceptions pass through.
std::pair<int64_t, nlohmann::json> open_checkpoint(const std::filesystem::path& path,
                                                   torch::serialize::InputArchive& root,
                                                   const c10::Device* device = nullptr) {
  if (device != nullptr) {
    root.load_from(path.string(), *device);  // e.g. a CUDA run's weights read on a CPU
  } else {
    root.load_from(path.string());
  }
  torch::Tensor version;
  root.read("format_version", version);
  const int64_t format = version.item<int64_t>();
  if (format < 1 || format > kCheckpointFormat) {
    throw io_error(path.string() + ": checkpoint format " + std::to_string(format) + ", this hcx reads formats 1 to " +
                   std::to_string(kCheckpointFormat));
  }
  c10::IValue meta_value;
  root.read("meta", meta_value);
  return {format, nlohmann::json::parse(meta_value.toStringRef())};
}

// Opens the checkpoint at `path` (tensors mapped to `device` when given),
// refuses it when it belongs to another run than `config_hash`, and loads its
// weights into `model`, refusing a parameter of another shape (Module::load
// would replace it). `writer` names the LibTorch that wrote the file once its
// meta record is read. Returns the format version and the meta record.
std::pair<int64_t, nlohmann::json> open_and_load_model(const std::filesystem::path& path,
                                                       torch::serialize::InputArchive& root,
                                                       torch::nn::Module& model, const std::string& config_hash,
                                                       const c10::Device* device, std::string& writer) {
  auto opened = open_checkpoint(path, root, device);
  const nlohmann::json& meta = opened.second;
  if (meta.contains("libtorch")) writer = "LibTorch " + meta.at("libtorch").get<std::string>();
  if (meta.at("config_hash") != config_hash) {
    throw io_error(path.string() + ": checkpoint of another run (" + meta.at("config_hash").get<std::string>() +
                   "), expected " + config_hash);
  }
  torch::serialize::InputArchive model_ar;
  root.read("model", model_ar);
  std::vector<std::pair<std::string, std::vector<int64_t>>> shapes;
  for (const auto& p : model.named_parameters()) shapes.emplace_back(p.key(), p.value().sizes().vec());
  model.load(model_ar);
  const auto loaded = model.named_parameters();
  for (const auto& [name, shape] : shapes) {
    if (loaded[name].sizes().vec() != shape)
      throw std::runtime_error("its " + name + " has shape " + c10::str(loaded[name].sizes()) + ", the model's is " +
                               c10::str(c10::IntArrayRef(shape)));
  }
  return opened;
}

// The meta record's fields (the keys written by save_checkpoint; older files lack the optional ones).
CheckpointMeta meta_of(const nlohmann::json& meta) {
  CheckpointMeta m;
  m.step = meta.at("step").get<int64_t>();
  m.config_hash = meta.at("config_hash").get<std::string>();
  m.db_id = meta.value("db_id", std::string());
  m.attempt = meta.value("attempt", int64_t{0});
  m.libtorch = meta.value("libtorch", std::string());
  return m;
}

}  // namespace

CheckpointMeta read_checkpoint_meta(const std::filesystem::path& path) {
  try {
    torch::serialize::InputArchive root;
    const nlohmann::json meta = open_checkpoint(path, root).second;
    return meta_of(meta);
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    throw io_error(path.string() + ": cannot read checkpoint: " + message_of(e));
  }
}

bool load_checkpoint(const std::filesystem::path& path, torch::nn::Module& model,
                     torch::optim::Optimizer& optimizer, TrainState& state,
                     const std::string& config_hash) {
  if (!std::filesystem::exists(path)) return false;
  nlohmann::json meta;
  std::string writer = "an unknown LibTorch";  // known once the meta record is read
  try {
    torch::serialize::InputArchive root, opt_ar;
    int64_t format = 0;
    std::tie(format, meta) = open_and_load_model(path, root, model, config_hash, nullptr, writer);
    root.read("optimizer", opt_ar);
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
                   kLibTorch + "): " + message_of(e));
  }
  state.step = meta.at("step").get<int64_t>();
  state.tokens = meta.at("tokens").get<int64_t>();
  state.extra = meta.at("extra");
  state.db_id = meta.value("db_id", std::string());
  state.attempt = meta.value("attempt", int64_t{0});
  return true;
}

CheckpointMeta load_model_weights(const std::filesystem::path& path, torch::nn::Module& model,
                                  const std::string& config_hash) {
  if (!std::filesystem::exists(path)) throw io_error(path.string() + ": no such checkpoint");
  std::string writer = "an unknown LibTorch";  // known once the meta record is read
  try {
    torch::serialize::InputArchive root;
    const c10::Device cpu(c10::kCPU);
    return meta_of(open_and_load_model(path, root, model, config_hash, &cpu, writer).second);
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    throw io_error(path.string() + ": cannot read the checkpoint's weights (written by " + writer +
                   ", read by LibTorch " + kLibTorch + "): " + message_of(e));
  }
}

}  // namespace hcx::train
