// Report footnotes on provenance (plain C++): whether the runs a report
// compares were trained by different hcx builds or on different data, which
// makes their differences partly the code's or the data's (runs.code_version,
// code_commit, data_id; config/provenance.h).
#pragma once

#include <string>
#include <vector>

#include "hcx/report/input.h"

namespace hcx::report {

// Notes about the runs `indices` of `input` (the runs compared), at most two:
//   "runs compared were trained by 2 builds: 0.1.0 1a2b3c4 (3 runs),
//    0.1.0 5d6e7f8 (1 run); hcx sweep --retrain-stale trains the stale ones
//    again with this build"
//   "runs compared were trained on 2 different data (runs.data_id):
//    synthetic (3 runs), 1048576:cbf29ce484222325 (1 run)"
// Builds are config::build_label()s, in order of first appearance; fields a
// run did not record (empty) are left out of the count. Empty when all agree.
std::vector<std::string> provenance_notes(const ReportInput& input, const std::vector<size_t>& indices);

}  // namespace hcx::report
