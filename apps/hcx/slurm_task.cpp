// hcx slurm-task: the body of one Slurm array task (lib: slurm/task.h).
// Hidden from the help: results/slurm/<sweep>/array-<n>.sh runs it.
#include <memory>

#include "commands.h"
#include "hcx/slurm/task.h"

namespace hcx::cli {

void add_slurm_task_command(CLI::App& app, int& exit_code) {
  auto opts = std::make_shared<slurm::SlurmTaskOptions>();
  auto* cmd = app.add_subcommand("slurm-task", "Run the array task SLURM_ARRAY_TASK_ID of a Slurm sweep");
  cmd->group("");  // internal: what the array script executes
  cmd->add_option("--manifest", opts->manifest, "The submission's manifest-<n>.json")->required();
  cmd->add_option("--threads", opts->threads, "hcx run --threads (0: the run's config)");
  cmd->add_option("--device", opts->device, "hcx run --device (default: the run's config)");
  cmd->add_option("--max-requeues", opts->max_requeues, "Self-requeues allowed after an interruption")
      ->capture_default_str();
  cmd->callback([opts, &exit_code] { exit_code = slurm::slurm_task_command(*opts); });
}

}  // namespace hcx::cli
