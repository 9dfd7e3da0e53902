// Terminal, Markdown and CSV renderings (see text.h).
#include "hcx/report/text.h"

#include <cmath>
#include <cstdio>

#include "hcx/report/table.h"
#include "hcx/util/text.h"

namespace hcx::report {
using util::csv_field;

namespace {

const char* ansi(Tone t) {
  switch (t) {
    case Tone::kGood: return "\033[32m";
    case Tone::kBad: return "\033[31m";
    case Tone::kWeak: return "\033[2m";
    case Tone::kHead: return "\033[1m";
    case Tone::kPlain: return "";
  }
  return "";
}

void write_aligned(const TextTable& t, std::ostream& out, bool color) {
  std::vector<std::vector<std::string>> texts = {t.header};
  for (const auto& row : t.rows) {
    texts.emplace_back();
    for (const auto& cell : row) texts.back().push_back(cell.text);
  }
  const std::vector<size_t> widths = util::column_widths(texts);
  if (color) out << "\033[1m";
  out << t.title;
  if (color) out << "\033[0m";
  out << "\n";
  for (size_t r = 0; r < texts.size(); ++r) {
    const util::CellStyle tone_of = [&](size_t c, const std::string& text) {
      const Tone tone = r == 0 ? Tone::kHead : t.rows[r - 1][c].tone;
      return color && tone != Tone::kPlain ? ansi(tone) + text + "\033[0m" : text;
    };
    out << util::aligned_line(texts[r], widths, t.numeric, tone_of) << "\n";
  }
}

std::string num(double v) {
  if (!std::isfinite(v)) return "";
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.12g", v);
  return buf;
}

std::string md_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '|') out += '\\';
    out += c;
  }
  return out;
}

}  // namespace

void render_terminal(const Report& report, std::ostream& out, bool color) {
  if (color) out << "\033[1m";
  out << "hcx report \u00b7 " << report_title(report);
  if (color) out << "\033[0m";
  out << "\n\n";
  for (const auto& t : report_tables(report)) {
    write_aligned(t, out, color);
    out << "\n";
  }
  for (const auto& line : report_footnotes(report)) {
    if (color) out << "\033[2m";
    out << line;
    if (color) out << "\033[0m";
    out << "\n";
  }
}

void render_markdown(const Report& report, std::ostream& out) {
  out << "# hcx report\n\n" << md_escape(report_title(report)) << "\n";
  for (const auto& t : report_tables(report)) {
    out << "\n## " << t.title << "\n\n|";
    for (const auto& h : t.header) out << " " << md_escape(h) << " |";
    out << "\n|";
    for (size_t c = 0; c < t.header.size(); ++c) out << (t.numeric[c] ? " ---: |" : " --- |");
    out << "\n";
    for (const auto& row : t.rows) {
      out << "|";
      for (const auto& cell : row) {
        const bool bold = cell.tone == Tone::kHead;
        out << " " << (bold ? "**" : "") << md_escape(cell.text) << (bold ? "**" : "") << " |";
      }
      out << "\n";
    }
  }
  out << "\n";
  for (const auto& line : report_footnotes(report)) out << "- " << md_escape(line) << "\n";
}

void render_csv(const Report& report, std::ostream& out) {
  std::vector<std::string> head = {"group", "baseline_group"};
  for (const auto& k : report.group_by) head.push_back(k);
  head.insert(head.end(), {"seeds", "seeds_expected", "missing"});
  auto stat_cols = [&](const std::string& name) {
    head.push_back(name + "_mean");
    head.push_back(name + "_std");
  };
  stat_cols("metric_final");
  stat_cols("metric_best");
  for (const auto& k : report.options.best_of.keys) head.push_back("best_" + k);
  head.push_back("collapsed");
  head.insert(head.end(), {"delta_n", "delta_mean", "delta_ci_low", "delta_ci_high", "delta_contains_zero",
                           "delta_mde", "delta_seeds_needed", "speedup", "speedup_target", "speedup_baseline_tokens", "speedup_tokens"});
  for (const char* s : {"val_final", "val_best", "train_final", "train_best", "loss_spikes", "grad_norm_spikes",
                        "tokens_per_s", "params"}) {
    stat_cols(s);
  }
  for (const auto& k : report.downstream_keys) stat_cols(k);
  for (size_t i = 0; i < head.size(); ++i) out << (i ? "," : "") << csv_field(head[i]);
  out << "\n";

  for (const auto& g : report.groups) {
    std::vector<std::string> row = {g.label, g.baseline_group ? report.groups[*g.baseline_group].label : ""};
    for (const auto& k : report.group_by) row.push_back(g.key.at(k));
    row.push_back(std::to_string(g.runs.size()));
    row.push_back(std::to_string(report.seeds.size()));
    std::string missing;
    for (const auto& m : g.missing) missing += (missing.empty() ? "" : ";") + m.seed + ":" + m.status;
    row.push_back(missing);
    auto stat = [&](const metrics::Summary& s) {
      row.push_back(s.n ? num(s.mean) : "");
      row.push_back(s.n > 1 ? num(s.std) : "");
    };
    stat(g.final_metric);
    stat(g.best_metric);
    for (const auto& k : report.options.best_of.keys) row.push_back(g.best_of ? g.best_of->chosen.at(k) : "");
    std::string collapsed;  // "run:reason;run:reason", empty when every run trained
    if (g.collapse) {
      for (const auto& c : g.collapse->runs) collapsed += (collapsed.empty() ? "" : ";") + c.run_id + ":" + c.reason;
    }
    row.push_back(collapsed);
    if (g.delta) {
      row.insert(row.end(), {std::to_string(g.delta->n), num(g.delta->mean), num(g.delta->ci_low),
                             num(g.delta->ci_high), g.delta->contains_zero() ? "true" : "false"});
      // seeds needed: a count, "above_cap" past PowerOptions::max_seeds, empty when not applicable
      const auto& need = g.power->needed;
      row.push_back(std::isfinite(g.power->mde) ? num(g.power->mde) : "");
      row.push_back(need.kind == metrics::SeedsNeeded::Kind::kFound      ? std::to_string(need.seeds)
                    : need.kind == metrics::SeedsNeeded::Kind::kAboveCap ? "above_cap"
                                                                         : "");
    } else {
      row.insert(row.end(), 7, "");
    }
    if (g.speedup) {
      const auto& s = g.speedup->group;
      row.insert(row.end(), {s.speedup ? num(*s.speedup) : "not reached", num(s.target), num(s.baseline_tokens),
                             s.variant_tokens ? num(*s.variant_tokens) : ""});
    } else {
      row.insert(row.end(), 4, "");
    }
    for (const auto* s : {&g.final_val, &g.best_val, &g.final_train, &g.best_train, &g.loss_spikes,
                          &g.grad_norm_spikes, &g.tokens_per_s, &g.params}) {
      stat(*s);
    }
    for (const auto& k : report.downstream_keys) {
      const auto it = g.downstream.find(k);
      stat(it == g.downstream.end() ? metrics::Summary{} : it->second);
    }
    for (size_t i = 0; i < row.size(); ++i) out << (i ? "," : "") << csv_field(row[i]);
    out << "\n";
  }
}

}  // namespace hcx::report
