// Provenance of a run: this build, its data, and staleness (see provenance.h).
#include "hcx/config/provenance.h"

#include "hcx/build_info.h"
#include "hcx/config/inputs.h"
#include "hcx/error.h"
#include "hcx/version.h"

namespace hcx::config {

Provenance this_build() { return {kVersion, build_commit(), ""}; }

Provenance run_provenance(const RunConfig& c, const std::string& where) {
  std::string problems;
  for (const auto& e : check_input_files(c)) problems += (problems.empty() ? "" : "\n") + (where.empty() ? e : where + ": " + e);
  if (!problems.empty()) throw bad_input(problems);
  Provenance p = this_build();
  p.data_id = data_id(c);
  return p;
}

std::string build_label(const Provenance& p) {
  const std::string& c = p.code_commit;
  // A 40-digit sha shortened to 7, keeping a "-dirty" mark.
  const size_t dash = c.find('-');
  const std::string sha = c.substr(0, dash);
  const std::string commit = (sha.size() > 7 ? sha.substr(0, 7) : sha) + (dash == std::string::npos ? "" : c.substr(dash));
  std::string label = p.code_version;
  if (!commit.empty()) label += (label.empty() ? "" : " ") + commit;
  return label.empty() ? "unknown" : label;
}

std::string stale_reason(const Provenance& trained, const Provenance& current) {
  auto differ = [](const std::string& a, const std::string& b) { return !a.empty() && !b.empty() && a != b; };
  std::string why;
  if (differ(trained.code_version, current.code_version) || differ(trained.code_commit, current.code_commit))
    why = "trained by " + build_label(trained);
  if (differ(trained.data_id, current.data_id)) why += (why.empty() ? "" : ", ") + std::string("data changed");
  return why;
}

}  // namespace hcx::config
