// The report as tables of text cells, shared by the terminal, Markdown and
// HTML renderers: the comparison table, the downstream table, and the notes
// that state every definition the figures depend on.
#pragma once

#include <string>
#include <vector>

#include "hcx/metrics/stats.h"
#include "hcx/report/compute.h"

namespace hcx::report {

// How a cell reads against the baseline; renderers map it to colours.
enum class Tone { kPlain, kGood, kBad, kWeak, kHead };

struct Cell {
  std::string text;
  Tone tone = Tone::kPlain;
};

struct TextTable {
  std::string title;
  std::vector<std::string> header;
  std::vector<bool> numeric;  // per column: right-aligned
  std::vector<std::vector<Cell>> rows;
};

// The comparison table, then (when any run has downstream scores) the
// downstream table.
std::vector<TextTable> report_tables(const Report& report);

// One line: sweep, runs, seeds, baseline and headline metric.
std::string report_title(const Report& report);

// The definitions and warnings printed under the tables, one per line:
// Δ and CI, speed-up and its smoothing, train-loss smoothing, the spike rule,
// missing seeds, notes.
std::vector<std::string> report_footnotes(const Report& report);

// Number formatting shared by the renderers.
std::string fmt_fixed(double v, int decimals);          // "2.3456", "−" sign as U+2212
std::string fmt_signed(double v, int decimals);         // "+0.0123" / "−0.0123"
std::string fmt_mean_std(const metrics::Summary& s, int decimals);  // "2.3456 ± 0.0123", "2.3456" (n=1), "—"
std::string fmt_si(double v);                           // 1234 -> "1.23k", 2.5e6 -> "2.50M"
std::string fmt_delta(const metrics::PairedDifference& d, int decimals);  // "−0.0444 [−0.0600, −0.0288]"

}  // namespace hcx::report
