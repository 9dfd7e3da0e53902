// hcx query: one read-only SQL statement over the results database.
#include <iostream>
#include <memory>

#include "commands.h"
#include "hcx/view/query.h"

namespace hcx::cli {

void add_query_command(CLI::App& app, int& exit_code) {
  auto opts = std::make_shared<view::QueryOptions>();
  auto* cmd = app.add_subcommand("query", "Answer one read-only SQL statement over the results database");
  cmd->add_option("sql", opts->sql, "The SQL statement (SELECT, WITH, PRAGMA ...); writes are refused");
  cmd->add_flag("--schema", opts->schema, "Instead of a statement: every table and column, with what it holds");
  cmd->add_option("--db", opts->db, "Results database (opened read-only, never created)")->capture_default_str();
  cmd->add_option("--format", opts->format, "Output format")
      ->check(CLI::IsMember({"table", "csv", "json"}))
      ->capture_default_str();
  cmd->footer(
      "Tables: sweeps, sweep_runs, runs, run_params, metrics, spikes, evals, layer_stats, hc_matrices,\n"
      "run_summary, shard_merges, db_meta; 'hcx query --schema' lists their columns and what each holds.\n"
      "Exit status: 0 ok, 1 failed or refused query, 2 bad usage.\n"
      "Examples:\n"
      "  hcx query --schema\n"
      "  hcx query \"SELECT status, count(*) AS runs FROM runs GROUP BY status\"\n"
      "  hcx query \"SELECT p.value AS kind, min(r.best_val_loss) AS best FROM runs r\n"
      "             JOIN run_params p ON p.run_id = r.id AND p.key = 'residual.kind' GROUP BY 1\"\n"
      "  hcx query \"SELECT step, value FROM metrics WHERE run_id = 'ab12cd34ef56ab78'\n"
      "             AND name = 'val/loss' ORDER BY step\" --format csv > val_loss.csv\n"
      "  hcx query \"SELECT * FROM runs WHERE status = 'failed'\" --format json --db results/hcx.db");
  cmd->callback([opts, &exit_code] { exit_code = view::query_command(*opts, std::cout); });
}

}  // namespace hcx::cli
