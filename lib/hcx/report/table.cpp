// The report's tables and footnotes as text cells (see table.h).
#include "hcx/report/table.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace hcx::report {
namespace {

const char* kMinus = "\u2212";  // typographic minus: aligns with '+' and reads as a sign
const char* kNone = "\u2014";   // em dash: no value

std::string join(const std::vector<std::string>& parts, const std::string& sep) {
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : sep) + p;
  return out;
}

std::string fmt_alpha(double a) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", a);
  return buf;
}

Cell mean_std_cell(const metrics::Summary& s, int decimals) { return {fmt_mean_std(s, decimals), Tone::kPlain}; }

Cell seeds_cell(const GroupResult& g, size_t expected) {
  const std::string text = std::to_string(g.runs.size()) + "/" + std::to_string(expected);
  return {text, g.missing.empty() ? Tone::kPlain : Tone::kBad};
}

Cell delta_cell(const GroupResult& g) {
  if (g.is_baseline) return {"baseline", Tone::kWeak};
  if (!g.delta) return {kNone, Tone::kWeak};
  const auto& d = *g.delta;
  if (d.contains_zero()) return {fmt_delta(d, 4) + " n.s.", Tone::kWeak};
  return {fmt_delta(d, 4), d.mean < 0 ? Tone::kGood : Tone::kBad};
}

// MDE and seeds for Δ (metrics/power.h): "—" without a Δ or a spread.
Cell mde_cell(const GroupResult& g) {
  if (!g.power || std::isnan(g.power->mde)) return {kNone, Tone::kWeak};
  return {fmt_fixed(g.power->mde, 4), Tone::kPlain};
}

Cell seeds_needed_cell(const GroupResult& g) {
  if (!g.power) return {kNone, Tone::kWeak};
  const auto& n = g.power->needed;
  switch (n.kind) {
    case metrics::SeedsNeeded::Kind::kFound: return {std::to_string(n.seeds), Tone::kPlain};
    case metrics::SeedsNeeded::Kind::kAboveCap:
      return {"> " + std::to_string(metrics::PowerOptions{}.max_seeds), Tone::kWeak};
    case metrics::SeedsNeeded::Kind::kNotApplicable: return {"n/a", Tone::kWeak};
  }
  return {kNone, Tone::kWeak};
}

Cell speedup_cell(const GroupResult& g) {
  if (!g.speedup) return {kNone, Tone::kWeak};
  const auto& s = g.speedup->group.speedup;
  if (!s) return {"not reached", Tone::kBad};
  const Tone tone = g.is_baseline ? Tone::kPlain : *s > 1.0 ? Tone::kGood : *s < 1.0 ? Tone::kBad : Tone::kPlain;
  return {fmt_fixed(*s, 2) + "\u00d7", tone};
}

Cell si_cell(const metrics::Summary& s) {
  if (s.n == 0) return {kNone, Tone::kWeak};
  return {fmt_si(s.mean), Tone::kPlain};
}

std::string short_name(const std::string& key) { return key.substr(key.rfind('.') + 1); }

// The chosen --best-of values of a group, "lr=0.003"; "" without --best-of.
std::string chosen_text(const GroupResult& g) {
  if (!g.best_of) return "";
  std::vector<std::string> parts;
  for (const auto& [k, v] : g.best_of->chosen) parts.push_back(short_name(k) + "=" + v);
  return join(parts, ", ");
}

// Collapsed groups by name, then the ranking and its best/worst claims.
// Printed only when there is something to say beyond the table: with
// --best-of, or when a group collapsed.
std::vector<std::string> ranking_footnotes(const Report& r) {
  std::vector<std::string> out;
  std::vector<std::string> unranked;
  for (size_t gi = 0; gi < r.groups.size(); ++gi) {
    const GroupResult& g = r.groups[gi];
    if (!g.collapse) continue;
    out.push_back(collapse_text(g.label, chosen_text(g), *g.collapse));
    if (std::find(r.ranking.begin(), r.ranking.end(), gi) == r.ranking.end()) unranked.push_back(g.label);
  }
  if (out.empty() && !r.options.best_of.active()) return out;
  std::vector<std::string> ranked;
  for (size_t gi : r.ranking) ranked.push_back(r.groups[gi].label + " " + fmt_fixed(r.groups[gi].final_metric.mean, 4));
  std::string line = "ranking by mean final " + r.options.metric + " (lowest first): " +
                     (ranked.empty() ? std::string("no group") : join(ranked, " < "));
  if (ranked.size() > 1) {
    line += "; best " + r.groups[r.ranking.front()].label + ", worst " + r.groups[r.ranking.back()].label;
  }
  out.push_back(line + ".");
  if (!unranked.empty()) {
    out.push_back("not ranked (collapsed; --include-collapsed ranks them): " + join(unranked, ", ") + ".");
  } else if (r.options.include_collapsed && out.size() > 1) {  // collapse lines, then the ranking
    out.push_back("collapsed groups are ranked (--include-collapsed).");
  }
  return out;
}

}  // namespace

std::string fmt_fixed(double v, int decimals) {
  if (std::isnan(v)) return kNone;
  if (std::isinf(v)) return v > 0 ? "\u221e" : std::string(kMinus) + "\u221e";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, std::abs(v));
  // No "−0.0000": a value that rounds to zero has no sign.
  bool zero = true;
  for (const char* c = buf; *c; ++c) zero &= *c == '0' || *c == '.';
  return (v < 0 && !zero ? kMinus : "") + std::string(buf);
}

std::string fmt_signed(double v, int decimals) {
  const std::string s = fmt_fixed(v, decimals);
  if (std::isnan(v) || s.rfind(kMinus, 0) == 0 || s.find_first_not_of("0.") == std::string::npos) return s;
  return "+" + s;
}

std::string fmt_mean_std(const metrics::Summary& s, int decimals) {
  if (s.n == 0 || std::isnan(s.mean)) return kNone;
  if (s.n == 1 || std::isnan(s.std)) return fmt_fixed(s.mean, decimals);
  return fmt_fixed(s.mean, decimals) + " \u00b1 " + fmt_fixed(s.std, decimals);
}

std::string fmt_si(double v) {
  if (std::isnan(v)) return kNone;
  const double a = std::abs(v);
  char buf[64];
  if (a >= 1e9) {
    std::snprintf(buf, sizeof buf, "%.2fG", v / 1e9);
  } else if (a >= 1e6) {
    std::snprintf(buf, sizeof buf, "%.2fM", v / 1e6);
  } else if (a >= 1e3) {
    std::snprintf(buf, sizeof buf, "%.2fk", v / 1e3);
  } else {
    std::snprintf(buf, sizeof buf, "%.0f", v);
  }
  return buf;
}

std::string fmt_delta(const metrics::PairedDifference& d, int decimals) {
  if (d.n < 2 || std::isnan(d.ci_low)) return fmt_signed(d.mean, decimals) + " (n=" + std::to_string(d.n) + ")";
  return fmt_signed(d.mean, decimals) + " [" + fmt_signed(d.ci_low, decimals) + ", " +
         fmt_signed(d.ci_high, decimals) + "]";
}

std::string report_title(const Report& r) {
  std::string t = r.sweep.empty() ? "all runs" : "sweep " + r.sweep;
  t += " \u00b7 " + std::to_string(r.total_runs) + (r.total_runs == 1 ? " run" : " runs");
  t += " \u00b7 seeds " + join(r.seeds, ", ");
  t += " \u00b7 baseline " + r.options.baseline.first + "=" + r.options.baseline.second;
  t += " \u00b7 metric " + r.options.metric;
  return t;
}

std::vector<TextTable> report_tables(const Report& r) {
  const std::string& m = r.options.metric;
  const bool extra_val = m != "val/loss";
  const bool extra_train = m != "train/loss";
  TextTable t;
  t.title = "Comparison";
  const std::vector<std::string>& tuned = r.options.best_of.keys;
  t.header = {"group", "seeds", m + " final", m + " best", "\u0394 vs baseline [95% CI]", "MDE", "seeds for \u0394",
              "speed-up"};
  if (extra_val) t.header.insert(t.header.end(), {"val/loss final", "val/loss best"});
  if (extra_train) t.header.insert(t.header.end(), {"train loss final", "train loss best"});
  t.header.insert(t.header.end(), {"loss spikes", "gnorm spikes", "tok/s", "params"});
  for (size_t k = 0; k < tuned.size(); ++k) t.header.insert(t.header.begin() + 1 + k, "best " + tuned[k]);
  t.numeric.assign(t.header.size(), true);
  t.numeric[0] = false;
  const size_t expected = r.seeds.size();
  for (const auto& g : r.groups) {
    std::vector<Cell> row = {{g.label + (g.collapse ? " (collapsed)" : ""), g.is_baseline ? Tone::kHead
                                                                            : g.collapse ? Tone::kBad
                                                                                         : Tone::kPlain},
                             seeds_cell(g, expected),
                             mean_std_cell(g.final_metric, 4),
                             mean_std_cell(g.best_metric, 4),
                             delta_cell(g),
                             mde_cell(g),
                             seeds_needed_cell(g),
                             speedup_cell(g)};
    if (extra_val) {
      row.push_back(mean_std_cell(g.final_val, 4));
      row.push_back(mean_std_cell(g.best_val, 4));
    }
    if (extra_train) {
      row.push_back(mean_std_cell(g.final_train, 4));
      row.push_back(mean_std_cell(g.best_train, 4));
    }
    row.push_back(mean_std_cell(g.loss_spikes, 1));
    row.push_back(mean_std_cell(g.grad_norm_spikes, 1));
    row.push_back(si_cell(g.tokens_per_s));
    row.push_back(si_cell(g.params));
    for (size_t k = 0; k < tuned.size(); ++k) {
      row.insert(row.begin() + 1 + static_cast<std::ptrdiff_t>(k), Cell{g.best_of ? g.best_of->chosen.at(tuned[k]) : kNone});
    }
    t.rows.push_back(std::move(row));
  }
  std::vector<TextTable> out = {std::move(t)};
  if (!r.downstream_keys.empty()) {
    TextTable d;
    d.title = "Downstream (last evaluation of each run)";
    d.header = {"group"};
    d.header.insert(d.header.end(), r.downstream_keys.begin(), r.downstream_keys.end());
    d.numeric.assign(d.header.size(), true);
    d.numeric[0] = false;
    for (const auto& g : r.groups) {
      std::vector<Cell> row = {{g.label, g.is_baseline ? Tone::kHead : Tone::kPlain}};
      for (const auto& k : r.downstream_keys) {
        const auto it = g.downstream.find(k);
        row.push_back(it == g.downstream.end() ? Cell{kNone, Tone::kWeak} : mean_std_cell(it->second, 3));
      }
      d.rows.push_back(std::move(row));
    }
    out.push_back(std::move(d));
  }
  return out;
}

std::vector<std::string> report_footnotes(const Report& r) {
  const std::string& m = r.options.metric;
  std::vector<std::string> out;
  out.push_back("mean \u00b1 std over the completed runs of each group (sample std, n\u22121).");
  out.push_back("\u0394: mean over pairs (" + join(r.pair_keys, ", ") + ") of group \u2212 baseline final " + m +
                "; 95% CI from Student's t with n\u22121 df; n.s. = the interval contains 0.");
  out.push_back("MDE: the smallest |\u0394| these n seeds detect (\u03b1=0.05 two-sided, power 0.8), "
                "(t_{0.975,n\u22121} + t_{0.8,n\u22121})\u00b7s/\u221an with s the std of the paired differences; "
                "seeds for \u0394: the smallest n at which that formula reaches the observed |\u0394| "
                "(> 10000: out of reach; n/a: s or \u0394 is 0).");
  out.push_back("speed-up: tokens the baseline needed to reach its own final smoothed " + m +
                " \u00f7 tokens this group needed (seed-mean curves, EMA \u03b1=" + fmt_alpha(smoothing_alpha(m)) +
                "; tokens = step \u00d7 train.batch_size \u00d7 model.seq_len \u00d7 train.grad_accum).");
  out.push_back("train loss: EMA \u03b1=" + fmt_alpha(kTrainAlpha) +
                " of the per-step loss, final = last smoothed value, best = its minimum; validation as recorded.");
  if (!r.spike_rule.empty()) out.push_back("spikes per run: " + r.spike_rule + " (OLMo 2 spike rule).");
  for (const auto& g : r.groups) {
    if (g.missing.empty()) continue;
    std::vector<std::string> parts;
    for (const auto& miss : g.missing) {
      parts.push_back("seed " + miss.seed + " (" + miss.status +
                      (miss.run_id.empty() ? "" : ", run " + miss.run_id) + ")");
    }
    out.push_back("missing in " + g.label + ": " + join(parts, ", "));
  }
  for (auto& line : best_of_footnotes(r.options.best_of, r.all_seeds)) out.push_back(std::move(line));
  for (auto& line : ranking_footnotes(r)) out.push_back(std::move(line));
  for (const auto& n : r.notes) out.push_back("note: " + n);
  return out;
}

}  // namespace hcx::report
