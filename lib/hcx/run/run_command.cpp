// `hcx run`: one run from its config to its rows in the database; see
// run_command.h. The only place where the store and the trainer meet.
#include "hcx/run/run_command.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>

#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <optional>
#include <thread>

#include <spdlog/spdlog.h>

#include "hcx/config/inputs.h"
#include "hcx/config/provenance.h"
#include "hcx/config/run_config.h"
#include "hcx/error.h"
#include "hcx/exec/outcome.h"
#include "hcx/grid/identity.h"
#include "hcx/store/db.h"
#include "hcx/store/reader.h"
#include "hcx/store/runs.h"
#include "hcx/store/shards.h"
#include "hcx/store/sqlite_sink.h"
#include "hcx/train/trainer.h"

namespace hcx::run {
namespace {

namespace fs = std::filesystem;

// The run this process has claimed, for the signal thread: a stop before
// training started is recorded from there (fenced by the attempt).
struct Claimed {
  std::mutex mu;
  std::filesystem::path db;
  std::string id;
  bool shard = false;              // the database is a run's shard (store::open_shard)
  std::optional<int64_t> attempt;  // nullopt: nothing claimed, or already finished
};
Claimed g_claimed;
// Set once training returned: the process records its own end and exits in a
// moment, so later signals change nothing (and must not race its exit).
std::atomic<bool> g_finishing{false};

void set_claimed(const std::filesystem::path& db, bool shard, const std::string& id,
                 std::optional<int64_t> attempt) {
  std::lock_guard<std::mutex> lock(g_claimed.mu);
  g_claimed.db = db;
  g_claimed.shard = shard;
  g_claimed.id = id;
  g_claimed.attempt = attempt;
}

[[noreturn]] void record_and_exit(int sig, const std::string& why) {
  std::lock_guard<std::mutex> lock(g_claimed.mu);
  const std::string what = std::string("stopped by ") + strsignal(sig) + " " + why;
  if (g_claimed.attempt) {
    try {
      store::Db db = g_claimed.shard ? store::open_shard(g_claimed.db) : store::open_db(g_claimed.db);
      store::finish_run(db, g_claimed.id, RunStatus::kInterrupted, what, g_claimed.attempt);
    } catch (const std::exception& e) {
      spdlog::error("run {}: could not record the stop: {}", g_claimed.id, e.what());
    }
  }
  spdlog::warn("{}; exiting", what);
  std::_Exit(kExitInterrupted);
}

// SIGINT, SIGTERM (Ctrl-C, a sweep stopping, a cluster preempting) and SIGUSR1
// (Slurm's warning before the time limit) mean "checkpoint and stop" once
// training runs; before the first step (building the model, loading data)
// there is nothing to checkpoint, and the process exits at once. A second
// signal always exits at once. The handler only writes the signal's number
// to a pipe (async-signal-safe, whichever thread takes it); a thread of its
// own reads it and may open the database, as a handler could not.
int g_signal_pipe[2] = {-1, -1};

void on_stop_signal(int sig) {
  train::request_stop();
  const unsigned char b = static_cast<unsigned char>(sig);
  [[maybe_unused]] ssize_t n = write(g_signal_pipe[1], &b, 1);
}

void signal_loop() {
  int count = 0;
  for (;;) {
    unsigned char b = 0;
    const ssize_t n = read(g_signal_pipe[0], &b, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n != 1) return;
    const int sig = b;
    if (g_finishing.load()) continue;
    ++count;
    if (count >= 2) record_and_exit(sig, "a second time (not waiting for the checkpoint)");
    if (!train::training_started()) record_and_exit(sig, "before training started (nothing to checkpoint)");
    spdlog::warn("{}: checkpointing at the end of this step (send it again to stop at once)", strsignal(sig));
  }
}

// Installs the handlers and starts the signal thread, once per process.
void start_signal_thread() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (pipe2(g_signal_pipe, O_CLOEXEC) != 0) throw io_error(std::string("pipe: ") + std::strerror(errno));
    std::thread(signal_loop).detach();
    struct sigaction sa = {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    for (int sig : {SIGINT, SIGTERM, SIGUSR1}) sigaction(sig, &sa, nullptr);
  });
}

int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v ? std::atoi(v) : fallback;
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
  config::RunConfig cfg = config::parse_or_throw(j, opts.config_path);
  config::resolve_input_paths(cfg, fs::path(opts.config_path).parent_path());  // data named relative to the file
  return cfg;
}

config::RunConfig config_from_db(store::Db& db, const std::string& run_id) {
  const std::optional<store::RunRecord> run = store::get_run(db, run_id);
  if (!run) throw bad_input("--run-id " + run_id + ": no such run in " + db.path().string());
  return config::parse_or_throw(config::Json::parse(run->config_json), "run " + run_id);
}

// The shard of a `--run-id ID --shard` run, which must hold its config.
store::Db existing_shard(const fs::path& path, const std::string& id) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec))
    throw bad_input("--run-id " + id + " --shard: no shard " + path.string() +
                    " (hcx sweep --executor slurm writes it, with the run's config, before submitting)");
  return store::open_shard(path);
}

}  // namespace

int run_command(const RunCommandOptions& opts) {
  if (opts.config_path.empty() == opts.run_id.empty())
    throw bad_input("hcx run: give either a CONFIG.json or --run-id ID (see hcx run --help)");
  if (!opts.run_id.empty() && !opts.overrides.empty())
    throw bad_input("hcx run: -s overrides apply to a CONFIG.json; a --run-id runs its stored config unchanged");
  start_signal_thread();
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
  const fs::path run_db_path = opts.shard ? store::shard_path(results, id) : db_path;
  store::Db db = opts.shard ? store::open_shard(run_db_path) : store::open_db(run_db_path);
  const fs::path ckpt_dir = results / "checkpoints" / id;
  store::check_tags(opts.tags);
  if (!opts.fresh) {
    if (auto st = store::run_state(db, id); st && st->status == RunStatus::kCompleted) {
      spdlog::info("run {} is already completed ({} steps); use --fresh to train it again", id, st->step);
      store::tag_run(db, id, opts.tags, opts.note);
      return kExitCompleted;
    }
  }

  // 3. claim it, in one transaction, unless another live process trains it
  //    (a shard belongs to its Slurm task, whatever an earlier node left there)
  store::StartInfo info;
  info.device = cfg.train.device;
  info.proc_start = exec::process_start_token(getpid());
  info.test_claim_delay_ms = env_int("HCX_TEST_CLAIM_DELAY_MS", 0);
  if (const char* restarts = std::getenv("SLURM_RESTART_COUNT")) info.attempt = std::atoll(restarts) + 1;
  const config::Provenance prov = config::run_provenance(cfg, "run " + id);  // exit 2 on an unreadable input file
  train::check_fits(cfg);  // exit 2 for a run that cannot fit this machine, before anything is written
  const std::string host = exec::this_host();
  const store::HolderAlive alive = [&](const store::RunState& row) {
    return !opts.shard && exec::running_row_alive(row, host);
  };
  const std::optional<int64_t> attempt = store::claim_run(db, id, info, alive, &cfg);
  if (!attempt) {
    const auto st = store::run_state(db, id);
    spdlog::error("run {} is being trained by pid {} on {} (attempt {}, heartbeat {:.0f} s ago); not starting it twice",
                  id, st ? st->pid.value_or(0) : 0, st ? st->host : "?", st ? st->attempt : 0,
                  st ? st->heartbeat_age_s.value_or(-1) : -1);
    return kExitBusy;
  }
  set_claimed(run_db_path, opts.shard, id, attempt);
  store::set_provenance(db, id, prov);
  store::tag_run(db, id, opts.tags, opts.note);
  if (opts.fresh) {
    std::error_code ec;
    fs::remove_all(ckpt_dir, ec);  // ours now: the claim succeeded
  }
  spdlog::info("run {}: {} on {} ({} steps), attempt {}{}", id, cfg.residual.kind, cfg.train.device, cfg.train.steps,
               *attempt, opts.shard ? ", shard " + run_db_path.string() : "");

  // 4. train, every write fenced by the attempt
  train::RunOptions ropts;
  ropts.run_id = id;
  ropts.checkpoint_dir = ckpt_dir;
  ropts.cache_dir = results / "cache";
  ropts.progress = opts.progress;
  ropts.db_id = store::database_id(db);
  ropts.attempt = *attempt;
  ropts.history_holds = [&db, &id](int64_t step) { return store::holds_steps(db, id, "train/loss", step); };
  train::RunOutcome outcome;
  auto lost = [&](const Error& e) {
    set_claimed(run_db_path, opts.shard, id, std::nullopt);
    spdlog::error("{}", e.what());
    return kExitBusy;
  };
  try {
    store::SqliteSink sink(db, id, attempt);
    try {
      outcome = train::train_run(cfg, ropts, sink);
      g_finishing.store(true);
      sink.flush();
    } catch (const Error& e) {
      g_finishing.store(true);
      if (e.kind() == ErrorKind::kBusy) throw;
      store::finish_run(db, id, RunStatus::kFailed, e.what(), attempt);
      set_claimed(run_db_path, opts.shard, id, std::nullopt);
      throw;
    } catch (const std::exception& e) {
      g_finishing.store(true);
      store::finish_run(db, id, RunStatus::kFailed, e.what(), attempt);
      set_claimed(run_db_path, opts.shard, id, std::nullopt);
      throw Error(ErrorKind::kRunFailed, "run " + id + " failed: " + e.what());
    }
  } catch (const Error& e) {
    if (e.kind() == ErrorKind::kBusy) return lost(e);
    throw;
  }
  if (!store::finish_run(db, id, outcome.status, outcome.error, attempt)) {
    return lost(Error(ErrorKind::kBusy, "run " + id + ": taken over by a newer attempt before it finished; its end (" +
                                            to_string(outcome.status) + ") is not recorded"));
  }
  set_claimed(run_db_path, opts.shard, id, std::nullopt);
  switch (outcome.status) {
    case train::RunStatus::kCompleted:
      spdlog::info("run {} completed: {} steps, {} tokens", id, outcome.step, outcome.tokens);
      return kExitCompleted;
    case train::RunStatus::kInterrupted:
      return kExitInterrupted;
    case train::RunStatus::kDiverged:
    case train::RunStatus::kFailed:
    case train::RunStatus::kPending:  // never how train_run() ends
    case train::RunStatus::kRunning:
      break;
  }
  return kExitFailed;
}

}  // namespace hcx::run
