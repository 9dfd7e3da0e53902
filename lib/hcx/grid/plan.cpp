// Sweep planning against a status lookup, and the dry-run renderings.
#include "hcx/grid/plan.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iterator>

#include "hcx/util/text.h"

namespace hcx::grid {
namespace {

const char* color_of(PlanAction s) {
  switch (s) {
    case PlanAction::kNew: return "\x1b[36m";      // cyan
    case PlanAction::kResume: return "\x1b[33m";   // yellow
    case PlanAction::kRetry: return "\x1b[35m";    // magenta
    case PlanAction::kDone: return "\x1b[32m";     // green
    case PlanAction::kFailed: return "\x1b[31m";   // red
    case PlanAction::kRunning: return "\x1b[34m";  // blue
    case PlanAction::kRetrain: return "\x1b[35m";  // magenta, like retry
  }
  return "";
}

// The state column: the stored status where it says more ("diverged").
std::string state_text(const PlannedRun& p) {
  if (p.action == PlanAction::kFailed && p.status == RunStatus::kDiverged) return "diverged";
  if (p.action == PlanAction::kDone && !p.stale.empty()) return "stale";
  return to_string(p.action);
}

}  // namespace

const char* to_string(PlanAction s) {
  switch (s) {
    case PlanAction::kNew: return "new";
    case PlanAction::kResume: return "resume";
    case PlanAction::kRetry: return "retry";
    case PlanAction::kDone: return "done";
    case PlanAction::kFailed: return "failed";
    case PlanAction::kRunning: return "running";
    case PlanAction::kRetrain: return "retrain";
  }
  return "new";
}

int64_t run_tokens(const config::RunConfig& c) {
  return c.train.steps * c.train.batch_size * c.train.grad_accum * c.model.seq_len;
}

Plan make_plan(const Expansion& ex, const StatusLookup& lookup, bool retry_failed, const FlopsPerToken& flops) {
  PlanOptions o;
  o.retry_failed = retry_failed;
  o.flops = flops;
  return make_plan(ex, lookup, o);
}

Plan make_plan(const Expansion& ex, const StatusLookup& lookup, const PlanOptions& o) {
  const bool retry_failed = o.retry_failed;
  const FlopsPerToken& flops = o.flops;
  Plan plan;
  for (size_t i = 0; i < ex.runs.size(); ++i) {
    const auto& run = ex.runs[i];
    PlannedRun p;
    p.index = i;
    const auto stored = lookup ? lookup(run.id) : std::nullopt;
    if (stored) p.status = stored->status;
    const RunStatus s = p.status.value_or(RunStatus::kPending);
    if (s == RunStatus::kPending) {
      p.action = PlanAction::kNew;
    } else if (s == RunStatus::kCompleted) {
      config::Provenance current = o.build;
      // Hash the data only where there is a recorded id to compare it with.
      if (o.data_id && !stored->trained.data_id.empty()) current.data_id = o.data_id(run.config);
      p.stale = config::stale_reason(stored->trained, current);
      if (!p.stale.empty()) ++plan.n_stale;
      p.action = !p.stale.empty() && o.retrain_stale ? PlanAction::kRetrain : PlanAction::kDone;
    } else if (s == RunStatus::kInterrupted || (s == RunStatus::kRunning && !stored->alive)) {
      p.action = PlanAction::kResume;
    } else if (s == RunStatus::kRunning) {
      p.action = PlanAction::kRunning;
    } else {  // failed or diverged
      p.action = retry_failed ? PlanAction::kRetry : PlanAction::kFailed;
    }
    const int64_t total = run_tokens(run.config);
    plan.tokens_total += total;
    if (p.trains()) {
      p.steps_done = p.action == PlanAction::kResume ? std::clamp<int64_t>(stored->step, 0, run.config.train.steps) : 0;
      p.tokens_left = total / run.config.train.steps * (run.config.train.steps - p.steps_done);
      p.flops_left = flops ? flops(run.config) * static_cast<double>(p.tokens_left) : 0.0;
      plan.tokens_left += p.tokens_left;
      plan.flops_left += p.flops_left;
    }
    switch (p.action) {
      case PlanAction::kNew: ++plan.n_new; break;
      case PlanAction::kResume: ++plan.n_resume; break;
      case PlanAction::kRetry: ++plan.n_retry; break;
      case PlanAction::kDone: ++plan.n_done; break;
      case PlanAction::kFailed: ++plan.n_failed; break;
      case PlanAction::kRunning: ++plan.n_running; break;
      case PlanAction::kRetrain: ++plan.n_retrain; break;
    }
    plan.runs.push_back(p);
  }
  return plan;
}

std::vector<std::string> stale_lines(const Expansion& ex, const Plan& plan) {
  std::vector<std::string> out;
  for (const auto& p : plan.runs) {
    if (!p.stale.empty()) out.push_back("#" + std::to_string(p.index + 1) + " " + ex.runs[p.index].id + ": " + p.stale);
  }
  return out;
}

std::string human_count(double v) {
  static const char* const kSuffix[] = {"", "K", "M", "G", "T", "P", "E"};
  int i = 0;
  while (std::fabs(v) >= 1000 && i < 6) {
    v /= 1000;
    ++i;
  }
  char buf[32];
  if (i == 0) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
  } else {
    std::snprintf(buf, sizeof buf, v < 9.995 ? "%.2f%s" : v < 99.95 ? "%.1f%s" : "%.0f%s", v, kSuffix[i]);
  }
  return buf;
}

std::string render_plan(const Expansion& ex, const Plan& plan, bool color) {
  struct Row {
    std::string cells[7];
    PlanAction action;
  };
  std::vector<Row> rows;
  rows.push_back({{"#", "id", "state", "variant", "keys", "steps", "tokens"}, PlanAction::kNew});
  for (const auto& p : plan.runs) {
    const auto& run = ex.runs[p.index];
    std::string steps = std::to_string(run.config.train.steps);
    if (p.action == PlanAction::kResume) steps = std::to_string(p.steps_done) + "/" + steps;
    rows.push_back(
        {{std::to_string(p.index + 1), run.id, state_text(p), run.variant, run.label.empty() ? "-" : run.label, steps,
          human_count(static_cast<double>(run_tokens(run.config)))},
         p.action});
  }
  std::vector<std::vector<std::string>> cells;
  for (const auto& r : rows) cells.emplace_back(std::begin(r.cells), std::end(r.cells));
  const std::vector<size_t> widths = util::column_widths(cells);
  const std::vector<bool> right = {true, false, false, false, false, true, true};  // #, steps, tokens

  std::string out = "sweep " + ex.name + " (" + ex.source + "): " + std::to_string(ex.runs.size()) + " runs\n";
  for (size_t r = 0; r < rows.size(); ++r) {
    const util::CellStyle state_colour = [&](size_t c, const std::string& text) {
      return color && r > 0 && c == 2 ? color_of(rows[r].action) + text + "\x1b[0m" : text;
    };
    out += util::aligned_line(cells[r], widths, right, state_colour) + "\n";
  }

  out += "\n" + std::to_string(ex.runs.size()) + " runs: " + std::to_string(plan.n_new) + " new, " +
         std::to_string(plan.n_resume) + " resume, " + std::to_string(plan.n_done) + " done, " +
         std::to_string(plan.n_failed) + " failed";
  if (plan.n_retry) out += ", " + std::to_string(plan.n_retry) + " retry";
  if (plan.n_running) out += ", " + std::to_string(plan.n_running) + " running elsewhere";
  if (plan.n_retrain) out += ", " + std::to_string(plan.n_retrain) + " retrain";
  if (ex.duplicates) out += "; " + std::to_string(ex.duplicates) + " duplicate points collapsed";
  if (ex.excluded) out += "; " + std::to_string(ex.excluded) + " points excluded";
  out += "\nto train: " + std::to_string(plan.to_train()) + " runs, " +
         human_count(static_cast<double>(plan.tokens_left)) + " tokens";
  if (plan.flops_left > 0) out += ", " + human_count(plan.flops_left) + "FLOP";
  out += " (whole sweep: " + human_count(static_cast<double>(plan.tokens_total)) + " tokens)\n";
  if (plan.n_failed) out += "failed runs are skipped; --retry-failed trains them again\n";
  if (plan.n_stale) {
    out += std::to_string(plan.n_stale) + (plan.n_stale == 1 ? " completed run is" : " completed runs are") +
           " stale (trained by another build or on other data)" +
           (plan.n_retrain ? ": retrained from step 0 (--retrain-stale)\n"
                           : " and skipped; --retrain-stale trains them again from step 0\n");
    for (const auto& line : stale_lines(ex, plan)) out += "  " + line + "\n";
  }
  return out;
}

config::Json plan_json(const Expansion& ex, const Plan& plan) {
  config::Json runs = config::Json::array();
  for (const auto& p : plan.runs) {
    const auto& run = ex.runs[p.index];
    config::Json point = config::Json::object();
    for (const auto& [k, v] : run.point) point[k] = v;
    runs.push_back({{"id", run.id},
                    {"state", to_string(p.action)},
                    {"status", p.status ? to_string(*p.status) : ""},
                    {"variant", run.variant},
                    {"label", run.label},
                    {"point", point},
                    {"steps", run.config.train.steps},
                    {"steps_done", p.steps_done},
                    {"tokens_left", p.tokens_left},
                    {"flops_left", p.flops_left},
                    {"stale", p.stale}});
  }
  return {{"sweep", ex.name},
          {"source", ex.source},
          {"runs", runs},
          {"totals",
           {{"runs", ex.runs.size()},
            {"new", plan.n_new},
            {"resume", plan.n_resume},
            {"retry", plan.n_retry},
            {"done", plan.n_done},
            {"failed", plan.n_failed},
            {"running", plan.n_running},
            {"stale", plan.n_stale},
            {"retrain", plan.n_retrain},
            {"duplicates", ex.duplicates},
            {"excluded", ex.excluded},
            {"tokens_left", plan.tokens_left},
            {"tokens_total", plan.tokens_total},
            {"flops_left", plan.flops_left}}}};
}

}  // namespace hcx::grid
