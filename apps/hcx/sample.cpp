// hcx sample: text from a trained run's model, the prompt first.
#include <iostream>
#include <memory>

#include "commands.h"
#include "hcx/run/sample_command.h"

namespace hcx::cli {

void add_sample_command(CLI::App& app, int& exit_code) {
  auto opts = std::make_shared<run::SampleCommandOptions>();
  auto* cmd = app.add_subcommand("sample", "Print text that a trained run's model writes after a prompt");
  cmd->add_option("run_id", opts->run_id, "Run id (or a prefix only one run has; hcx status lists them)")->required();
  cmd->add_option("--prompt", opts->sample.prompt, "Text to continue (may be empty: start of a text)")->required();
  cmd->add_option("--tokens", opts->sample.tokens, "New tokens to generate")->capture_default_str();
  cmd->add_option("--temperature", opts->sample.temperature, "Divides the logits; 0 is greedy")->capture_default_str();
  cmd->add_flag_callback("--greedy", [opts] { opts->sample.temperature = 0.0; }, "Same as --temperature 0");
  cmd->add_option("--top-k", opts->sample.top_k, "Sample from the K most likely tokens only; 0: all")->capture_default_str();
  cmd->add_option("--seed", opts->sample.seed, "Seed of the draws: one seed, one text")->capture_default_str();
  cmd->add_option("--step", opts->step, "Use the checkpoint of this step (default: the newest)");
  cmd->add_option("--db", opts->db, "Results database")->capture_default_str();
  cmd->add_option("--results", opts->results_dir, "Folder of checkpoints/ (default: the database's folder)");
  cmd->footer(
      "The prompt is encoded with the run's tokenizer (bytes, SentencePiece, or for the synthetic language\n"
      "its token names: --prompt 'set k3 v7'), the model runs on the CPU, and the text goes to stdout.\n"
      "Exit status: 0 printed, 1 a checkpoint could not be read, 2 bad options, an unknown run, a run\n"
      "without checkpoints or without one of --step.\n"
      "Examples:\n"
      "  hcx sample 3f2a9c0d11e4b7a2 --prompt 'It is a truth' --tokens 200 --temperature 0.8 --top-k 40\n"
      "  hcx sample 3f2a --prompt 'ROMEO:' --greedy");
  cmd->callback([opts, &exit_code] { exit_code = run::sample_command(*opts, std::cout); });
}

}  // namespace hcx::cli
