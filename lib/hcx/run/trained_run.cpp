// Looking up a run's config and checkpoint folder by id (see trained_run.h).
#include "hcx/run/trained_run.h"

#include <vector>

#include <SQLiteCpp/Statement.h>
#include <spdlog/spdlog.h>

#include "hcx/error.h"
#include "hcx/store/db.h"

namespace hcx::run {

namespace fs = std::filesystem;

namespace {

constexpr size_t kMinPrefix = 4;

// The ids of the runs whose id is `id` exactly, else those starting with it.
std::vector<std::string> matching_ids(store::Db& db, const std::string& id) {
  std::vector<std::string> ids;
  SQLite::Statement exact(db.sql(), "SELECT id FROM runs WHERE id = ?");
  exact.bind(1, id);
  if (exact.executeStep()) return {id};
  if (id.size() < kMinPrefix) return ids;
  // substr() rather than LIKE, so '%' and '_' in the argument match only themselves.
  SQLite::Statement prefix(db.sql(), "SELECT id FROM runs WHERE substr(id, 1, ?) = ? ORDER BY id LIMIT 6");
  prefix.bind(1, static_cast<int64_t>(id.size()));
  prefix.bind(2, id);
  while (prefix.executeStep()) ids.push_back(prefix.getColumn(0).getString());
  return ids;
}

}  // namespace

TrainedRun find_trained_run(const std::string& run_id, const std::string& db_path, const std::string& results_dir) {
  std::error_code ec;
  if (!fs::is_regular_file(db_path, ec))
    throw bad_input("--db " + db_path + ": no results database there (hcx run and hcx sweep write one; see --db)");
  store::Db db = store::open_db(db_path, store::OpenMode::kReadOnly);
  TrainedRun run;
  std::string config_json;
  store::wrap_sql(db, [&] {
    const std::vector<std::string> ids = matching_ids(db, run_id);
    if (ids.empty())
      throw bad_input("no run " + run_id + " in " + db_path + " (hcx status lists the runs)");
    if (ids.size() > 1) {
      std::string list;
      for (const auto& id : ids) list += (list.empty() ? "" : ", ") + id;
      throw bad_input("run id prefix " + run_id + " matches several runs in " + db_path + ": " + list +
                      (ids.size() > 5 ? ", ..." : ""));
    }
    run.id = ids.front();
    SQLite::Statement q(db.sql(), "SELECT config_json, status FROM runs WHERE id = ?");
    q.bind(1, run.id);
    q.executeStep();
    config_json = q.getColumn(0).getString();
    run.status = q.getColumn(1).getString();
  });
  run.cfg = config::parse_or_throw(config::Json::parse(config_json), "run " + run.id);
  const fs::path results = results_dir.empty() ? fs::path(db_path).parent_path() : fs::path(results_dir);
  run.checkpoint_dir = results / "checkpoints" / run.id;
  return run;
}

void warn_if_unfinished(const TrainedRun& run, int64_t step) {
  if (run.status != "completed")
    spdlog::warn("run {} is {}: using its checkpoint of step {} of {}", run.id, run.status, step, run.cfg.train.steps);
}

}  // namespace hcx::run
