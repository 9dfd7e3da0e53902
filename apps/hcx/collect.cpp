// hcx collect: merge per-run shard databases into the main one.
#include <iostream>
#include <memory>

#include "commands.h"
#include "hcx/store/shards.h"

namespace hcx::cli {

void add_collect_command(CLI::App& app, int& exit_code) {
  auto opts = std::make_shared<store::CollectOptions>();
  auto* cmd = app.add_subcommand("collect", "Merge per-run shard databases (hcx run --shard) into the main database");
  cmd->add_option("--db", opts->db, "Main results database (created if missing)")->capture_default_str();
  cmd->add_option("--shards", opts->shards, "Folder of <run-id>.db shards (default: <db dir>/shards)");
  cmd->footer(
      "Idempotent: collecting twice changes nothing; a shard still being written is merged again later.\n"
      "Exit status: 0 ok, 1 a shard or the database could not be read.\n"
      "Examples:\n"
      "  hcx collect\n"
      "  hcx collect --db /scratch/me/results/hcx.db --shards /scratch/me/results/shards");
  cmd->callback([opts, &exit_code] { exit_code = store::collect_command(*opts, std::cout); });
}

}  // namespace hcx::cli
