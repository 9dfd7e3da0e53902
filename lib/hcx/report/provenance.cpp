// Provenance footnotes of a report (see provenance.h).
#include "hcx/report/provenance.h"

#include <algorithm>
#include <utility>

namespace hcx::report {
namespace {

// Distinct values in order of first appearance, with their counts.
using Tally = std::vector<std::pair<std::string, size_t>>;

void count(Tally& t, const std::string& value) {
  auto it = std::find_if(t.begin(), t.end(), [&](const auto& e) { return e.first == value; });
  if (it == t.end()) {
    t.emplace_back(value, 1);
  } else {
    ++it->second;
  }
}

std::string listing(const Tally& t) {
  std::string out;
  for (const auto& [value, n] : t) {
    out += (out.empty() ? "" : ", ") + value + " (" + std::to_string(n) + (n == 1 ? " run)" : " runs)");
  }
  return out;
}

// Data ids name one file each; several files make a long id: keep the first 40 characters.
std::string short_id(const std::string& id) { return id.size() <= 40 ? id : id.substr(0, 40) + "\u2026"; }

}  // namespace

std::vector<std::string> provenance_notes(const ReportInput& input, const std::vector<size_t>& indices) {
  Tally builds, data;
  for (size_t i : indices) {
    const config::Provenance& p = input.runs.at(i).provenance;
    if (!p.code_version.empty() || !p.code_commit.empty()) count(builds, config::build_label(p));
    if (!p.data_id.empty()) count(data, short_id(p.data_id));
  }
  std::vector<std::string> out;
  if (builds.size() > 1) {
    out.push_back("runs compared were trained by " + std::to_string(builds.size()) + " builds: " + listing(builds) +
                  "; hcx sweep --retrain-stale trains the stale ones again with this build");
  }
  if (data.size() > 1) {
    out.push_back("runs compared were trained on " + std::to_string(data.size()) +
                  " different data (runs.data_id): " + listing(data));
  }
  return out;
}

}  // namespace hcx::report
