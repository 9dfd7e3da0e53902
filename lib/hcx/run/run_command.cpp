// `hcx run`: one run from its config to its rows in the database; see
// run_command.h. The only place where the store and the trainer meet.
#include "hcx/run/run_command.h"

#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>

#include <SQLiteCpp/Statement.h>
#include <spdlog/spdlog.h>

#include "hcx/config/run_config.h"
#include "hcx/error.h"
#include "hcx/exec/outcome.h"
#include "hcx/grid/identity.h"
#include "hcx/store/db.h"
#include "hcx/store/runs.h"
#include "hcx/store/shards.h"
#include "hcx/store/sqlite_sink.h"
#include "hcx/train/trainer.h"

namespace hcx::run {
namespace {

namespace fs = std::filesystem;

void on_stop_signal(int) { train::request_stop(); }

// SIGINT, SIGTERM (Ctrl-C, a sweep stopping, a cluster preempting) and SIGUSR1
// (Slurm's warning before the time limit) all mean "checkpoint and stop".
void install_stop_handlers() {
  struct sigaction sa = {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  for (int sig : {SIGINT, SIGTERM, SIGUSR1}) sigaction(sig, &sa, nullptr);
}

config::RunConfig config_from_file(const RunCommandOptions& opts) {
  config::Json j = config::read_json_file(opts.config_path);
  if (!j.is_object()) throw bad_input(opts.config_path + ": expected a JSON object with the run config");
  j = config::expand_dotted(j);
  for (const auto& o : opts.overrides) {
    const size_t eq = o.find('=');
    if (eq == std::string::npos || eq == 0) throw bad_input("-s " + o + ": expected key=value, e.g. -s train.lr=3e-3");
    config::Json patch = config::Json::object();
    config::set_dotted(patch, o.substr(0, eq), config::parse_value(o.substr(eq + 1)));
    j.merge_patch(patch);
  }
  return config::parse_or_throw(j, opts.config_path);
}

config::RunConfig config_from_db(store::Db& db, const std::string& run_id) {
  SQLite::Statement q(db.sql(), "SELECT config_json FROM runs WHERE id = ?");
  q.bind(1, run_id);
  if (!q.executeStep()) throw bad_input("--run-id " + run_id + ": no such run in " + db.path().string());
  return config::parse_or_throw(config::Json::parse(q.getColumn(0).getString()), "run " + run_id);
}

// The shard of a `--run-id ID --shard` run, which must hold its config.
store::Db existing_shard(const fs::path& path, const std::string& id) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec))
    throw bad_input("--run-id " + id + " --shard: no shard " + path.string() +
                    " (hcx sweep --executor slurm writes it, with the run's config, before submitting)");
  return store::open_shard(path);
}

std::string host_name() {
  char buf[256] = {};
  return gethostname(buf, sizeof buf - 1) == 0 ? std::string(buf) : "";
}

}  // namespace

int run_command(const RunCommandOptions& opts) {
  if (opts.config_path.empty() == opts.run_id.empty())
    throw bad_input("hcx run: give either a CONFIG.json or --run-id ID (see hcx run --help)");
  if (!opts.run_id.empty() && !opts.overrides.empty())
    throw bad_input("hcx run: -s overrides apply to a CONFIG.json; a --run-id runs its stored config unchanged");
  const fs::path db_path = opts.db;
  const fs::path results = opts.results_dir.empty() ? db_path.parent_path() : fs::path(opts.results_dir);

  // 1. the config: from the file, or stored with the run
  config::RunConfig cfg;
  std::string id = opts.run_id;
  if (!opts.config_path.empty()) {
    cfg = config_from_file(opts);
    id = grid::run_id(cfg);
  } else {
    // --shard (a cluster task): the coordinator wrote the config into the
    // run's own shard before submitting; the main database is not opened.
    store::Db src = opts.shard ? existing_shard(store::shard_path(results, id), id) : store::open_db(db_path);
    cfg = config_from_db(src, id);
  }
  if (!opts.device.empty()) cfg.train.device = opts.device;
  if (opts.threads >= 0) cfg.train.threads = opts.threads;
  for (const auto& e : config::validate(cfg)) throw bad_input(e);

  // 2. the database this run writes: the main one, or its own shard
  store::Db db = opts.shard ? store::open_shard(store::shard_path(results, id)) : store::open_db(db_path);
  store::upsert_run(db, id, cfg);
  const fs::path ckpt_dir = results / "checkpoints" / id;
  if (!opts.fresh) {
    if (auto st = store::run_state(db, id); st && st->status == "completed") {
      spdlog::info("run {} is already completed ({} steps); use --fresh to train it again", id, st->step);
      return kExitCompleted;
    }
  } else {
    std::error_code ec;
    fs::remove_all(ckpt_dir, ec);
  }

  // 3. claim it (unless another live process trains it) and train
  if (auto st = store::run_state(db, id); st && st->status == "running" && !opts.shard &&
      exec::running_row_alive(*st, exec::this_host())) {
    spdlog::error("run {} is being trained by pid {} on {} (heartbeat {:.0f} s ago); not starting it twice", id,
                  st->pid.value_or(0), st->host, st->heartbeat_age_s.value_or(-1));
    return kExitBusy;
  }
  store::StartInfo info;
  info.device = cfg.train.device;
  if (const char* restarts = std::getenv("SLURM_RESTART_COUNT")) info.attempt = std::atoll(restarts) + 1;
  store::start_run(db, id, info);
  spdlog::info("run {}: {} on {} ({} steps){}", id, cfg.residual.kind, cfg.train.device, cfg.train.steps,
               opts.shard ? ", shard " + store::shard_path(results, id).string() : "");
  install_stop_handlers();
  train::RunOptions ropts;
  ropts.run_id = id;
  ropts.checkpoint_dir = ckpt_dir;
  ropts.cache_dir = results / "cache";
  ropts.progress = opts.progress;
  train::RunOutcome outcome;
  {
    store::SqliteSink sink(db, id);
    try {
      outcome = train::train_run(cfg, ropts, sink);
      sink.flush();
    } catch (const Error& e) {
      store::finish_run(db, id, "failed", e.what());
      throw;
    } catch (const std::exception& e) {
      store::finish_run(db, id, "failed", e.what());
      throw Error(ErrorKind::kRunFailed, "run " + id + " failed: " + e.what());
    }
  }
  store::finish_run(db, id, train::to_string(outcome.status), outcome.error);
  switch (outcome.status) {
    case train::RunStatus::kCompleted:
      spdlog::info("run {} completed: {} steps, {} tokens", id, outcome.step, outcome.tokens);
      return kExitCompleted;
    case train::RunStatus::kInterrupted:
      return kExitInterrupted;
    case train::RunStatus::kDiverged:
    case train::RunStatus::kFailed:
      break;
  }
  return kExitFailed;
}

}  // namespace hcx::run
