// Choosing each group's best hyperparameters (see best_of.h).
#include "hcx/report/best_of.h"

#include <algorithm>
#include <set>

#include "hcx/error.h"
#include "hcx/report/select.h"

namespace hcx::report {
namespace {

std::string param(const RunData& r, const std::string& key) {
  const auto it = r.params.find(key);
  return it == r.params.end() ? "" : it->second;
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

// True when `seed` is listed in `seeds`, or `seeds` is empty (every seed).
bool in_seeds(const std::string& seed, const std::vector<std::string>& seeds) {
  if (seeds.empty()) return true;
  return std::any_of(seeds.begin(), seeds.end(), [&](const std::string& s) { return same_value(s, seed); });
}

std::optional<double> final_val(const RunData& r) {
  const auto it = r.curves.find("val/loss");
  if (it == r.curves.end()) return std::nullopt;
  for (auto v = it->second.values.rbegin(); v != it->second.values.rend(); ++v) {
    if (std::isfinite(*v)) return *v;
  }
  return std::nullopt;
}

bool values_less(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  for (size_t i = 0; i < a.size(); ++i) {
    if (value_less(a[i], b[i])) return true;
    if (value_less(b[i], a[i])) return false;
  }
  return false;
}

}  // namespace

void check_best_of(const ReportInput& in, const BestOfOptions& opt) {
  if (!opt.active()) {
    if (!opt.select_seeds.empty()) throw bad_input("--select-seeds needs --best-of KEY");
    if (!opt.report_seeds.empty()) throw bad_input("--report-seeds needs --best-of KEY");
    return;
  }
  std::set<std::string> keys;
  std::set<std::string, decltype(&value_less)> seeds(&value_less);
  for (const auto& r : in.runs) {
    for (const auto& [k, v] : r.params) keys.insert(k);
    seeds.insert(param(r, "seed"));
  }
  std::vector<Assignment> as_assign;
  for (const auto& k : opt.keys) as_assign.push_back({k, ""});
  check_keys(as_assign, std::vector<std::string>(keys.begin(), keys.end()), "--best-of");
  const std::vector<std::string> have(seeds.begin(), seeds.end());
  for (const auto* list : {&opt.select_seeds, &opt.report_seeds}) {
    const std::string flag = list == &opt.select_seeds ? "--select-seeds" : "--report-seeds";
    for (const auto& s : *list) {
      if (std::none_of(have.begin(), have.end(), [&](const std::string& h) { return same_value(h, s); })) {
        throw bad_input(flag + " " + s + ": no selected run has seed " + s + " (seeds: " + join(have) + ")");
      }
    }
  }
}

std::vector<BestOfChoice> choose_best_of(const ReportInput& in, const BestOfOptions& opt,
                                         const std::vector<std::string>& labels,
                                         std::vector<std::vector<size_t>>& members) {
  std::vector<BestOfChoice> out(members.size());
  for (size_t g = 0; g < members.size(); ++g) {
    std::map<std::vector<std::string>, std::pair<double, size_t>, decltype(&values_less)> score(&values_less);
    for (size_t i : members[g]) {
      const RunData& r = in.runs[i];
      std::vector<std::string> values;
      for (const auto& k : opt.keys) values.push_back(param(r, k));
      auto& [sum, n] = score[values];
      const auto v = final_val(r);
      if (r.status != RunStatus::kCompleted || !v || !in_seeds(param(r, "seed"), opt.select_seeds)) continue;
      sum += *v;
      ++n;
    }
    const BestOfCandidate* best = nullptr;
    for (const auto& [values, sn] : score) {
      BestOfCandidate c{values, sn.second, sn.second ? sn.first / static_cast<double>(sn.second) : std::nan("")};
      out[g].candidates.push_back(c);
    }
    for (const auto& c : out[g].candidates) {
      if (c.n && (!best || c.mean_val < best->mean_val)) best = &c;
    }
    const std::string seeds_text = opt.select_seeds.empty() ? "" : " on seeds " + join(opt.select_seeds);
    if (!best) throw bad_input(labels[g] + ": no completed run with a val/loss" + seeds_text + " to choose --best-of from");
    for (size_t k = 0; k < opt.keys.size(); ++k) out[g].chosen[opt.keys[k]] = best->values[k];
    std::vector<size_t> kept;
    for (size_t i : members[g]) {
      const RunData& r = in.runs[i];
      bool at = in_seeds(param(r, "seed"), opt.report_seeds);
      for (size_t k = 0; k < opt.keys.size(); ++k) at &= param(r, opt.keys[k]) == best->values[k];
      if (at) kept.push_back(i);
    }
    if (kept.empty()) {
      throw bad_input(labels[g] + ": no run left at its best " + join(best->values) + " on --report-seeds " +
                      join(opt.report_seeds));
    }
    members[g] = std::move(kept);
  }
  return out;
}

std::vector<std::string> best_of_footnotes(const BestOfOptions& opt, const std::vector<std::string>& all_seeds) {
  if (!opt.active()) return {};
  const std::vector<std::string>& sel = opt.select_seeds.empty() ? all_seeds : opt.select_seeds;
  const std::vector<std::string>& rep = opt.report_seeds.empty() ? all_seeds : opt.report_seeds;
  std::vector<std::string> out;
  out.push_back("best-of " + join(opt.keys) + ": each group at its own value with the lowest mean final val/loss on seeds " +
                join(sel) + "; figures from seeds " + join(rep) + ".");
  std::vector<std::string> both;
  for (const auto& s : rep) {
    if (in_seeds(s, sel)) both.push_back(s);
  }
  if (both.empty()) {
    out.push_back("best-of: chosen and reported on disjoint seeds, so the figures are not biased by the choice.");
  } else {
    out.push_back("best-of: seeds " + join(both) +
                  " both chose the value and are reported, so the chosen figures are biased low "
                  "(use --select-seeds and --report-seeds to hold seeds out).");
  }
  return out;
}

}  // namespace hcx::report
