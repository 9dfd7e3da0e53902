// hcx status: where the runs of a sweep stand (merging cluster shards first).
#include <unistd.h>

#include <iostream>
#include <memory>

#include "commands.h"
#include "hcx/error.h"
#include "hcx/slurm/status.h"
#include "hcx/view/status.h"

namespace hcx::cli {

void add_status_command(CLI::App& app, int& exit_code) {
  auto opts = std::make_shared<view::StatusOptions>();
  auto* cmd = app.add_subcommand("status", "Show the runs of a sweep (or all runs): status, step, heartbeat, loss");
  cmd->add_option("--sweep", opts->sweep, "Only the runs of this sweep");
  cmd->add_option("--db", opts->db, "Results database")->capture_default_str();
  cmd->add_option("--format", opts->format, "Output format")
      ->check(CLI::IsMember({"table", "json"}))
      ->capture_default_str();
  auto watch = std::make_shared<bool>(false);
  auto interval = std::make_shared<double>(2.0);
  cmd->add_flag("--watch", *watch,
                "Print again every --interval seconds, like watch (a terminal is redrawn); Ctrl-C stops");
  cmd->add_option("--interval", *interval, "--watch: seconds between prints")->capture_default_str();
  cmd->footer(
      "Shards in <db dir>/shards (written by 'hcx run --shard' on a cluster) are merged first.\n"
      "Runs submitted with --executor slurm get a slurm column: their task's state (squeue, accounting).\n"
      "Examples:\n"
      "  hcx status\n"
      "  hcx status --sweep quickstart\n"
      "  hcx status --watch --sweep quickstart   every 2 s until Ctrl-C (--interval 10: every 10 s)\n"
      "  hcx status --sweep paper-ablation --format json --db results/hcx.db");
  cmd->callback([opts, watch, interval, &exit_code] {
    if (*watch && *interval < 0.1) throw bad_input("--interval: expected at least 0.1 seconds");
    opts->watch_s = *watch ? *interval : 0;
    opts->clear = *watch && ::isatty(STDOUT_FILENO) == 1;
    opts->annotate = slurm::slurm_status_annotator(opts->db);  // a "slurm" column for runs submitted to Slurm
    exit_code = view::status_command(*opts, std::cout);
  });
}

}  // namespace hcx::cli
