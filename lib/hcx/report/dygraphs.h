// The HTML report's interactive curves: dygraphs 2.2.1 (Debian's
// libjs-dygraphs), read at report time and inlined so the page stays one
// offline file, and a LineChart (svg.h) turned into a dygraphs chart: hover
// values, drag to zoom (double-click resets), series toggles, log x,
// smoothing (dygraphs' rollPeriod), ±std bands (customBars), spikes as
// annotations, running runs dashed. https://dygraphs.com/options.html
#pragma once

#include <optional>
#include <string>

#include "hcx/report/svg.h"

namespace hcx::report {

// Where Debian installs dygraphs; HCX_DYGRAPHS_DIR, when set and not empty,
// replaces it (tests, other installs).
constexpr const char* kDygraphsDir = "/usr/share/javascript/dygraphs";

struct DygraphsAssets {
  std::string dir;  // the folder they were read from
  std::string js;   // dygraph.min.js, source-map comment removed, safe inside <script>
  std::string css;  // dygraph.css (else dygraph.min.css), safe inside <style>
};

// The folder dygraphs is looked for in: $HCX_DYGRAPHS_DIR or kDygraphsDir.
std::string dygraphs_dir();

// Reads dygraph.min.js and its CSS from dygraphs_dir(). nullopt when the
// script is missing or unreadable (the report then falls back to static SVG
// curves); a missing CSS alone reads as empty. Never throws for a missing file.
std::optional<DygraphsAssets> load_dygraphs();

// A <figure class="chart dygraph" id=chart.id> holding the title and
// subtitle, a .controls row (filled by the page script), a .plot div, a
// .legend div and the chart's data as <script type="application/json"
// class="hcx-chart">: {"id", "labels": ["x", series...], "colors",
// "dashed", "xlabel", "ylabel", "log_y", "log_x_control", "integer_x",
// "ref_y", "value_range": [lo, hi] (chart_range), "annotations": [{series,
// x, shortText, text}], "data": rows [x, cell...]}. A cell is [low, mid,
// high] (low = high = mid without a band), null where that series has no
// point at this x, or "gap" where its line breaks (NaN). Lines are reduced
// with metrics::minmax_reduce to at most 2 · buckets + 2 points each
// (buckets = chart.max_buckets, fewer for many series so the table stays
// small); rows are the union of the reduced x values, and a series gets a
// value at every row where it recorded one, so seed-aligned groups share
// full rows. Markers snap to the nearest x where their series has a value
// (notes at the same x are joined). A chart with no usable point is a
// figure saying "no data", without data.
std::string render_dygraphs_chart(const LineChart& chart);

// The page script that draws every .hcx-chart: one Dygraph per figure,
// with the controls and the tick labels of tick_labels() (svg.h). With the
// URL fragment #hcx-selftest it then moves the mouse over the first chart,
// toggles its first series off with its checkbox, sets log x and smoothing,
// and writes what dygraphs reported into <pre id="hcx-selftest"> (JSON), for
// tests/report/browser_test.cpp. Errors go to the console.
const char* dygraphs_page_script();

// Style of the figures, the controls and the spike annotations.
const char* dygraphs_page_style();

}  // namespace hcx::report
