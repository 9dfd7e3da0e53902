// hcx report: compare runs. Flags into a ReportCommand, one call
// into lib/hcx/report; colour only on a terminal without NO_COLOR.
#include <unistd.h>

#include <iostream>
#include <memory>

#include "commands.h"
#include "hcx/error.h"
#include "hcx/report/report.h"
#include "hcx/terminal.h"

namespace hcx::cli {

void add_report_command(CLI::App& app, int& exit_code) {
  auto opts = std::make_shared<report::ReportCommand>();
  auto where = std::make_shared<std::vector<std::string>>();
  auto baseline = std::make_shared<std::string>("residual.kind=pre_norm");
  auto* cmd = app.add_subcommand(
      "report", "Compare runs: mean ± std over seeds, Δ vs a baseline with 95% CI, speed-up, spikes, downstream");
  cmd->add_option("--db", opts->db, "Results database")->capture_default_str();
  cmd->add_option("--sweep", opts->selection.sweep,
                  "Sweep to report (default: the latest); :all every run, :unswept the runs of hcx run CONFIG");
  cmd->add_option("--tag", opts->selection.tag, "Only runs with this tag (hcx run/sweep --tag), from every sweep");
  cmd->add_option("--runs", opts->selection.runs, "Only these runs, comma-separated ids (or unique prefixes)")
      ->delimiter(',');
  cmd->add_option("--where", *where, "Only runs whose config has key=value (repeatable)");
  cmd->add_option("--group-by", opts->options.group_by,
                  "Group by these keys, comma-separated (default: every key that varies, except seed)")
      ->delimiter(',');
  cmd->add_option("--baseline", *baseline, "The group the others are compared with")->capture_default_str();
  cmd->add_option("--metric", opts->options.metric, "Headline curve (lower is better): val/loss, train/loss, val/NAME/loss")
      ->capture_default_str();
  cmd->add_option("--best-of", opts->options.best_of.keys,
                  "Compare each group at its own value of KEY with the lowest mean final val/loss (e.g. train.lr; "
                  "several keys, comma-separated, are chosen jointly)")
      ->delimiter(',');
  cmd->add_option("--select-seeds", opts->options.best_of.select_seeds,
                  "With --best-of: choose on these seeds only, comma-separated (default: all)")
      ->delimiter(',');
  cmd->add_option("--report-seeds", opts->options.best_of.report_seeds,
                  "With --best-of: report these seeds only, comma-separated (default: all)")
      ->delimiter(',');
  cmd->add_flag("--include-collapsed", opts->options.include_collapsed,
                "Rank groups whose runs did not train (by default they are named, not ranked)");
  cmd->add_option("--format", opts->format, "table (default), md, csv, json, html; with --export: csv (default), json")
      ->check(CLI::IsMember({"table", "md", "csv", "json", "html"}));
  cmd->add_option("-o,--output", opts->output, "Write to FILE instead of stdout (required for html on a terminal)");
  cmd->add_option("--export", opts->export_what, "Instead of the comparison, every row of the selected runs")
      ->check(CLI::IsMember({"metrics", "runs", "evals"}));
  cmd->footer(
      "Groups are compared with the baseline group by paired seeds; shards in <db dir>/shards are merged first.\n"
      "Examples:\n"
      "  hcx report                                        the latest sweep on the terminal\n"
      "  hcx report --sweep paper-ablation --group-by residual.kind,residual.n\n"
      "  hcx report --tag lr-scan                          the runs tagged lr-scan, in any sweep\n"
      "  hcx report --sweep :unswept                       runs of hcx run CONFIG, outside any sweep\n"
      "  hcx report --where train.lr=0.003 --baseline residual.kind=post_norm --format md\n"
      "  hcx report --format html -o results/report.html   charts and tables, one offline file\n"
      "  hcx report --best-of train.lr --select-seeds 0 --report-seeds 1,2   each variant at its best lr\n"
      "  hcx report --export metrics --format csv > metrics.csv");
  cmd->callback([opts, where, baseline, &exit_code] {
    opts->selection.where.clear();
    for (const auto& w : *where) opts->selection.where.push_back(report::parse_assignment(w, "--where"));
    opts->options.baseline = report::parse_assignment(*baseline, "--baseline");
    const bool tty = ::isatty(STDOUT_FILENO) == 1;
    if (opts->format == "html" && opts->output.empty() && tty) {
      throw bad_input("--format html writes a file: add -o report.html");
    }
    opts->color = opts->output.empty() && color_allowed(STDOUT_FILENO);
    exit_code = report::report_command(*opts, std::cout);
  });
}

}  // namespace hcx::cli
