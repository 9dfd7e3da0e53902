// Input checks and provenance lookups of a sweep (see provenance.h).
#include "hcx/sweep/provenance.h"

#include <map>
#include <memory>
#include <vector>

#include "hcx/config/inputs.h"
#include "hcx/config/provenance.h"
#include "hcx/error.h"
#include "hcx/store/runs.h"

namespace hcx::sweep {

void check_sweep_inputs(const grid::Expansion& ex, const std::string& experiment) {
  struct Seen {
    std::string first;  // "run <id> (<variant>)"
    size_t more = 0;
  };
  std::vector<std::string> order;  // problems in grid order
  std::map<std::string, Seen> seen;
  for (const auto& run : ex.runs) {
    for (const auto& e : config::check_input_files(run.config)) {
      auto [it, fresh] = seen.try_emplace(e);
      if (fresh) {
        it->second.first = "run " + run.id + " (" + run.variant + ")";
        order.push_back(e);
      } else {
        ++it->second.more;
      }
    }
  }
  if (order.empty()) return;
  std::string msg;
  for (const auto& e : order) {
    const Seen& s = seen.at(e);
    msg += (msg.empty() ? "" : "\n") + experiment + ": " + s.first + ": " + e;
    if (s.more) msg += " (and " + std::to_string(s.more) + (s.more == 1 ? " more run)" : " more runs)");
  }
  throw bad_input(msg);
}

grid::StatusLookup with_provenance(grid::StatusLookup lookup, const store::Db* db) {
  auto recorded = std::make_shared<const std::map<std::string, config::Provenance>>(
      db ? store::provenances(*db) : std::map<std::string, config::Provenance>{});
  return [lookup, recorded](const std::string& id) -> std::optional<grid::StoredRun> {
    auto stored = lookup(id);
    if (!stored) return stored;
    if (auto it = recorded->find(id); it != recorded->end()) stored->trained = it->second;
    return stored;
  };
}

grid::PlanOptions plan_options(bool retry_failed, bool retrain_stale, const grid::FlopsPerToken& flops) {
  grid::PlanOptions o;
  o.retry_failed = retry_failed;
  o.retrain_stale = retrain_stale;
  o.build = config::this_build();
  o.data_id = [](const config::RunConfig& c) { return config::data_id(c); };
  o.flops = flops;
  return o;
}

}  // namespace hcx::sweep
