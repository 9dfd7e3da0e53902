// Checkpoint writing and reading; see checkpoint.h.
#include "hcx/train/checkpoint.h"

#include <torch/serialize.h>
#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>

#include "hcx/error.h"

namespace hcx::train {

std::filesystem::path checkpoint_path(const std::filesystem::path& dir) { return dir / "checkpoint.pt"; }

void save_checkpoint(const std::filesystem::path& path, torch::nn::Module& model,
                     torch::optim::Optimizer& optimizer, const TrainState& state,
                     const std::string& config_hash) {
  nlohmann::json meta = {{"step", state.step}, {"tokens", state.tokens}, {"extra", state.extra},
                         {"config_hash", config_hash}};
  torch::serialize::OutputArchive root, model_ar, opt_ar;
  model.save(model_ar);
  optimizer.save(opt_ar);
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
  try {
    torch::serialize::InputArchive root, model_ar, opt_ar;
    root.load_from(path.string());
    torch::Tensor version;
    root.read("format_version", version);
    if (version.item<int64_t>() != kCheckpointFormat) {
      throw io_error(path.string() + ": checkpoint format " + std::to_string(version.item<int64_t>()) +
                     ", this hcx reads format " + std::to_string(kCheckpointFormat));
    }
    c10::IValue meta_value;
    root.read("meta", meta_value);
    meta = nlohmann::json::parse(meta_value.toStringRef());
    if (meta.at("config_hash") != config_hash) {
      throw io_error(path.string() + ": checkpoint of another run (" + meta.at("config_hash").get<std::string>() +
                     "), expected " + config_hash);
    }
    root.read("model", model_ar);
    root.read("optimizer", opt_ar);
    model.load(model_ar);
    optimizer.load(opt_ar);
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    throw io_error(path.string() + ": cannot read checkpoint: " + e.what());
  }
  state.step = meta.at("step").get<int64_t>();
  state.tokens = meta.at("tokens").get<int64_t>();
  state.extra = meta.at("extra");
  return true;
}

}  // namespace hcx::train
