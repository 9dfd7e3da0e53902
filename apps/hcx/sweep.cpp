// hcx sweep: expand an experiment grid and train every run (lib: sweep/sweep_command.h).
#include <memory>
#include <vector>

#include "commands.h"
#include "hcx/error.h"
#include "hcx/sweep/sweep_command.h"

namespace hcx::cli {
namespace {

// The Slurm flags, returned so that the callback can refuse them without --executor slurm.
std::vector<CLI::Option*> add_slurm_flags(CLI::App& cmd, slurm::SlurmOptions& s) {
  const char* g = "Slurm (--executor slurm)";
  cmd.add_option("--partition", s.partition, "Partition of the array tasks")->group(g);
  cmd.add_option("--account", s.account, "Account to charge")->group(g);
  cmd.add_option("--gres", s.gres, "Generic resources per task, e.g. gpu:1 (one run per GPU; runs then use cuda)")
      ->group(g);
  cmd.add_option("--time", s.time, "Time limit per task: minutes, HH:MM:SS or D-HH:MM:SS")->group(g);
  cmd.add_option("--cpus-per-task", s.cpus_per_task, "CPUs per task, also each run's threads")->group(g);
  cmd.add_option("--mem", s.mem, "Memory per task, e.g. 8G")->group(g);
  cmd.add_option("--max-parallel", s.max_parallel, "Tasks running at once (the %K of --array=0-N%K; 0: no limit)")
      ->group(g);
  cmd.add_option("--sbatch-arg", s.sbatch_args, "Further sbatch argument, as is (repeatable): --sbatch-arg=--qos=long")
      ->allow_extra_args(false)  // one value per flag: the experiment file after it stays positional
      ->group(g);
  cmd.add_flag("--wait", s.wait, "Follow the array until every task has ended, with progress")->group(g);
  cmd.add_option("--signal-grace", s.signal_grace_s,
                 "Seconds before the time limit at which Slurm sends USR1: the run checkpoints and requeues")
      ->capture_default_str()
      ->group(g);
  cmd.add_option("--max-requeues", s.max_requeues, "Times an interrupted task requeues itself")
      ->capture_default_str()
      ->group(g);
  cmd.add_option("--poll", s.poll_s, "--wait: seconds between looks at Slurm")->capture_default_str()->group(g);
  cmd.add_flag("--cancel", s.cancel, "Cancel the sweep's queued and running tasks (they checkpoint; no requeue)")
      ->group(g);
  std::vector<CLI::Option*> options;
  for (CLI::Option* o : cmd.get_options())
    if (o->get_group() == g) options.push_back(o);
  return options;
}

}  // namespace

void add_sweep_command(CLI::App& app, int& exit_code) {
  auto opts = std::make_shared<sweep::SweepOptions>();
  auto* cmd = app.add_subcommand("sweep", "Expand an experiment grid and train every run not trained yet");
  cmd->add_option("experiment", opts->experiment, "Experiment file: JSON with comments, or YAML (.yaml, .yml); see experiments/")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("-s,--set", opts->overrides,
                  "key=v1,v2 adds or replaces an axis; key=v pins a value in every run; key=range(...) (below)")
      ->allow_extra_args(false);
  cmd->add_option("--name", opts->name,
                  "The sweep's name (default: the file's; with -s, the file's plus @key=value per override)");
  cmd->add_option("--tag", opts->tags, "Tag the sweep and its runs (repeatable; one word each): hcx report --tag TAG")
      ->allow_extra_args(false);
  cmd->add_option("--note", opts->note, "A note on the sweep, shown by hcx sweeps");
  cmd->add_option("-j,--jobs", opts->jobs, "Runs at once (default: one per CUDA device; on CPU, cores / threads)");
  cmd->add_option("--devices", opts->devices, "auto, cpu, cuda, or cuda:0,1,... (indices of visible devices)")
      ->capture_default_str();
  cmd->add_option("--threads", opts->threads, "CPU threads per run (default: 1 on CPU, cores / jobs on CUDA)");
  cmd->add_flag("-n,--dry-run", opts->dry_run, "Print the plan (ids, keys, new/done/resume/failed, work); train nothing");
  cmd->add_option("--format", opts->format, "Dry-run output: table or json")
      ->check(CLI::IsMember({"table", "json"}))
      ->capture_default_str();
  cmd->add_flag("--retry-failed", opts->retry_failed, "Train failed and diverged runs again");
  cmd->add_flag("--retrain-stale", opts->retrain_stale,
                "Train completed runs again, from step 0, that another hcx build or other data trained (see --dry-run)");
  cmd->add_option("--heartbeat-timeout", opts->heartbeat_timeout_s,
                  "Seconds a local run may go without a heartbeat (one per log interval) before it is killed as hung "
                  "and recorded as failed; 0 never")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--db", opts->db_path, "Results database")->capture_default_str();
  cmd->add_option("--results", opts->results_dir, "Folder of logs/ and checkpoints/ (default: the database's folder)");
  cmd->add_option("--executor", opts->executor, "Where runs execute: local, or slurm (one job array; see below)")
      ->check(CLI::IsMember({"local", "slurm"}))
      ->capture_default_str();
  const auto slurm_flags = add_slurm_flags(*cmd, opts->slurm);
  cmd->footer(
      "Runs are identified by a hash of their config: a run already completed (in any sweep) is\n"
      "skipped, an interrupted one resumes from its checkpoint, a failed one waits for --retry-failed,\n"
      "a completed one trained by another hcx build or on other data is stale and waits for --retrain-stale.\n"
      "Ctrl-C stops the running runs at a checkpoint; the same command again resumes them.\n"
      "Exit status: 0 every run completed, 1 a run failed or diverged, 2 bad input, 130/143 interrupted.\n"
      "Overrides (-s, repeatable; a later one on the same key wins):\n"
      "  key=v                  pins key to v in every run (the grid's axis on key goes)\n"
      "  key=v1,v2,...          an axis on key (replaces the file's); JSON values as a whole: key=[1,2]\n"
      "  key=range(stop)  range(start,stop)  range(start,stop,step)\n"
      "                         Python's and Hydra's range, stop excluded: range(1,9,2) is 1,3,5,7\n"
      "  key=range(start,stop,log,N)  range(start,stop,lin,N)\n"
      "                         N values from start to stop, both included: range(1e-4,1e-2,log,3) is 1e-4,1e-3,1e-2\n"
      "  key=choice(a,b,c)      the same as a,b,c\n"
      "  seeds=N  seeds=0,1,2   the seed axis (seeds=range(3,6) is 3,4,5)\n"
      "A sweep changed by -s is its own sweep: quickstart.json -s train.steps=100 is 'quickstart@train.steps=100',\n"
      "reported apart from 'quickstart' (train.device, train.threads, train.keep_checkpoints keep it). --name NAME chooses,\n"
      "the file's own name to add the runs to that sweep on purpose.\n"
      "Examples:\n"
      "  hcx sweep experiments/quickstart.json --dry-run\n"
      "  hcx sweep experiments/quickstart.json --jobs 2\n"
      "  hcx sweep experiments/paper-ablation.json --devices cuda:0,1 -s seeds=1\n"
      "  hcx sweep experiments/quickstart.json -s train.lr=1e-3,3e-3 -s train.steps=100\n"
      "  hcx sweep experiments/quickstart.json -s 'train.lr=range(1e-4,1e-2,log,5)' --tag lr-scan\n"
      "  hcx sweep experiments/paper-ablation.json -s seeds=3,4 --name paper-ablation   more seeds, same sweep\n"
      "  hcx sweep experiments/quickstart.json --retry-failed\n"
      "  hcx sweep experiments/quickstart.json --retrain-stale\n"
      "Slurm: --executor slurm submits the runs to train as one job array (files in <results>/slurm/<sweep>/)\n"
      "and returns; each task writes <results>/shards/<run-id>.db, which hcx collect/status/report merge.\n"
      "  hcx sweep experiments/paper-ablation.json --executor slurm --partition gpu --gres gpu:1 --time 04:00:00\n"
      "  hcx sweep experiments/quickstart.json --executor slurm --cpus-per-task 2 --max-parallel 4 --wait\n"
      "  hcx sweep experiments/quickstart.json --executor slurm --cancel");
  cmd->callback([opts, slurm_flags, &exit_code] {
    for (const CLI::Option* f : slurm_flags)
      if (f->count() > 0 && opts->executor != "slurm") throw bad_input(f->get_name() + ": needs --executor slurm");
    exit_code = sweep::sweep_command(*opts);
  });
}

}  // namespace hcx::cli
