// The subcommands of hcx. Each add_*_command registers one subcommand on `app`
// and stores its exit status in `exit_code` when it runs (CONTRIBUTING.md, "Adding a subcommand").
#pragma once

#include <CLI/CLI.hpp>

namespace hcx::cli {

void add_inspect_command(CLI::App& app, int& exit_code);
void add_sweep_command(CLI::App& app, int& exit_code);
void add_run_command(CLI::App& app, int& exit_code);
void add_data_command(CLI::App& app, int& exit_code);
void add_status_command(CLI::App& app, int& exit_code);
void add_sweeps_command(CLI::App& app, int& exit_code);
void add_query_command(CLI::App& app, int& exit_code);
void add_collect_command(CLI::App& app, int& exit_code);
void add_report_command(CLI::App& app, int& exit_code);
void add_export_command(CLI::App& app, int& exit_code);
void add_sample_command(CLI::App& app, int& exit_code);
void add_slurm_task_command(CLI::App& app, int& exit_code);  // internal: a Slurm array task

}  // namespace hcx::cli
