// hcx: ablation studies of residual connections in transformer language
// models. This file only registers the subcommands and maps errors to exit
// codes: 0 success, 1 a failed run, query or I/O error, 2 bad usage or input.
#include <cstdio>
#include <exception>
#include <string>
#include <string_view>

#include <CLI/CLI.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "commands.h"
#include "hcx/build_info.h"
#include "hcx/error.h"
#include "hcx/terminal.h"
#include "hcx/util/process.h"
#include "hcx/version.h"

int main(int argc, char** argv) {
  // `hcx run` trains in this process: under the thread settings a sweep gives its runs (util/process.h).
  if (argc > 1 && std::string_view(argv[1]) == "run") hcx::util::reexec_with_training_env(argv);
  // Logs go to stderr so that stdout stays parseable (tables, csv, json).
  // Colour only on a terminal, and never under NO_COLOR (hcx/terminal.h).
  auto logger = spdlog::stderr_color_mt(
      "hcx", hcx::no_color_requested() ? spdlog::color_mode::never : spdlog::color_mode::automatic);
  logger->set_pattern("%^[%H:%M:%S] %l%$ %v");
  spdlog::set_default_logger(logger);

  CLI::App app{"hcx: ablation studies of residual connections (Pre-Norm, Post-Norm, hyper-connections)\n"
               "in transformer language models. Grids in, trained runs and comparisons out."};
  // The commit (runs.code_commit) says which sources; "" outside a git checkout.
  const std::string commit = hcx::build_commit();
  app.set_version_flag("--version", std::string("hcx ") + hcx::kVersion + (commit.empty() ? "" : " " + commit) + " (" +
                                        hcx::kBuildLibTorch + ")");
  app.require_subcommand(1);
  app.footer(
      "Examples:\n"
      "  hcx sweep experiments/quickstart.json --jobs 2   train every run of a grid\n"
      "  hcx report --format table                        compare the runs against Pre-Norm\n"
      "  hcx query \"SELECT status, count(*) FROM runs GROUP BY status\"\n"
      "Run 'hcx SUBCOMMAND --help' for each subcommand's options and examples.");

  int exit_code = 0;
  hcx::cli::add_run_command(app, exit_code);
  hcx::cli::add_sweep_command(app, exit_code);
  hcx::cli::add_inspect_command(app, exit_code);
  hcx::cli::add_data_command(app, exit_code);
  hcx::cli::add_status_command(app, exit_code);
  hcx::cli::add_sweeps_command(app, exit_code);
  hcx::cli::add_query_command(app, exit_code);
  hcx::cli::add_collect_command(app, exit_code);
  hcx::cli::add_report_command(app, exit_code);
  hcx::cli::add_export_command(app, exit_code);
  hcx::cli::add_sample_command(app, exit_code);
  hcx::cli::add_slurm_task_command(app, exit_code);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;  // --help/--version exit 0, bad usage 2
  } catch (const hcx::Error& e) {
    spdlog::error("{}", e.what());
    return e.exit_code();
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    return 1;
  }
  return exit_code;
}
