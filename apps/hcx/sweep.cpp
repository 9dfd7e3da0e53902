// hcx sweep: expand an experiment grid and train every run (lib: exec/sweep.h).
#include <memory>

#include "commands.h"
#include "hcx/exec/sweep.h"
#include "hcx/model/inspect.h"

namespace hcx::cli {

void add_sweep_command(CLI::App& app, int& exit_code) {
  auto opts = std::make_shared<exec::SweepOptions>();
  auto* cmd = app.add_subcommand("sweep", "Expand an experiment grid and train every run not trained yet");
  cmd->add_option("experiment", opts->experiment, "Experiment file (JSON with comments; see experiments/)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("-s,--set", opts->overrides,
                  "key=v1,v2 adds or replaces an axis; key=v pins a value in every run (repeatable)");
  cmd->add_option("-j,--jobs", opts->jobs, "Runs at once (default: one per CUDA device; on CPU, cores / threads)");
  cmd->add_option("--devices", opts->devices, "auto, cpu, cuda, or cuda:0,1,... (indices of visible devices)")
      ->capture_default_str();
  cmd->add_option("--threads", opts->threads, "CPU threads per run (default: 1 on CPU, cores / jobs on CUDA)");
  cmd->add_flag("-n,--dry-run", opts->dry_run, "Print the plan (ids, keys, new/done/resume/failed, work); train nothing");
  cmd->add_option("--format", opts->format, "Dry-run output: table or json")
      ->check(CLI::IsMember({"table", "json"}))
      ->capture_default_str();
  cmd->add_flag("--retry-failed", opts->retry_failed, "Train failed and diverged runs again");
  cmd->add_option("--db", opts->db_path, "Results database")->capture_default_str();
  cmd->add_option("--results", opts->results_dir, "Folder of logs/ and checkpoints/ (default: the database's folder)");
  cmd->add_option("--executor", opts->executor, "Where runs execute: local (slurm: not yet available)")
      ->capture_default_str();
  cmd->footer(
      "Runs are identified by a hash of their config: a run already completed (in any sweep) is\n"
      "skipped, an interrupted one resumes from its checkpoint, a failed one waits for --retry-failed.\n"
      "Ctrl-C stops the running runs at a checkpoint; the same command again resumes them.\n"
      "Exit status: 0 every run completed, 1 a run failed or diverged, 2 bad input, 130/143 interrupted.\n"
      "Examples:\n"
      "  hcx sweep experiments/quickstart.json --dry-run\n"
      "  hcx sweep experiments/quickstart.json --jobs 2\n"
      "  hcx sweep experiments/paper-ablation.json --devices cuda:0,1 -s seeds=1\n"
      "  hcx sweep experiments/quickstart.json -s train.lr=1e-3,3e-3 -s train.steps=100\n"
      "  hcx sweep experiments/quickstart.json --retry-failed");
  cmd->callback([opts, &exit_code] {
    // Training FLOPs per token: forward from the model's analytic count, x3 for the backward.
    opts->flops = [](const config::RunConfig& c) { return 3.0 * model::compute_stats(c).flops_per_token; };
    exit_code = exec::run_sweep(*opts);
  });
}

}  // namespace hcx::cli
