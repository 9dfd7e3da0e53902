// hcx export: a checkpoint's weights as safetensors plus a config.json (see export.h).
#include "hcx/train/export.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <torch/version.h>

#include "hcx/error.h"
#include "hcx/model/gpt.h"
#include "hcx/model/safetensors.h"
#include "hcx/train/checkpoint.h"
#include "hcx/train/torch_error.h"
#include "hcx/util/fsync.h"

namespace hcx::train {

namespace fs = std::filesystem;

namespace {

constexpr const char* kExportFormat = "hcx-export";  // config.json's "format": marks a folder export_model may replace
constexpr int kExportFormatVersion = 1;

// The safetensors name of a parameter's dtype.
std::string dtype_name(at::ScalarType t) {
  switch (t) {
    case at::kFloat: return "F32";
    case at::kDouble: return "F64";
    case at::kHalf: return "F16";
    case at::kBFloat16: return "BF16";
    default: throw std::runtime_error(std::string("no safetensors dtype for ") + at::toString(t));
  }
}

// True when `dir` is a folder written by export_model (so replacing it loses nothing else).
bool is_export(const fs::path& dir) {
  std::ifstream in(dir / "config.json");
  if (!in) return false;
  try {
    const nlohmann::json j = nlohmann::json::parse(in);
    return j.is_object() && j.value("format", std::string()) == kExportFormat;
  } catch (const std::exception&) {
    return false;
  }
}

// Writes `path` with `write` and fsyncs it; throws std::runtime_error naming the file.
void write_durably(const fs::path& path, const std::function<void(std::ostream&)>& write) {
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    write(out);
    out.flush();
    if (!out) throw std::runtime_error(path.string() + ": write failed: " + std::strerror(errno));
  }
  if (!util::sync_path(path)) throw std::runtime_error(path.string() + ": fsync: " + std::strerror(errno));
}

// The token rows of a --logits-for file as a (B, T) int64 tensor.
at::Tensor read_token_rows(const std::string& path, int64_t vocab, int64_t seq_len) {
  std::ifstream in(path);
  if (!in) throw bad_input("--logits-for " + path + ": file not found");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
  } catch (const std::exception& e) {
    throw bad_input("--logits-for " + path + ": " + e.what());
  }
  const nlohmann::json rows = j.is_object() ? j.value("tokens", nlohmann::json()) : j;
  if (!rows.is_array() || rows.empty() || !rows[0].is_array() || rows[0].empty())
    throw bad_input("--logits-for " + path + ": expected {\"tokens\": [[id, ...], ...]}");
  const int64_t B = static_cast<int64_t>(rows.size()), T = static_cast<int64_t>(rows[0].size());
  if (T > seq_len) throw bad_input("--logits-for " + path + ": rows longer than model.seq_len " + std::to_string(seq_len));
  std::vector<int64_t> ids;
  for (const auto& row : rows) {
    if (!row.is_array() || static_cast<int64_t>(row.size()) != T)
      throw bad_input("--logits-for " + path + ": every row needs " + std::to_string(T) + " ids");
    for (const auto& id : row) {
      if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() >= vocab)
        throw bad_input("--logits-for " + path + ": ids must be integers in [0, " + std::to_string(vocab) + ")");
      ids.push_back(id.get<int64_t>());
    }
  }
  return at::tensor(ids, at::kLong).reshape({B, T});  // (B, T)
}

// {"tokens": rows, "logits": (B, T, V) nested lists} for the model's forward of `idx`.
nlohmann::json logits_json(model::GptImpl& gpt, const at::Tensor& idx) {
  const at::NoGradGuard no_grad;
  const at::Tensor logits = gpt.forward(idx).to(at::kFloat).contiguous();  // (B, T, V)
  const int64_t B = logits.size(0), T = logits.size(1), V = logits.size(2);
  const float* p = logits.data_ptr<float>();
  nlohmann::json out = nlohmann::json::array();
  for (int64_t b = 0; b < B; ++b) {
    nlohmann::json row = nlohmann::json::array();
    for (int64_t t = 0; t < T; ++t) row.push_back(std::vector<float>(p + (b * T + t) * V, p + (b * T + t + 1) * V));
    out.push_back(std::move(row));
  }
  std::vector<std::vector<int64_t>> rows;
  for (int64_t b = 0; b < B; ++b) {
    const at::Tensor r = idx[b].contiguous();
    rows.emplace_back(r.data_ptr<int64_t>(), r.data_ptr<int64_t>() + T);
  }
  return {{"tokens", rows}, {"logits", std::move(out)}};
}

}  // namespace

CheckpointChoice choose_checkpoint(const std::filesystem::path& dir, int64_t step, const std::string& run_id) {
  std::vector<CheckpointFile> files = list_checkpoints(dir);
  if (files.empty()) {
    throw bad_input("run " + run_id + " has no checkpoint in " + dir.string() +
                    " (not trained yet, or trained with another --results folder)");
  }
  for (auto& f : files) {  // the legacy checkpoint.pt names no step: its meta record does
    if (f.step >= 0) continue;
    try {
      f.step = read_checkpoint_meta(f.path).step;
    } catch (const Error&) {
      // unreadable: stays -1, and loading it says why
    }
  }
  if (step < 0) return {files.front().path, files.front().step};
  std::string steps;
  for (const auto& f : files) {
    if (f.step == step) return {f.path, f.step};
    steps = std::to_string(f.step) + (steps.empty() ? "" : ", ") + steps;  // files are newest first
  }
  throw bad_input("--step " + std::to_string(step) + ": run " + run_id + " has no checkpoint of that step; it has " +
                  (files.size() == 1 ? "step " : "steps ") + steps + " (in " + dir.string() + ")");
}

ExportResult export_model(const ExportRequest& req) {
  const fs::path out = req.out_dir.has_filename() ? req.out_dir : req.out_dir.parent_path();  // "dir/" -> "dir"
  std::error_code ec;
  const bool replace = fs::exists(out, ec);
  if (replace && !is_export(out))
    throw bad_input("-o " + out.string() + ": exists and is not an hcx export; remove it or choose another folder");

  model::Gpt gpt = model::make_model(req.cfg);  // on the CPU
  const CheckpointMeta meta = load_model_weights(req.checkpoint.path, *gpt, req.run_id);
  const at::Tensor logits_idx =
      req.logits_for.empty() ? at::Tensor() : read_token_rows(req.logits_for, req.cfg.model.vocab_size, req.cfg.model.seq_len);

  ExportResult result;
  result.dir = out;
  result.step = meta.step;
  std::vector<at::Tensor> tensors;  // CPU, contiguous: the bytes the entries point into
  std::vector<model::SafetensorsEntry> entries;
  nlohmann::ordered_json params = nlohmann::ordered_json::array();
  for (const auto& p : model::named_params(*gpt)) {
    const at::Tensor t = p.tensor.detach().to(at::kCPU).contiguous();
    tensors.push_back(t);
    const std::string dtype = dtype_name(t.scalar_type());
    entries.push_back({p.name, dtype, t.sizes().vec(), t.data_ptr(), static_cast<size_t>(t.nbytes())});
    params.push_back({{"name", p.name}, {"shape", t.sizes().vec()}, {"dtype", dtype}, {"trainable", p.trainable}});
    result.params += t.numel();
  }
  result.tensors = static_cast<int64_t>(entries.size());

  // ordered: what the folder is and which run and step come first, then the config
  nlohmann::ordered_json config = {{"format", kExportFormat},
                           {"format_version", kExportFormatVersion},
                           {"run_id", req.run_id},
                           {"step", meta.step},
                           {"weights", "model.safetensors"},
                           {"config", config::to_json(req.cfg)},
                           {"params", params},
                           {"n_params", result.params},
                           {"checkpoint", fs::absolute(req.checkpoint.path).string()},
                           {"checkpoint_libtorch", meta.libtorch},
                           {"libtorch", TORCH_VERSION},
                           {"load_with", "bench/reference_gpt.py: load(DIR) rebuilds the model in PyTorch"}};
  for (const auto& [k, v] : req.info.items()) config[k] = v;
  const std::map<std::string, std::string> metadata = {
      {"format", "pt"}, {"hcx_run_id", req.run_id}, {"hcx_step", std::to_string(meta.step)}};

  const fs::path parent = out.parent_path().empty() ? fs::path(".") : out.parent_path();
  const std::string pid = std::to_string(getpid());
  const fs::path tmp = parent / ("." + out.filename().string() + ".tmp." + pid);
  const fs::path old = parent / ("." + out.filename().string() + ".old." + pid);
  try {
    fs::remove_all(tmp);
    fs::create_directories(tmp);
    write_durably(tmp / "model.safetensors", [&](std::ostream& o) { model::write_safetensors(o, entries, metadata); });
    write_durably(tmp / "config.json", [&](std::ostream& o) { o << config.dump(2) << "\n"; });
    if (logits_idx.defined())
      write_durably(tmp / "logits.json", [&](std::ostream& o) { o << logits_json(*gpt, logits_idx).dump() << "\n"; });
    result.bytes = static_cast<int64_t>(fs::file_size(tmp / "model.safetensors"));
    util::sync_path(tmp, /*directory=*/true);
    // A folder cannot be renamed over a non-empty one: the earlier export
    // steps aside first, and goes only once the new one is in place.
    if (replace) fs::rename(out, old);
    fs::rename(tmp, out);
    util::sync_path(parent, /*directory=*/true);
    if (replace) fs::remove_all(old, ec);
  } catch (const Error&) {
    fs::remove_all(tmp, ec);
    throw;
  } catch (const std::exception& e) {
    fs::remove_all(tmp, ec);
    if (replace && !fs::exists(out, ec) && fs::exists(old, ec)) fs::rename(old, out, ec);  // put the earlier one back
    throw io_error(out.string() + ": cannot write the export: " + message_of(e));
  }
  return result;
}

}  // namespace hcx::train
