// Manifests, array scripts and the submission list of a Slurm sweep (see
// files.h).
#include "hcx/slurm/files.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "hcx/error.h"

namespace hcx::slurm {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

// 'text' for bash, with embedded single quotes escaped.
std::string quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

void refuse_newline(const std::string& what, const std::string& value) {
  if (value.find_first_of("\n\r") != std::string::npos) throw bad_input(what + ": must not contain a line break");
}

// A value for an #SBATCH line: sbatch splits them at blanks unless double-quoted.
std::string sbatch_value(const std::string& what, const std::string& v) {
  if (v.find_first_of(" \t") == std::string::npos) return v;
  if (v.find('"') != std::string::npos) throw bad_input(what + ": must not contain both blanks and a double quote");
  return '"' + v + '"';
}

void write_atomically(const fs::path& path, const std::string& text) {
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  const fs::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << text;
    if (!out.flush()) throw io_error(tmp.string() + ": cannot write");
  }
  fs::rename(tmp, path, ec);
  if (ec) throw io_error(path.string() + ": cannot write: " + ec.message());
}

// The number in "<stem>-<n>.<ext>", or 0.
int number_in(const std::string& name, const std::string& stem, const std::string& ext) {
  if (name.rfind(stem + "-", 0) != 0 || name.size() <= stem.size() + 1 + ext.size()) return 0;
  if (name.compare(name.size() - ext.size(), ext.size(), ext) != 0) return 0;
  const std::string digits = name.substr(stem.size() + 1, name.size() - stem.size() - 1 - ext.size());
  if (digits.empty() || digits.size() > 6 || !std::all_of(digits.begin(), digits.end(), ::isdigit)) return 0;
  return std::stoi(digits);
}

}  // namespace

fs::path slurm_sweep_dir(const fs::path& results_dir, const std::string& sweep) {
  return results_dir / "slurm" / sweep;
}

const ManifestRun* Manifest::find(int64_t index) const {
  for (const auto& r : runs)
    if (r.index == index) return &r;
  return nullptr;
}

void write_manifest(const fs::path& path, const Manifest& m) {
  Json runs = Json::array();
  for (const auto& r : m.runs) runs.push_back({{"index", r.index}, {"run_id", r.run_id}, {"name", r.name}});
  const Json j = {{"format", "hcx-slurm-manifest/1"}, {"sweep", m.sweep}, {"db", m.db}, {"results", m.results},
                  {"runs", runs}};
  write_atomically(path, j.dump(2) + "\n");
}

Manifest read_manifest(const fs::path& path) {
  std::ifstream in(path);
  if (!in) throw bad_input(path.string() + ": no such manifest (was results/slurm/ moved or deleted?)");
  Manifest m;
  try {
    const Json j = Json::parse(in);
    if (j.value("format", "") != "hcx-slurm-manifest/1") throw bad_input(path.string() + ": not an hcx Slurm manifest");
    m.sweep = j.at("sweep").get<std::string>();
    m.db = j.at("db").get<std::string>();
    m.results = j.at("results").get<std::string>();
    for (const auto& r : j.at("runs"))
      m.runs.push_back({r.at("index").get<int64_t>(), r.at("run_id").get<std::string>(), r.value("name", "")});
  } catch (const Json::exception& e) {
    throw bad_input(path.string() + ": malformed manifest: " + e.what());
  }
  return m;
}

std::string array_spec(size_t n_tasks, int max_parallel) {
  std::string s = "0-" + std::to_string(n_tasks == 0 ? 0 : n_tasks - 1);
  if (max_parallel > 0) s += "%" + std::to_string(max_parallel);
  return s;
}

std::string array_script(const ScriptSpec& spec) {
  const SlurmOptions& o = spec.options;
  for (const auto& [what, value] :
       std::vector<std::pair<std::string, std::string>>{{"hcx path", spec.hcx}, {"manifest", spec.manifest}, {"job name", spec.job_name},
                                                        {"--chdir", spec.workdir}, {"log folder", spec.log_dir},
                                                        {"--partition", o.partition}, {"--account", o.account},
                                                        {"--gres", o.gres}, {"--time", o.time}, {"--mem", o.mem}})
    refuse_newline(what, value);
  std::ostringstream s;
  s << "#!/bin/bash\n"
    << "# Slurm job array " << spec.job_name << " of hcx: one task per run; task i trains the run at index i of\n"
    << "# " << spec.manifest << "\n"
    << "# into its own shard database. Submitted by hcx as: sbatch --array=0-N[%K] <this file>\n";
  auto line = [&s](const std::string& flag) { s << "#SBATCH " << flag << "\n"; };
  line("--job-name=" + sbatch_value("job name", spec.job_name));
  line("--output=" + sbatch_value("log folder", spec.log_dir + "/%A_%a.out"));
  line("--open-mode=append");
  line("--chdir=" + sbatch_value("--chdir", spec.workdir));
  line("--requeue");
  if (o.signal_grace_s > 0) line("--signal=B:USR1@" + std::to_string(o.signal_grace_s));
  if (!o.partition.empty()) line("--partition=" + sbatch_value("--partition", o.partition));
  if (!o.account.empty()) line("--account=" + sbatch_value("--account", o.account));
  if (!o.gres.empty()) line("--gres=" + sbatch_value("--gres", o.gres));
  if (!o.time.empty()) line("--time=" + o.time);
  if (o.cpus_per_task > 0) line("--cpus-per-task=" + std::to_string(o.cpus_per_task));
  if (!o.mem.empty()) line("--mem=" + o.mem);
  s << "\n# exec: Slurm's warning signal (USR1) reaches hcx, which checkpoints the run and requeues the task.\n";
  s << "exec " << quote(spec.hcx) << " slurm-task --manifest " << quote(spec.manifest);
  if (o.cpus_per_task > 0) s << " --threads " << o.cpus_per_task;
  if (o.gres.find("gpu") != std::string::npos) s << " --device cuda";
  s << " --max-requeues " << o.max_requeues << "\n";
  return s.str();
}

fs::path submissions_path(const fs::path& sweep_dir) { return sweep_dir / "submissions.tsv"; }
fs::path manifest_path(const fs::path& sweep_dir, int n) { return sweep_dir / ("manifest-" + std::to_string(n) + ".json"); }
fs::path script_path(const fs::path& sweep_dir, int n) { return sweep_dir / ("array-" + std::to_string(n) + ".sh"); }

std::vector<Submission> read_submissions(const fs::path& sweep_dir) {
  std::vector<Submission> out;
  std::ifstream in(submissions_path(sweep_dir));
  std::string text;
  while (std::getline(in, text)) {
    if (text.empty() || text[0] == '#') continue;
    std::istringstream fields(text);
    Submission s;
    if (fields >> s.number >> s.job_id >> s.submitted_at >> s.runs) out.push_back(s);
  }
  return out;
}

void append_submission(const fs::path& sweep_dir, const Submission& s) {
  const fs::path path = submissions_path(sweep_dir);
  const bool fresh = !fs::exists(path);
  std::ofstream out(path, std::ios::app);
  if (fresh) out << "# number\tjob_id\tsubmitted_at\truns\n";
  out << s.number << "\t" << s.job_id << "\t" << s.submitted_at << "\t" << s.runs << "\n";
  if (!out.flush()) throw io_error(path.string() + ": cannot write");
}

int next_submission_number(const fs::path& sweep_dir) {
  int highest = 0;
  for (const auto& s : read_submissions(sweep_dir)) highest = std::max(highest, s.number);
  std::error_code ec;
  for (fs::directory_iterator it(sweep_dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    highest = std::max({highest, number_in(name, "manifest", ".json"), number_in(name, "array", ".sh")});
  }
  return highest + 1;
}

std::vector<std::string> read_cancelled(const fs::path& sweep_dir) {
  std::vector<std::string> ids;
  std::ifstream in(sweep_dir / "cancelled");
  std::string id;
  while (in >> id) ids.push_back(id);
  return ids;
}

void append_cancelled(const fs::path& sweep_dir, const std::vector<std::string>& job_ids) {
  std::ofstream out(sweep_dir / "cancelled", std::ios::app);
  for (const auto& id : job_ids) out << id << "\n";
  if (!out.flush()) throw io_error((sweep_dir / "cancelled").string() + ": cannot write");
}

}  // namespace hcx::slurm
