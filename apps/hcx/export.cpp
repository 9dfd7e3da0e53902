// hcx export: a trained run's weights as safetensors plus config.json, for PyTorch and other tools.
#include <iostream>
#include <memory>

#include "commands.h"
#include "hcx/run/export_command.h"

namespace hcx::cli {

void add_export_command(CLI::App& app, int& exit_code) {
  auto opts = std::make_shared<run::ExportCommandOptions>();
  auto* cmd = app.add_subcommand("export", "Write a trained run's weights as safetensors, with its config");
  cmd->add_option("run_id", opts->run_id, "Run id (or a prefix only one run has; hcx status lists them)")->required();
  cmd->add_option("-o,--out", opts->out_dir, "Folder to write (default: ./export-<run-id>; an earlier export is replaced)");
  cmd->add_option("--step", opts->step, "Export the checkpoint of this step (default: the newest)");
  cmd->add_option("--db", opts->db, "Results database")->capture_default_str();
  cmd->add_option("--results", opts->results_dir, "Folder of checkpoints/ (default: the database's folder)");
  // Testing aid: the model's logits for a JSON file {"tokens": [[id, ...], ...]} go to <out>/logits.json.
  cmd->add_option("--logits-for", opts->logits_for)->group("");
  cmd->footer(
      "Writes <out>/model.safetensors (every parameter under its hcx name, float32) and <out>/config.json\n"
      "(the run config, parameter names and shapes, run id, step, hcx and LibTorch versions), through a\n"
      "temporary folder renamed into place. In PyTorch: sys.path.insert(0, 'bench'); import reference_gpt;\n"
      "model = reference_gpt.load('<out>') rebuilds the model (Pre-Norm, Post-Norm, SHC, DHC, mHC) in eval mode.\n"
      "Exit status: 0 exported, 1 a checkpoint or file could not be read or written, 2 an unknown run,\n"
      "a run without checkpoints or without one of --step.\n"
      "Examples:\n"
      "  hcx export 3f2a9c0d11e4b7a2\n"
      "  hcx export 3f2a --step 100 -o weights/pre_norm-100");
  cmd->callback([opts, &exit_code] { exit_code = run::export_command(*opts, std::cout); });
}

}  // namespace hcx::cli
