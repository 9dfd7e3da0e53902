// hcx sweeps: the sweeps of a database, with their runs by status and tags (lib: view/status.h).
#include <iostream>
#include <memory>

#include "commands.h"
#include "hcx/view/status.h"

namespace hcx::cli {

void add_sweeps_command(CLI::App& app, int& exit_code) {
  auto opts = std::make_shared<view::SweepsOptions>();
  auto* cmd = app.add_subcommand("sweeps", "List the sweeps: runs by status, created, tags, note");
  cmd->add_option("--db", opts->db, "Results database")->capture_default_str();
  cmd->add_option("--format", opts->format, "Output format")
      ->check(CLI::IsMember({"table", "json"}))
      ->capture_default_str();
  cmd->footer(
      "Latest first; the last line counts the runs of no sweep (hcx run CONFIG): hcx report --sweep :unswept.\n"
      "Examples:\n"
      "  hcx sweeps\n"
      "  hcx sweeps --format json --db results/hcx.db");
  cmd->callback([opts, &exit_code] { exit_code = view::sweeps_command(*opts, std::cout); });
}

}  // namespace hcx::cli
