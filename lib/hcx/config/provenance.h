// What trained a run (plain C++): the hcx version and source commit of the
// binary, and the identity of the data (runs.code_version, code_commit and
// data_id, schema 2). `hcx run` records it at every start; `hcx sweep` calls
// a completed run stale when it differs from what this binary would use, and
// `hcx report` notes when the runs it compares differ.
#pragma once

#include <string>

#include "hcx/config/run_config.h"

namespace hcx::config {

struct Provenance {
  std::string code_version;  // hcx::kVersion, e.g. "0.1.0"
  std::string code_commit;   // hcx::build_commit(): "<sha>", "<sha>-dirty", "" when unknown
  std::string data_id;       // config::data_id(), e.g. "synthetic", "1048576:cbf29ce484222325"
};

// This binary: kVersion and build_commit(); data_id empty.
Provenance this_build();

// What this binary trains run `c` with: this_build() plus data_id(c). First
// checks every input file (check_input_files): throws Error(kBadInput) with
// one line per unreadable file, each prefixed "<where>: " when `where` is not
// empty (e.g. "run 0123456789abcdef").
Provenance run_provenance(const RunConfig& c, const std::string& where = "");

// "0.1.0 1a2b3c4" or "0.1.0 1a2b3c4-dirty": the version and a 7-digit commit
// ("0.1.0" alone when the commit is unknown; "unknown" when both are).
std::string build_label(const Provenance& p);

// Why a run trained with `trained` is stale against `current`, or "" when it
// is not: "trained by <build_label(trained)>" when the version differs or both
// commits are known and differ, "data changed" when both data ids are known
// and differ, both joined by ", ". An empty field (a run trained before hcx
// recorded provenance, a binary built outside git) is not compared.
std::string stale_reason(const Provenance& trained, const Provenance& current);

}  // namespace hcx::config
