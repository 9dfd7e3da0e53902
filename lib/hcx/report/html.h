// The HTML report (`hcx report --format html -o report.html`): one
// self-contained file that opens offline, with no external resource: inline
// CSS, the comparison tables, interactive curves drawn by dygraphs (inlined
// at report time, dygraphs.h) and hand-written SVG heatmaps of the learned
// connections. Without dygraphs the curves are static SVG (svg.h) and the
// page says how to install it.
#pragma once

#include <ostream>
#include <string>

#include "hcx/report/compute.h"
#include "hcx/report/input.h"

namespace hcx::report {

// Writes the page for `report`, computed from `input` (which must be the same
// input, loaded with diagnostics for the per-layer charts and heatmaps).
// Reads dygraphs from dygraphs_dir() (dygraphs.h) on every call, and logs a
// warning when it is missing. Charts, each a <figure class="chart dygraph">
// (or, without dygraphs, an <svg class="chart">) with a stable id:
//   chart-train-loss   training loss per group: seed mean of EMA-smoothed
//                      curves, ±std band, loss spikes marked; and each
//                      running run's partial curve, dashed, "(running, step N)"
//   chart-val-loss     validation loss per group, likewise (no spikes)
//   chart-gap          the paired Δ to the baseline over training (gap.h)
//   chart-metric       the headline metric, when it is neither of those
//   chart-collapse     cosine similarity of consecutive sublayer inputs per
//                      layer (median, p5–p95 band), last diagnostics step
//   chart-layer-grad-norm  gradient norm per layer (mean, min–max band), log scale
//   heatmap-<g>-...    HC matrices and the unfolded connection matrix of one
//                      run per group (the lowest completed seed)
// Curves are reduced to min/max per bucket, never sampled. Tables use
// completed runs only (compute.h).
void render_html(const Report& report, const ReportInput& input, std::ostream& out);

}  // namespace hcx::report
