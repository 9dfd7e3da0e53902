// Experiment files (README "Runs, sweeps and the database"): JSON with comments, or
// the same in YAML (.yaml, .yml), that describes a grid of runs. This header parses a file plus command-line `-s`
// overrides into axes of assignments; expand.h turns those into runs.
//
//   {
//     "name": "quickstart",                  // sweep name (default: file stem)
//     "description": "...",
//     "base": {"train.steps": 100},          // a run config (dotted or nested keys),
//                                            //   or a path to a run config file
//     "grid": {                              // axes, cartesian product, first axis outermost
//       "train.lr": [1e-3, 3e-3],            // a dotted key and its values
//       "variant": [                         // any name: each value is an object setting
//         {"residual.kind": "pre_norm"},     //   several keys; lists inside it expand too,
//         {"residual.kind": "hc", "residual.n": [1, 2, 4, 8]}   // so this is 4 points
//       ]
//     },
//     "zip": {"train.lr": [1e-3, 2e-3], "train.warmup_steps": [10, 20]},
//                                            // axes that vary together (equal lengths);
//                                            //   a list of such objects for several groups
//     "exclude": [{"residual.kind": "hc", "residual.n": 1}],
//                                            // partial configs: a grid point whose resolved
//                                            //   config matches every key is dropped; a list
//                                            //   value matches any of its elements
//     "include": [{"residual.kind": "post_norm"}],
//                                            // extra points (lists expand), never excluded
//     "seeds": 3                             // an axis over `seed`: 0..N-1, or a list
//   }
//
// Inside an object value, nested objects are flattened to dotted keys, and a
// key is taken relative to the axis name when that names a config key (axis
// "residual" with {"kind": "hc"} sets residual.kind); otherwise it is absolute.
// A list is a set of alternatives, except for a list-valued key (eval.tasks,
// eval.extra_val), whose alternatives must then be written as a list of lists.
// A non-list axis value is an axis of one value.
//
// Overrides, Hydra-style: "-s key=v" pins key to v in every run (an axis on
// key is dropped, and objects, zips and includes no longer set it);
// "-s key=v1,v2" replaces (or adds) the axis on key and likewise wins over
// objects. A value that parses as JSON as a whole ("[1,2]", "{...}") is one
// value; otherwise it is split at top-level commas. "-s seeds=3" or
// "-s seeds=0,1,2" sets the seeds. Sweep functions make the list:
//   range(stop), range(start,stop), range(start,stop,step)   Python's and Hydra's range, stop
//                  excluded: integers when every argument is one (range(1,9,2): 1,3,5,7)
//   range(start,stop,log,N), range(start,stop,lin,N)        N values, both ends included, spaced
//                  evenly in log or linear scale (range(1e-4,1e-2,log,3): 1e-4,1e-3,1e-2);
//                  reals are rounded to 12 significant digits, so they equal the written-out values
//   choice(a,b,c)  Hydra's spelling of a,b,c
// At most 10,000 values; an empty range, a step of 0, a log range through 0
// and a malformed call are errors naming the override.
//
// A sweep changed by -s is another sweep: its name is the file's, then
// "@key=value" per override (characters other than letters, digits and
// ._=,+-() as '_'), so its runs are reported apart from the file's own and
// the same command again resumes it. Overrides of keys outside the runs'
// identity (identity.h: train.device, train.threads, train.keep_checkpoints)
// keep the name. `hcx sweep --name`
// chooses another name, the file's own to merge on purpose.
//
// Torch-free and DB-free.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "hcx/config/run_config.h"

namespace hcx::grid {

// What one choice along an axis sets: (dotted key, value), in file order.
using Assignments = std::vector<std::pair<std::string, config::Json>>;

struct Axis {
  std::string name;                  // "train.lr", "variant", "zip(train.lr,train.warmup_steps)", "seed"
  std::vector<Assignments> choices;  // at least one
};

// A command-line override "key=v1,v2".
struct Override {
  std::string key;
  std::vector<config::Json> values;  // one value pins the key; several make an axis
};

struct ExperimentSpec {
  std::string source;                // file path (or "<inline>"), prefixed to every message
  std::string name;                  // sweep name
  std::string description;
  config::Json base = config::Json::object();  // nested run-config JSON, pinned overrides applied
  std::vector<Axis> axes;            // product order; the seed axis, if any, is last
  std::vector<Assignments> include;  // extra points, before seeds are applied
  std::vector<Assignments> exclude;  // partial configs; a list value means "any of"
  bool has_seeds = false;            // seeds given: include points get the seed axis too
  std::vector<std::string> pinned;   // keys fixed by -s key=v (stripped from every axis)
  config::Json spec_json;            // {"source", "experiment", "overrides"}: stored in sweeps.spec_json
};

// The name of the sweep `name` changed by `overrides`, as described above.
std::string sweep_name(const std::string& name, const std::vector<std::string>& overrides);

// Parses "key=value" as described above. Throws Error(kBadInput) naming the
// text when there is no '=' or the key is empty. Does not check the key.
Override parse_override(const std::string& text);

// Builds a spec from an experiment document and overrides. `source` names the
// file in messages and is the base for a relative "base" path. Collects every
// problem (unknown top-level keys, malformed axes, zips of unequal lengths,
// unknown keys in overrides and excludes, each with the nearest known key) and
// throws one Error(kBadInput) holding them all, one per line, each prefixed
// with "<source>: ". Per-point validation happens in expand().
ExperimentSpec parse_experiment(const std::string& text, const std::string& source,
                                const std::vector<std::string>& overrides = {});

// The same for a YAML document (config/yaml.h: the JSON it spells, so the
// same checks and messages; a syntax error names the line and column).
ExperimentSpec parse_yaml_experiment(const std::string& text, const std::string& source,
                                     const std::vector<std::string>& overrides = {});

// Reads `path` (comments allowed) and calls parse_experiment, or
// parse_yaml_experiment for a .yaml or .yml file. Throws Error(kBadInput)
// when the file cannot be read or does not parse.
ExperimentSpec load_experiment(const std::string& path, const std::vector<std::string>& overrides = {});

}  // namespace hcx::grid
