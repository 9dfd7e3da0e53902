// Expansion of an experiment into runs: the product of the axes, excludes,
// includes, validation of every point, run ids, duplicates collapsed.
// Pure: torch-free, DB-free, no I/O.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "hcx/config/run_config.h"
#include "hcx/grid/experiment.h"

namespace hcx::grid {

struct ExpandedRun {
  config::RunConfig config;  // resolved and validated (placement keys as the file set them)
  config::Json config_json;  // canonical_json(config): what runs.config_json stores
  std::string id;            // run_id(config)
  Assignments point;         // what the grid set for this run, in axis order
  std::string label;         // the point's distinguishing keys: "residual.kind=hc residual.n=2 seed=1"
  std::string variant;       // variant_name(config): "DHC×2"
};

struct Expansion {
  std::string source, name, description;
  std::vector<ExpandedRun> runs;          // one per distinct id, in grid order (includes last)
  std::vector<std::string> varying_keys;  // keys whose value differs between points, in axis order
  size_t points = 0;                      // grid points after excludes, plus includes
  size_t excluded = 0;                    // grid points dropped by exclude
  size_t duplicates = 0;                  // points whose id an earlier point already had
  config::Json spec_json;                 // ExperimentSpec::spec_json
};

// The points of `spec`, each merged over the base and validated with
// config::from_json. Collects every problem and throws one Error(kBadInput)
// with all of them, one per line:
//   "<source>: point <i> (<label>): <dotted key>: <message>"   (i counts from 1)
//   "<source>: base: <dotted key>: <message>"                  (wrong in every point)
//   "<source>: point <i> (<label>): <key>: set by both axis 'a' and axis 'b'"
// and when nothing is left: "<source>: the grid is empty (...)".
Expansion expand(const ExperimentSpec& spec);

// "key=value" for each assignment of `point` whose key is in `varying`, in the
// point's order, space-separated; strings unquoted, other values as JSON.
std::string point_label(const Assignments& point, const std::vector<std::string>& varying);

}  // namespace hcx::grid
