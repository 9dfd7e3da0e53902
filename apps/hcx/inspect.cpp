// hcx inspect: placeholder until the model lands (replaced by the model work).
#include "commands.h"

namespace hcx::cli {
void add_inspect_command(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("inspect", "Parameter counts, FLOPs and memory of a model config");
  cmd->callback([&exit_code] { exit_code = 1; });
}
}  // namespace hcx::cli
