// hcx inspect: parameter counts, FLOPs, HC overhead and activation memory of a
// run config, computed analytically by hcx::model::compute_stats (no LibTorch).
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "commands.h"
#include "hcx/config/run_config.h"
#include "hcx/error.h"
#include "hcx/model/inspect.h"

namespace hcx::cli {
namespace {

struct InspectOptions {
  std::string config_path;              // empty: the defaults ({})
  std::vector<std::string> overrides;   // "key=value"
  std::string format = "table";
};

int run_inspect(const InspectOptions& o) {
  config::Json j = o.config_path.empty() ? config::Json::object() : config::read_json_file(o.config_path);
  if (!j.is_object()) throw bad_input(o.config_path + ": expected a JSON object with the run config");
  j = config::expand_dotted(j);
  for (const auto& kv : o.overrides) {
    const auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) throw bad_input("-s " + kv + ": expected key=value, e.g. -s model.d_model=512");
    config::set_dotted(j, kv.substr(0, eq), config::parse_value(kv.substr(eq + 1)));
  }
  const config::RunConfig cfg = config::parse_or_throw(j, o.config_path.empty() ? "(defaults)" : o.config_path);
  const model::ModelStats stats = model::compute_stats(cfg);
  if (o.format == "json") {
    std::cout << model::stats_json(cfg, stats).dump(2) << "\n";
  } else {
    std::cout << model::stats_table(cfg, stats);
  }
  return 0;
}

}  // namespace

void add_inspect_command(CLI::App& app, int& exit_code) {
  auto opts = std::make_shared<InspectOptions>();
  auto* cmd = app.add_subcommand("inspect", "Parameter counts, FLOPs and memory of a model config");
  cmd->add_option("config", opts->config_path, "Run config JSON file (default: every key at its default)");
  cmd->add_option("-s,--set", opts->overrides, "Override a dotted key, e.g. -s residual.kind=hc (repeatable)")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  cmd->add_option("--format", opts->format, "Output format")
      ->check(CLI::IsMember({"table", "json"}))
      ->capture_default_str();
  cmd->footer(
      "Examples:\n"
      "  hcx inspect run.json\n"
      "  hcx inspect run.json -s residual.kind=hc -s residual.n=4 --format json\n"
      "  hcx inspect -s model.d_model=512 -s model.n_layers=12 -s model.n_heads=8");
  cmd->callback([opts, &exit_code] { exit_code = run_inspect(*opts); });
}

}  // namespace hcx::cli
