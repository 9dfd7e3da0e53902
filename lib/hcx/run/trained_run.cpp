// Looking up a run's config and checkpoint folder by id (see trained_run.h).
#include "hcx/run/trained_run.h"

#include <vector>

#include <spdlog/spdlog.h>

#include "hcx/error.h"
#include "hcx/store/db.h"
#include "hcx/store/reader.h"

namespace hcx::run {

namespace fs = std::filesystem;

TrainedRun find_trained_run(const std::string& run_id, const std::string& db_path, const std::string& results_dir) {
  std::error_code ec;
  if (!fs::is_regular_file(db_path, ec))
    throw bad_input("--db " + db_path + ": no results database there (hcx run and hcx sweep write one; see --db)");
  store::Db db = store::open_db(db_path, store::OpenMode::kReadOnly);
  // An exact id, or a prefix only one run has.
  const std::vector<std::string> ids = store::match_run_id(store::run_ids(db), run_id);
  if (ids.empty()) throw bad_input("no run " + run_id + " in " + db_path + " (hcx status lists the runs)");
  if (ids.size() > 1) {
    std::string list;
    for (size_t i = 0; i < ids.size() && i < 5; ++i) list += (i ? ", " : "") + ids[i];
    throw bad_input("run id prefix " + run_id + " matches several runs in " + db_path + ": " + list +
                    (ids.size() > 5 ? ", ..." : ""));
  }
  const std::optional<store::RunRecord> record = store::get_run(db, ids.front());
  if (!record) throw bad_input("no run " + run_id + " in " + db_path + " (hcx status lists the runs)");
  TrainedRun run;
  run.id = record->id;
  run.status = record->status;
  run.cfg = config::parse_or_throw(config::Json::parse(record->config_json), "run " + run.id);
  const fs::path results = results_dir.empty() ? fs::path(db_path).parent_path() : fs::path(results_dir);
  run.checkpoint_dir = results / "checkpoints" / run.id;
  return run;
}

void warn_if_unfinished(const TrainedRun& run, int64_t step) {
  if (run.status != RunStatus::kCompleted)
    spdlog::warn("run {} is {}: using its checkpoint of step {} of {}", run.id, to_string(run.status), step,
                 run.cfg.train.steps);
}

}  // namespace hcx::run
