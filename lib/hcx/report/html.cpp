// The self-contained HTML report (see html.h).
#include "hcx/report/html.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <optional>

#include <spdlog/spdlog.h>

#include "hcx/metrics/convergence.h"
#include "hcx/report/dygraphs.h"
#include "hcx/report/gap.h"
#include "hcx/report/svg.h"
#include "hcx/report/table.h"
#include "hcx/version.h"

namespace hcx::report {
namespace {

const char* kStyle = R"css(
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 24px auto; max-width: 1500px; color: #1a1a1a; padding: 0 16px; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 18px; margin: 28px 0 8px; border-bottom: 1px solid #ddd; }
h3 { font-size: 15px; margin: 16px 0 6px; }
.meta { color: #555; }
table { border-collapse: collapse; margin: 8px 0 12px; font-variant-numeric: tabular-nums; }
th, td { padding: 4px 10px; border-bottom: 1px solid #e4e4e4; white-space: nowrap; }
th { text-align: left; background: #f6f6f6; white-space: normal; vertical-align: bottom; min-width: 4em; }
td.num, th.num { text-align: right; }
.good { color: #1a7f37; } .bad { color: #cf222e; } .weak { color: #888; } .head { font-weight: 600; }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(560px, 1fr)); gap: 18px; }
svg.chart { width: 100%; height: auto; background: #fff; font-size: 11px; }
svg.heatmap { width: auto; max-width: 100%; }
svg .title { font-size: 14px; font-weight: 600; } svg .subtitle { fill: #666; }
svg .frame { fill: none; stroke: #bbb; } svg .axis line { stroke: #eee; } svg .axis text { fill: #444; }
svg .ref { stroke: #444; stroke-width: 1; stroke-dasharray: 5 4; }
svg .line { fill: none; stroke-width: 1.6; } svg .line.dashed { stroke-dasharray: 6 3; } svg .band { fill-opacity: 0.18; stroke: none; }
svg .spike { stroke: #fff; stroke-width: 0.8; } svg .cell { font-size: 10px; } svg .empty { fill: #999; font-size: 16px; }
.heatmaps { display: flex; flex-wrap: wrap; gap: 10px; align-items: flex-start; }
ul.notes { color: #444; padding-left: 20px; }
.scroll { overflow-x: auto; max-width: 100%; }
p.note { background: #fff8e1; border: 1px solid #e0c36b; padding: 6px 10px; }
)css";

const char* tone_class(Tone t) {
  switch (t) {
    case Tone::kGood: return "good";
    case Tone::kBad: return "bad";
    case Tone::kWeak: return "weak";
    case Tone::kHead: return "head";
    case Tone::kPlain: return "";
  }
  return "";
}

std::string fmt_g(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

// Seed mean and std of several curves, each EMA-smoothed first, at the steps
// all of them recorded. x in tokens.
struct Band {
  std::vector<metrics::Point> mean, low, high;
};
Band seed_band(const std::vector<const Curve*>& curves, double alpha, double per_step) {
  std::vector<Curve> smooth;
  for (const Curve* c : curves) {
    Curve s;
    std::vector<double> v;
    for (size_t i = 0; i < c->steps.size(); ++i) {
      if (!std::isfinite(c->values[i])) continue;
      s.steps.push_back(c->steps[i]);
      v.push_back(c->values[i]);
    }
    s.values = metrics::ema(v, alpha);
    smooth.push_back(std::move(s));
  }
  std::vector<const Curve*> ptrs;
  for (const auto& s : smooth) ptrs.push_back(&s);
  const Curve mean = mean_curve(ptrs);
  Band b;
  // Std at the mean curve's steps: index each smoothed curve by step once.
  std::vector<std::map<int64_t, double>> by_step;
  const bool aligned = std::all_of(smooth.begin(), smooth.end(), [&](const Curve& s) { return s.steps == mean.steps; });
  if (!aligned) {
    for (const auto& s : smooth) {
      std::map<int64_t, double> m;
      for (size_t i = 0; i < s.steps.size(); ++i) m[s.steps[i]] = s.values[i];
      by_step.push_back(std::move(m));
    }
  }
  for (size_t i = 0; i < mean.steps.size(); ++i) {
    const double x = static_cast<double>(mean.steps[i]) * per_step, mu = mean.values[i];
    double sq = 0;
    for (size_t k = 0; k < smooth.size(); ++k) {
      const double v = aligned ? smooth[k].values[i] : by_step[k].at(mean.steps[i]);
      sq += (v - mu) * (v - mu);
    }
    const double sd = smooth.size() > 1 ? std::sqrt(sq / static_cast<double>(smooth.size() - 1)) : 0.0;
    b.mean.push_back({x, mu});
    b.low.push_back({x, mu - sd});
    b.high.push_back({x, mu + sd});
  }
  return b;
}

double group_tokens_per_step(const GroupResult& g, const ReportInput& in) {
  double sum = 0;
  for (const auto& ref : g.runs) sum += tokens_per_step(in.runs[ref.index]);
  return g.runs.empty() ? 0.0 : sum / static_cast<double>(g.runs.size());
}

// Marks run `r`'s spikes of `metric` on `s`, with a note naming seed and step.
void add_spikes(Series& s, const RunRef& ref, const RunData& r, const std::string& metric) {
  for (const auto& sp : r.spikes) {
    if (sp.metric != metric) continue;
    s.markers.push_back({static_cast<double>(sp.step) * tokens_per_step(r), sp.value});
    char note[160];
    std::snprintf(note, sizeof note, "seed %s, step %lld: %.4g (%.1f\u03c3)", ref.seed.c_str(),
                  static_cast<long long>(sp.step), sp.value, sp.score);
    s.marker_notes.push_back(note);
  }
}

LineChart curve_chart(const Report& rep, const ReportInput& in, const std::string& metric, const std::string& id,
                      const std::string& title, bool spikes) {
  const double alpha = smoothing_alpha(metric);
  LineChart c;
  c.id = id;
  c.title = title;
  c.subtitle = "seed mean of EMA(\u03b1=" + fmt_g(alpha) + ")-smoothed curves, band \u00b1 1 std" +
               std::string(spikes ? ", \u25b2 loss spikes" : "") + "; y range fits the last 90% of tokens";
  c.x_label = "tokens";
  c.y_label = metric;
  c.fit_from = 0.1;
  for (size_t gi = 0; gi < rep.groups.size(); ++gi) {
    const GroupResult& g = rep.groups[gi];
    std::vector<const Curve*> curves;
    for (const auto& ref : g.runs) {
      const auto it = in.runs[ref.index].curves.find(metric);
      if (it != in.runs[ref.index].curves.end() && !it->second.steps.empty()) curves.push_back(&it->second);
    }
    const double per_step = group_tokens_per_step(g, in);
    Band b = seed_band(curves, alpha, per_step > 0 ? per_step : 1.0);
    Series s;
    s.name = g.label;
    s.color = palette(gi);
    s.line = std::move(b.mean);
    s.band_low = std::move(b.low);
    s.band_high = std::move(b.high);
    if (spikes) {
      for (const auto& ref : g.runs) add_spikes(s, ref, in.runs[ref.index], metric);
    }
    c.series.push_back(std::move(s));
  }
  // Runs still training: each its own dashed partial curve, smoothed the same
  // way, in its group's colour; never in a band or a table (compute.h).
  for (size_t gi = 0; gi < rep.groups.size(); ++gi) {
    const GroupResult& g = rep.groups[gi];
    for (const auto& ref : g.running) {
      const RunData& r = in.runs[ref.index];
      const auto it = r.curves.find(metric);
      if (it == r.curves.end() || it->second.steps.empty()) continue;
      const double per_step = tokens_per_step(r);
      Band b = seed_band({&it->second}, alpha, per_step > 0 ? per_step : 1.0);
      Series s;
      s.name = g.label + " seed " + ref.seed + " (running, step " + std::to_string(r.step) + ")";
      s.color = palette(gi);
      s.line = std::move(b.mean);
      s.dashed = true;
      if (spikes) add_spikes(s, ref, r, metric);
      c.series.push_back(std::move(s));
      if (c.subtitle.find("; dashed") == std::string::npos) c.subtitle += "; dashed: runs still training";
    }
  }
  return c;
}

// Per-layer statistic `name` at each run's last diagnostics step: mean over
// the group's runs, and a band from `low`/`high` statistics (mean of each) or,
// when those are empty, the min and max over runs.
LineChart layer_chart(const Report& rep, const ReportInput& in, const std::string& id, const std::string& title,
                      const std::string& subtitle, const std::string& name, const std::string& low,
                      const std::string& high, bool log_y) {
  LineChart c;
  c.id = id;
  c.title = title;
  c.subtitle = subtitle;
  c.x_label = "sublayer k (attention of block i = 2i, its FFN = 2i+1)";
  c.y_label = name;
  c.log_y = log_y;
  c.integer_x = true;
  for (size_t gi = 0; gi < rep.groups.size(); ++gi) {
    const GroupResult& g = rep.groups[gi];
    std::map<int64_t, std::vector<double>> mid, lo, hi;
    for (const auto& ref : g.runs) {
      for (const auto& s : in.runs[ref.index].layer_stats) {
        if (s.name == name) mid[s.layer].push_back(s.value);
        if (!low.empty() && s.name == low) lo[s.layer].push_back(s.value);
        if (!high.empty() && s.name == high) hi[s.layer].push_back(s.value);
      }
    }
    Series s;
    s.name = g.label;
    s.color = palette(gi);
    auto mean = [](const std::vector<double>& v) {
      double t = 0;
      for (double x : v) t += x;
      return t / static_cast<double>(v.size());
    };
    for (const auto& [layer, v] : mid) {
      const double x = static_cast<double>(layer);
      s.line.push_back({x, mean(v)});
      if (low.empty()) {
        s.band_low.push_back({x, *std::min_element(v.begin(), v.end())});
        s.band_high.push_back({x, *std::max_element(v.begin(), v.end())});
      } else if (lo.count(layer) && hi.count(layer)) {
        s.band_low.push_back({x, mean(lo[layer])});
        s.band_high.push_back({x, mean(hi[layer])});
      }
    }
    c.series.push_back(std::move(s));
  }
  return c;
}

void write_table(const TextTable& t, std::ostream& o) {
  o << "<h3>" << html_escape(t.title) << "</h3>\n<div class=\"scroll\"><table>\n<tr>";
  for (size_t c = 0; c < t.header.size(); ++c) {
    o << "<th" << (t.numeric[c] ? " class=\"num\"" : "") << ">" << html_escape(t.header[c]) << "</th>";
  }
  o << "</tr>\n";
  for (const auto& row : t.rows) {
    o << "<tr>";
    for (size_t c = 0; c < row.size(); ++c) {
      std::string cls = std::string(t.numeric[c] ? "num " : "") + tone_class(row[c].tone);
      if (!cls.empty() && cls.back() == ' ') cls.pop_back();
      o << "<td" << (cls.empty() ? "" : " class=\"" + cls + "\"") << ">" << html_escape(row[c].text) << "</td>";
    }
    o << "</tr>\n";
  }
  o << "</table></div>\n";
}

void write_matrices(const Report& rep, const ReportInput& in, std::ostream& o) {
  o << "<h2 id=\"matrices\">Learned connections</h2>\n<p class=\"meta\">One run per group (its lowest completed "
       "seed), at its last diagnostics step. <code>hc</code>: the (n+1)\u00d7(n+1) matrix [[0, B], [A_m, A_r]] of "
       "each sublayer; <code>unfolded</code>: c<sub>kj</sub>, how much sublayer j's output feeds sublayer k's "
       "input (hcx docs/method.md, Learned connections); <code>frac</code>: the (m+1)\u00d72m matrix [[0, B], [Y, A]] "
       "of a Frac-Connection; <code>dwa</code>: DenseFormer's weight of block output j in the average after block i; "
       "<code>laurel</code>: LAuReL's gains a (output) and b (skip) per sublayer; <code>mudd</code>: MUDDFormer's "
       "weights of each block output in the next block's query, key, value and residual inputs.</p>\n";
  for (size_t gi = 0; gi < rep.groups.size(); ++gi) {
    const GroupResult& g = rep.groups[gi];
    o << "<h3>" << html_escape(g.label) << "</h3>\n";
    if (!g.sample_run || in.runs[*g.sample_run].matrices.empty()) {
      o << "<p class=\"weak\">no connection matrices recorded (none exist for pre_norm and post_norm)</p>\n";
      continue;
    }
    const RunData& r = in.runs[*g.sample_run];
    std::vector<const Matrix*> ms;
    for (const auto& m : r.matrices) ms.push_back(&m);
    std::stable_sort(ms.begin(), ms.end(), [](const Matrix* a, const Matrix* b) {
      return a->name != b->name ? a->name > b->name : a->layer < b->layer;  // "unfolded" first
    });
    o << "<p class=\"meta\">run " << html_escape(r.id) << ", step " << ms.front()->step << "</p>\n<div class=\"heatmaps\">\n";
    for (const Matrix* m : ms) {
      Heatmap h;
      h.id = "heatmap-" + std::to_string(gi) + "-" + m->name + "-" + std::to_string(m->layer);
      h.rows = m->rows;
      h.cols = m->cols;
      h.values = m->values;
      if (m->name == "hc") {
        h.title = "hc, sublayer " + std::to_string(m->layer) + " (" + m->sublayer + ")";
        h.caption = "row 0: [0, B]; rows 1..n: [A_m, A_r]";
      } else if (m->name == "frac") {
        h.title = "frac, sublayer " + std::to_string(m->layer) + " (" + m->sublayer + ")";
        h.caption = "row 0: [0, B]; rows 1..m: [Y, A]";
      } else {
        h.title = m->name + (m->layer >= 0 ? ", sublayer " + std::to_string(m->layer) : "");
        if (m->name == "unfolded") h.caption = "row k: sublayer k's input; column j: sublayer j's output";
        if (m->name == "dwa") h.caption = "row i: the average after block i+1; column j: block output j (0: embedding)";
        if (m->name == "laurel") h.caption = "row 0: a; row 1: b; column k: sublayer k";
        if (m->name == "mudd") h.caption = "rows: Q, K, V, R (R only after the last block); column j: block output j";
      }
      o << render_heatmap(h);
    }
    o << "</div>\n";
  }
}

}  // namespace

void render_html(const Report& rep, const ReportInput& in, std::ostream& o) {
  const std::optional<DygraphsAssets> dygraphs = load_dygraphs();
  if (!dygraphs) {
    spdlog::warn("dygraphs not found in {}: the HTML report's curves are static (apt-get install libjs-dygraphs, "
                 "or set HCX_DYGRAPHS_DIR)",
                 dygraphs_dir());
  }
  auto chart = [&](const LineChart& c) { o << (dygraphs ? render_dygraphs_chart(c) : render_line_chart(c)); };

  const std::string title = "hcx report \u00b7 " + (rep.sweep.empty() ? std::string("all runs") : rep.sweep);
  o << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
       "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>"
    << html_escape(title) << "</title>\n<style>" << kStyle << "</style>\n";
  if (dygraphs) {
    o << "<style>/* dygraph.css, from " << html_escape(dygraphs->dir) << " */\n" << dygraphs->css << "\n"
      << dygraphs_page_style() << "</style>\n<script>/* dygraphs 2.2.1, MIT licence, from "
      << html_escape(dygraphs->dir) << "/dygraph.min.js */\n" << dygraphs->js << "\n</script>\n";
  }
  o << "</head>\n<body>\n";
  o << "<h1>" << html_escape(title) << "</h1>\n<p class=\"meta\">" << html_escape(report_title(rep))
    << " \u00b7 hcx " << kVersion << "</p>\n";
  if (!dygraphs) {
    o << "<p class=\"note\" id=\"no-dygraphs\">These curves are static pictures: the interactive charts (hover "
         "values, zoom, series toggles, log x, smoothing) need dygraphs, which hcx inlines from "
      << html_escape(dygraphs_dir())
      << "/dygraph.min.js when it writes the report. Install Debian's package <code>libjs-dygraphs</code> "
         "(<code>apt-get install libjs-dygraphs</code>), or set <code>HCX_DYGRAPHS_DIR</code> to a folder "
         "holding dygraph.min.js and dygraph.css, and run <code>hcx report</code> again.</p>\n";
  }

  o << "<h2 id=\"comparison\">Results</h2>\n";
  for (const auto& t : report_tables(rep)) write_table(t, o);
  o << "<ul class=\"notes\">\n";
  for (const auto& line : report_footnotes(rep)) o << "<li>" << html_escape(line) << "</li>\n";
  o << "</ul>\n";

  o << "<h2 id=\"curves\">Loss curves</h2>\n";
  if (dygraphs) {
    o << "<p class=\"meta\">Hover for values; drag to zoom (shift-drag pans, double-click resets); the boxes "
         "show or hide a series; smoothing averages that many points (bands too). Dashed: runs still "
         "training, not in the tables.</p>\n";
  }
  o << "<div class=\"charts\">\n";
  chart(curve_chart(rep, in, "train/loss", "chart-train-loss", "Training loss", true));
  chart(curve_chart(rep, in, "val/loss", "chart-val-loss", "Validation loss", false));
  const std::string& m = rep.options.metric;
  if (m != "train/loss" && m != "val/loss") chart(curve_chart(rep, in, m, "chart-metric", m, false));
  o << "</div>\n";

  o << "<h2 id=\"gap\">Gap to the baseline</h2>\n<div class=\"charts\">\n";
  chart(gap_chart(rep, in, m));
  o << "</div>\n";

  o << "<h2 id=\"diagnostics\">Per-layer diagnostics</h2>\n<div class=\"charts\">\n";
  chart(layer_chart(rep, in, "chart-collapse", "Representation collapse",
                    "cosine similarity of consecutive sublayer inputs h0 over validation tokens: "
                    "median (line), p5\u2013p95 (band); seed mean",
                    "cos/median", "cos/p5", "cos/p95", false));
  chart(layer_chart(rep, in, "chart-layer-grad-norm", "Gradient norm per layer",
                    "seed mean (line), min\u2013max over seeds (band); log scale", "grad_norm", "", "", true));
  o << "</div>\n";
  write_matrices(rep, in, o);
  if (dygraphs) o << "<script>" << dygraphs_page_script() << "</script>\n";
  o << "</body>\n</html>\n";
}

}  // namespace hcx::report
