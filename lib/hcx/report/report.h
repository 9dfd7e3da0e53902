// `hcx report` as a library call: open the results database (merging shards
// first when there are any), select runs, then either render the comparison
// (table, md, csv, json, html) or export raw rows. apps/hcx/report.cpp only
// parses flags into a ReportCommand.
#pragma once

#include <ostream>
#include <string>

#include "hcx/report/compute.h"
#include "hcx/report/load.h"

namespace hcx::report {

struct ReportCommand {
  std::string db = "results/hcx.db";
  Selection selection;        // --sweep, --where
  ReportOptions options;      // --group-by, --baseline, --metric
  std::string format;         // table|md|csv|json|html; "" = table (csv for --export)
  std::string output;         // -o FILE; "" = `out`
  std::string export_what;    // --export metrics|runs|evals; "" = the comparison
  bool color = false;         // ANSI colours in the table (the CLI decides: a terminal and no NO_COLOR)
};

// Runs the command, writing to `out` or to command.output (written to a
// temporary file, then renamed into place). Returns the exit status (0).
// Throws Error(kBadInput) for a bad flag value, a missing database, an
// unknown sweep, key or metric, or an empty selection; Error(kIo) for
// database and file failures.
int report_command(const ReportCommand& command, std::ostream& out);

}  // namespace hcx::report
