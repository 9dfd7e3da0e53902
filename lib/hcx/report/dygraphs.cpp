// Inlined dygraphs and the interactive curve charts (see dygraphs.h).
#include "hcx/report/dygraphs.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <vector>

#include <nlohmann/json.hpp>

namespace hcx::report {
namespace {

using Json = nlohmann::json;

std::optional<std::string> read_text(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return std::nullopt;
  std::ostringstream s;
  s << f.rdbuf();
  if (f.bad()) return std::nullopt;
  return s.str();
}

// Makes `text` safe inside <script> or <style>: the HTML parser ends those at
// the first "</" + tag name, whatever the case; a backslash keeps JS strings
// and regular expressions the same ("<\/script") and only occurs in them.
std::string close_safe(std::string text, const std::string& tag) {
  for (size_t p = text.find("</"); p != std::string::npos; p = text.find("</", p + 2)) {
    std::string next = text.substr(p + 2, tag.size());
    std::transform(next.begin(), next.end(), next.begin(), [](unsigned char c) { return std::tolower(c); });
    if (next == tag) text.insert(p + 1, "\\");
  }
  return text;
}

// Drops "//# sourceMappingURL=..." lines: the map is not inlined, and a
// browser with developer tools open would try to fetch it.
std::string without_source_map(std::string js) {
  for (size_t p = js.find("//# sourceMappingURL="); p != std::string::npos; p = js.find("//# sourceMappingURL=", p)) {
    const size_t end = js.find('\n', p);
    js.erase(p, end == std::string::npos ? std::string::npos : end - p);
  }
  return js;
}

// A number for the data table: x exactly enough for token counts, y to 6
// significant digits (what a hover can show; keeps the page small).
void put_number(std::string& out, double v, bool is_x) {
  char buf[40];
  std::snprintf(buf, sizeof buf, is_x ? "%.15g" : "%.6g", v);
  out += buf;
}

bool usable(double y, bool log) { return std::isfinite(y) && (!log || y > 0); }

// x -> y of a sorted point list, by exact x (the band shares the line's x).
const metrics::Point* at_x(const std::vector<metrics::Point>& pts, double x) {
  const auto it = std::lower_bound(pts.begin(), pts.end(), x,
                                   [](const metrics::Point& p, double v) { return p.x < v; });
  return it != pts.end() && it->x == x ? &*it : nullptr;
}

// Unique labels: dygraphs keys series options by label.
std::vector<std::string> unique_labels(const LineChart& c) {
  std::vector<std::string> out;
  std::set<std::string> seen{c.x_label};
  for (const auto& s : c.series) {
    std::string name = s.name.empty() ? "series" : s.name;
    for (int n = 2; seen.count(name); ++n) name = s.name + " (" + std::to_string(n) + ")";
    seen.insert(name);
    out.push_back(name);
  }
  return out;
}

}  // namespace

std::string dygraphs_dir() {
  const char* env = std::getenv("HCX_DYGRAPHS_DIR");
  return env && *env ? std::string(env) : std::string(kDygraphsDir);
}

std::optional<DygraphsAssets> load_dygraphs() {
  DygraphsAssets a;
  a.dir = dygraphs_dir();
  const std::optional<std::string> js = read_text(a.dir + "/dygraph.min.js");
  if (!js || js->find("Dygraph") == std::string::npos) return std::nullopt;
  a.js = close_safe(without_source_map(*js), "script");
  std::optional<std::string> css = read_text(a.dir + "/dygraph.css");
  if (!css) css = read_text(a.dir + "/dygraph.min.css");
  a.css = css ? close_safe(without_source_map(*css), "style") : "";
  return a;
}

std::string render_dygraphs_chart(const LineChart& c) {
  std::ostringstream o;
  o << "<figure class=\"chart dygraph\" id=\"" << html_escape(c.id) << "\">\n<figcaption><span class=\"title\">"
    << html_escape(c.title) << "</span> <span class=\"subtitle\">" << html_escape(c.subtitle)
    << "</span></figcaption>\n";
  const std::optional<ChartRange> range = chart_range(c);
  if (!range) {
    o << "<p class=\"empty\">no data</p>\n</figure>\n";
    return o.str();
  }
  // Rows: the union of every series' reduced x. The table is rows × series
  // cells, so many series get fewer buckets (about 250k cells at most).
  const size_t n = std::max<size_t>(1, c.series.size());
  const size_t buckets = std::clamp<size_t>(250000 / (n * n), 25, std::max<size_t>(25, c.max_buckets));
  std::vector<std::vector<metrics::Point>> lines;  // each series' usable line, sorted by x; NaN kept as gaps
  std::vector<double> xs;
  for (const auto& s : c.series) {
    std::vector<metrics::Point> line;
    for (const auto& p : s.line) {
      if (std::isfinite(p.x)) line.push_back({p.x, usable(p.y, c.log_y) ? p.y : NAN});
    }
    std::stable_sort(line.begin(), line.end(), [](const auto& a, const auto& b) { return a.x < b.x; });
    for (const auto& p : metrics::minmax_reduce(line, buckets)) xs.push_back(p.x);
    // A gap survives the reduction: its neighbours' x are rows, and so is its own.
    for (const auto& p : line) {
      if (std::isnan(p.y)) xs.push_back(p.x);
    }
    lines.push_back(std::move(line));
  }
  std::sort(xs.begin(), xs.end());
  xs.erase(std::unique(xs.begin(), xs.end()), xs.end());

  std::string data = "[";
  for (size_t r = 0; r < xs.size(); ++r) {
    data += r ? ",\n[" : "\n[";
    put_number(data, xs[r], true);
    for (size_t i = 0; i < c.series.size(); ++i) {
      data += ',';
      const metrics::Point* p = at_x(lines[i], xs[r]);
      if (!p) {
        data += "null";
        continue;
      }
      if (std::isnan(p->y)) {
        data += "\"gap\"";
        continue;
      }
      const metrics::Point* lo = at_x(c.series[i].band_low, xs[r]);
      const metrics::Point* hi = at_x(c.series[i].band_high, xs[r]);
      const bool band = lo && hi && usable(lo->y, c.log_y) && usable(hi->y, c.log_y);
      data += '[';
      put_number(data, band ? lo->y : p->y, false);
      data += ',';
      put_number(data, p->y, false);
      data += ',';
      put_number(data, band ? hi->y : p->y, false);
      data += ']';
    }
    data += ']';
  }
  data += "]";

  const std::vector<std::string> labels = unique_labels(c);
  Json spec = {{"id", c.id},
               {"xlabel", c.x_label},
               {"ylabel", c.y_label},
               {"log_y", c.log_y},
               {"log_x_control", !c.integer_x},
               {"integer_x", c.integer_x},
               {"ref_y", c.ref_y ? Json(*c.ref_y) : Json()},
               {"value_range", {range->y_lo, range->y_hi}}};
  spec["labels"] = Json::array({c.x_label});
  spec["colors"] = Json::array();
  spec["dashed"] = Json::array();
  spec["annotations"] = Json::array();
  for (size_t i = 0; i < c.series.size(); ++i) {
    const Series& s = c.series[i];
    spec["labels"].push_back(labels[i]);
    spec["colors"].push_back(s.color);
    spec["dashed"].push_back(s.dashed);
    // Each marker at the nearest x where the series has a value: dygraphs
    // attaches an annotation to a drawn point only.
    std::map<double, std::string> notes;
    for (size_t k = 0; k < s.markers.size(); ++k) {
      const double mx = s.markers[k].x;
      const metrics::Point* best = nullptr;
      for (double x : xs) {
        const metrics::Point* p = at_x(lines[i], x);
        if (p && !std::isnan(p->y) && (!best || std::abs(x - mx) < std::abs(best->x - mx))) best = p;
      }
      if (!best) continue;
      std::string& note = notes[best->x];
      note += (note.empty() ? "" : "\n") + (k < s.marker_notes.size() ? s.marker_notes[k] : labels[i] + " spike");
    }
    for (const auto& [x, note] : notes) {
      spec["annotations"].push_back(
          {{"series", labels[i]}, {"x", x}, {"shortText", "\u25b2"}, {"text", note}, {"cssClass", "hcx-spike"}});
    }
  }
  std::string json = spec.dump();
  json.insert(json.size() - 1, ",\"data\":" + data);
  // '<' occurs only inside strings; escaped, no "</script>" or "<!--" can end the element early.
  std::string safe;
  safe.reserve(json.size());
  for (char ch : json) {
    if (ch == '<') {
      safe += "\\u003c";
    } else {
      safe += ch;
    }
  }
  o << "<div class=\"controls\"></div>\n<div class=\"plot\"></div>\n<div class=\"toggles\"></div>\n"
    << "<div class=\"legend\"></div>\n"
    << "<script type=\"application/json\" class=\"hcx-chart\">" << safe << "</script>\n</figure>\n";
  return o.str();
}

const char* dygraphs_page_style() {
  return R"css(
figure.chart { margin: 0; background: #fff; min-width: 0; }
figure.chart figcaption .title { font-size: 14px; font-weight: 600; }
figure.chart figcaption .subtitle { color: #666; font-size: 12px; display: block; }
figure.chart .plot { width: 100%; height: 320px; margin-top: 4px; }
figure.chart .controls { font-size: 12px; color: #333; margin: 4px 0; display: flex; flex-wrap: wrap; gap: 4px 14px; align-items: center; }
figure.chart .toggles { font-size: 12px; margin: 4px 0 2px; display: flex; flex-wrap: wrap; gap: 2px 14px; align-items: center; }
figure.chart .controls label, figure.chart .toggles label { white-space: nowrap; cursor: pointer; }
figure.chart .toggles button { font-size: 11px; padding: 0 6px; }
figure.chart .legend .hint { color: #888; }
figure.chart .controls input[type=number] { width: 4em; }
figure.chart .swatch { display: inline-block; width: 16px; height: 0; border-top: 3px solid; vertical-align: middle; margin: 0 4px 0 2px; }
figure.chart .swatch.dashed { border-top-style: dashed; }
figure.chart .legend { font-size: 12px; min-height: 2.9em; margin-top: 2px; }
figure.chart .empty { color: #999; font-size: 16px; text-align: center; padding: 120px 0; }
.dygraph-annotation.hcx-spike { border: none; background: transparent; font-size: 12px; line-height: 16px; text-align: center; cursor: help; }
)css";
}

const char* dygraphs_page_script() {
  return R"js(
(function () {
  'use strict';
  // Tick labels with the fewest decimals that keep them distinct, as
  // tick_labels() in hcx's svg.cpp: k/M/B/T from 1e4, a shared exponent below 1e-3.
  var SUFFIX = ['', 'k', 'M', 'B', 'T'];
  function trim(s) {
    if (s.indexOf('.') >= 0) s = s.replace(/0+$/, '').replace(/\.$/, '');
    return s === '-0' ? '0' : s;
  }
  function tickLabels(vs) {
    var top = 0, out = [];
    vs.forEach(function (v) { top = Math.max(top, Math.abs(v)); });
    var k = top >= 1e4 ? Math.min(4, Math.floor(Math.log10(top) / 3)) : 0;
    var e = top > 0 && top < 1e-3 ? Math.floor(Math.log10(top)) : 0;
    for (var d = 0; d <= 12; ++d) {
      out = vs.map(function (v) {
        if (v === 0) return '0';
        if (k > 0) return trim((v / Math.pow(1000, k)).toFixed(d)) + SUFFIX[k];
        if (e < 0) return trim((v / Math.pow(10, e)).toFixed(d)) + 'e' + e;
        return trim(v.toFixed(d));
      });
      if (new Set(out).size === out.length) break;
    }
    return out;
  }
  function ticker(integer) {
    return function (a, b, pixels, opts, g, vals) {
      var ticks = Dygraph.numericTicks(a, b, pixels, opts, g, vals);
      if (integer) ticks = ticks.filter(function (t) { return Number.isInteger(t.v); });
      var shown = ticks.filter(function (t) { return t.label !== '' && t.label !== undefined; });
      var labels = tickLabels(shown.map(function (t) { return t.v; }));
      shown.forEach(function (t, i) { t.label = labels[i]; });
      return ticks;
    };
  }
  function value(v) {
    if (v === null || v === undefined || isNaN(v)) return '';
    var a = Math.abs(v);
    return a !== 0 && (a >= 1e6 || a < 1e-3) ? v.toExponential(3) : String(Number(v.toPrecision(4)));
  }
  function xValue(v) { return Math.abs(v) >= 1e4 ? Math.round(v).toLocaleString('en-US') : value(v); }

  function draw(fig, spec) {
    var data = spec.data.map(function (row) {
      return row.map(function (c, i) { return i > 0 && c === 'gap' ? [NaN, NaN, NaN] : c; });
    });
    var series = {};
    spec.labels.slice(1).forEach(function (l, i) { series[l] = { strokePattern: spec.dashed[i] ? [6, 3] : null }; });
    var ref = spec.ref_y;
    var g = new Dygraph(fig.querySelector('.plot'), data, {
      labels: spec.labels, colors: spec.colors, series: series,
      customBars: true, connectSeparatedPoints: true, fillAlpha: 0.18, strokeWidth: 1.6,
      xlabel: spec.xlabel, ylabel: spec.ylabel, logscale: spec.log_y, valueRange: spec.value_range,
      labelsDiv: fig.querySelector('.legend'), legend: 'always', labelsSeparateLines: false,
      legendFormatter: function (d) {  // at rest the toggles are the key
        return d.x === undefined ? '<span class="hint">hover over the chart for values</span>'
                                 : Dygraph.Plugins.Legend.defaultFormatter.call(this, d);
      },
      highlightCircleSize: 3, xLabelHeight: 16, yLabelWidth: 16, axisLabelFontSize: 11,
      axes: {
        x: { ticker: ticker(spec.integer_x), valueFormatter: xValue, axisLabelWidth: 56 },
        y: { ticker: ticker(false), valueFormatter: value, axisLabelWidth: 56 }
      },
      underlayCallback: ref === null ? null : function (ctx, area, dg) {
        var y = dg.toDomYCoord(ref);
        if (!(y >= area.y && y <= area.y + area.h)) return;
        ctx.save(); ctx.strokeStyle = '#444'; ctx.setLineDash([5, 4]);
        ctx.beginPath(); ctx.moveTo(area.x, y); ctx.lineTo(area.x + area.w, y); ctx.stroke(); ctx.restore();
      }
    });
    if (spec.annotations.length) g.setAnnotations(spec.annotations);

    function control(where, html, onChange) {
      var label = document.createElement('label');
      label.innerHTML = html;
      var input = label.querySelector('input');
      input.addEventListener('change', function () { onChange(input); });
      fig.querySelector(where).appendChild(label);
      return input;
    }
    var boxes = spec.labels.slice(1).map(function (l, i) {
      var box = control('.toggles', '<input type="checkbox" class="series" checked><span class="swatch' +
                        (spec.dashed[i] ? ' dashed' : '') + '"></span>', function (input) {
        g.setVisibility(i, input.checked);
      });
      box.parentNode.querySelector('.swatch').style.borderColor = spec.colors[i];
      box.parentNode.appendChild(document.createTextNode(l));
      box.title = 'show or hide ' + l;
      return box;
    });
    if (boxes.length > 3) {  // all or none at once
      ['all', 'none'].forEach(function (which) {
        var b = document.createElement('button');
        b.type = 'button';
        b.textContent = which;
        b.addEventListener('click', function () {
          boxes.forEach(function (box) { box.checked = which === 'all'; });
          g.setVisibility(boxes.map(function (_, i) { return i; }), which === 'all');
        });
        fig.querySelector('.toggles').appendChild(b);
      });
    }
    if (spec.log_x_control) {
      control('.controls', '<input type="checkbox" class="logx"> log x', function (input) {
        g.updateOptions({ axes: { x: { logscale: input.checked } } });
      });
    }
    control('.controls', 'smoothing <input type="number" class="roll" min="1" max="500" value="1"> points',
            function (input) {
      var n = Math.max(1, Math.min(500, parseInt(input.value, 10) || 1));
      input.value = n;
      g.adjustRoll(n);
    });
    fig.setAttribute('data-drawn', String(fig.querySelectorAll('.plot canvas').length));
    return g;
  }

  var graphs = [];
  document.querySelectorAll('script.hcx-chart').forEach(function (el) {
    var fig = el.closest('figure');
    try {
      graphs.push({ fig: fig, g: draw(fig, JSON.parse(el.textContent)) });
    } catch (err) {
      console.error('hcx chart ' + (fig ? fig.id : '?') + ': ' + err);
    }
  });

  if (location.hash !== '#hcx-selftest' || !graphs.length) return;
  // A user's session on the first chart, through the events a mouse sends.
  var first = graphs[0], g = first.g, fig = first.fig, out = {};
  out.charts = graphs.map(function (c) { return c.fig.id + ':' + c.fig.getAttribute('data-drawn'); });
  var row = Math.min(1, g.numRows() - 1), x = g.getValue(row, 0);
  var canvas = fig.querySelector('.plot canvas:last-of-type');
  var box = canvas.getBoundingClientRect(), area = g.getArea();
  var cx = box.left + g.toDomXCoord(x), cy = box.top + area.y + area.h / 2;
  canvas.dispatchEvent(new MouseEvent('mousemove', { bubbles: true, clientX: cx, clientY: cy }));
  out.hover = { x: x, row: g.getSelection(), legend: fig.querySelector('.legend').textContent };
  out.annotations = fig.querySelectorAll('.dygraph-annotation.hcx-spike').length;
  var box0 = fig.querySelector('.toggles input.series');
  box0.click();
  canvas.dispatchEvent(new MouseEvent('mousemove', { bubbles: true, clientX: cx + 1, clientY: cy }));
  out.toggle = { visibility: g.visibility(), legend: fig.querySelector('.legend').textContent };
  var logx = fig.querySelector('.controls input.logx');
  if (logx) { logx.click(); out.log_x = g.getOptionForAxis('logscale', 'x'); }
  var roll = fig.querySelector('.controls input.roll');
  roll.value = '2';
  roll.dispatchEvent(new Event('change'));
  out.roll = g.rollPeriod();
  var pre = document.createElement('pre');
  pre.id = 'hcx-selftest';
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
})();
)js";
}

}  // namespace hcx::report
