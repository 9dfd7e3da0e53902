// `hcx report --export metrics|runs|evals --format csv|json`: the raw rows of
// the selected runs at full fidelity (every point, numbers as the shortest
// text that reads back to the same double), for analysis elsewhere.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "hcx/store/db.h"

namespace hcx::report {

// `what` is "metrics" (run_id, name, step, value), "runs" (one row per run:
// its columns, then param.<key> and summary.<key> for every key any run has)
// or "evals" (run_id, step, task, metric, value); `format` is "csv" (header
// line, RFC 4180, empty = NULL) or "json" (an array of objects, null = NULL,
// non-finite numbers as null). Metrics stream in constant memory. Throws
// Error(kBadInput) for another `what` or `format`.
void export_rows(const store::Db& db, const std::vector<std::string>& run_ids, const std::string& what,
                 const std::string& format, std::ostream& out);

// Shortest decimal text that parses back to exactly `v` ("0.1", "2.5e-07").
std::string exact_number(double v);

}  // namespace hcx::report
