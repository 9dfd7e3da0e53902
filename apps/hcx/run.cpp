// hcx run: train one run (a config file, or a run of a sweep by id).
#include <memory>

#include "commands.h"
#include "hcx/run/run_command.h"

namespace hcx::cli {

void add_run_command(CLI::App& app, int& exit_code) {
  auto opts = std::make_shared<run::RunCommandOptions>();
  auto* cmd = app.add_subcommand("run", "Train one run and record it in the results database");
  cmd->add_option("config", opts->config_path, "Run config JSON (every key has a default: {} is a tiny CPU run)");
  cmd->add_option("--run-id", opts->run_id, "Train the run with this id from the database (what sweeps call)");
  cmd->add_option("-s,--set", opts->overrides, "Override a config key: -s train.lr=3e-3 (repeatable)");
  cmd->add_option("--db", opts->db, "Results database")->capture_default_str();
  cmd->add_option("--results", opts->results_dir, "Folder of checkpoints/ and shards/ (default: the database's folder)");
  cmd->add_flag("--shard", opts->shard, "Write to <results>/shards/<run-id>.db and never open the database; with --run-id the config comes from that shard (Slurm)");
  cmd->add_option("--device", opts->device, "Override train.device: cpu, cuda, cuda:N");
  cmd->add_option("--threads", opts->threads, "Override train.threads (CPU threads of this run)");
  cmd->add_option("--progress", opts->progress, "Progress display")
      ->check(CLI::IsMember({"auto", "plain", "live", "none"}))
      ->capture_default_str();
  cmd->add_flag("--fresh", opts->fresh, "Discard the run's checkpoint and results and train it from step 0");
  cmd->add_option("--tag", opts->tags, "Tag the run (repeatable; one word each): hcx report --tag TAG selects it")
      ->allow_extra_args(false);
  cmd->add_option("--note", opts->note, "A note on the run, kept in runs.note");
  cmd->footer(
      "Exit status: 0 completed, 1 failed or diverged, 2 bad input, 3 interrupted (run again to resume),\n"
      "4 another live process is training this run (or took it over: this one wrote nothing more).\n"
      "Stopping: SIGINT/SIGTERM/SIGUSR1 checkpoint at the end of the step and exit 3; before the first\n"
      "step, or on a second signal, the run is recorded interrupted and the process exits at once.\n"
      "Checkpoints: results/checkpoints/<run-id>/step-N.pt, the newest train.keep_checkpoints (2) kept,\n"
      "the final one alone after completion; only this database's own checkpoints are resumed.\n"
      "Examples:\n"
      "  hcx run experiments/examples/tiny.json\n"
      "  hcx run experiments/examples/tiny.json -s residual.kind=hc -s residual.n=4 --tag probe\n"
      "  hcx report --sweep :unswept                 runs trained by hcx run CONFIG, outside any sweep\n"
      "  hcx query \"SELECT step, value FROM metrics WHERE name = 'val/loss'\"");
  cmd->callback([opts, &exit_code] { exit_code = run::run_command(*opts); });
}

}  // namespace hcx::cli
