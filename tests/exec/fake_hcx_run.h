// Include from ONE test file only (it holds a static initializer).
// A stand-in for `hcx run --run-id ID --db PATH ...` inside the test binary:
// when test_exec is started with "run" as its first argument it plays the
// trainer (through the real store API) and exits before GoogleTest starts.
// It follows hcx run's contract: records running -> completed | diverged |
// interrupted, heartbeats, prints hcx-progress lines, checkpoints (keeps
// runs.step) and exits 3 on SIGTERM, resumes an interrupted run from its step.
// Behaviour by train.lr: 0.666 diverges at step 2 (exit 1), 0.777 kills
// itself with SIGKILL at step 2, 0.888 exits 2 without touching the run;
// anything else trains. HCX_FAKE_STEP_MS (default 2) is the time per step.
// The "loss" at step s of a run with seed k is 10 / (s + 1) + k / 100.
#pragma once

#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "hcx/config/run_config.h"
#include "hcx/store/db.h"
#include "hcx/store/runs.h"
#include "hcx/store/sqlite_sink.h"

namespace hcx::exec::fake {

// The loss the fake records at `step` for seed `seed`.
inline double fake_loss(long seed, long step) {
  return 10.0 / static_cast<double>(step + 1) + static_cast<double>(seed) / 100;
}

namespace {

volatile sig_atomic_t g_stop = 0;
void on_term(int) { g_stop = 1; }

std::vector<std::string> own_argv() {
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  const std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::string> args;
  size_t start = 0;
  for (size_t z = all.find('\0'); z != std::string::npos; z = all.find('\0', start)) {
    args.push_back(all.substr(start, z - start));
    start = z + 1;
  }
  return args;
}

int fake_run(const std::vector<std::string>& args) {
  std::string id, db_path = "results/hcx.db", device, threads;
  for (size_t i = 2; i + 1 < args.size(); ++i) {
    if (args[i] == "--run-id") id = args[i + 1];
    if (args[i] == "--db") db_path = args[i + 1];
    if (args[i] == "--device") device = args[i + 1];
    if (args[i] == "--threads") threads = args[i + 1];
  }
  struct sigaction sa {};
  sa.sa_handler = on_term;
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);

  store::Db db = store::open_db(db_path);
  std::string config_text;
  {
    SQLite::Statement st(db.sql(), "SELECT config_json FROM runs WHERE id = ?");
    st.bind(1, id);
    if (!st.executeStep()) {
      std::fprintf(stderr, "fake hcx run: unknown run %s\n", id.c_str());
      return 2;
    }
    config_text = st.getColumn(0).getString();
  }
  const config::RunConfig cfg = config::parse_or_throw(config::Json::parse(config_text));
  if (cfg.train.lr == 0.888) {
    std::fprintf(stderr, "fake hcx run: bad config\n");
    return 2;
  }
  const auto before = store::run_state(db, id);
  int64_t step = 0;
  if (before && before->status == "interrupted") {
    step = before->step;
    std::fprintf(stderr, "fake hcx run: resuming from step %ld\n", static_cast<long>(step));
  }
  store::StartInfo info;
  info.device = device;
  store::start_run(db, id, info);
  std::fprintf(stderr, "fake hcx run: device=%s threads=%s\n", device.c_str(), threads.c_str());
  const char* ms_env = std::getenv("HCX_FAKE_STEP_MS");
  const int ms = ms_env ? std::atoi(ms_env) : 2;
  store::SqliteSink sink(db, id);
  if (step > 0) sink.resume_from(step);
  const int64_t tokens_per_step = cfg.train.batch_size * cfg.model.seq_len;
  while (step < cfg.train.steps) {
    if (g_stop) {
      sink.flush();
      store::finish_run(db, id, "interrupted");
      std::fprintf(stderr, "fake hcx run: checkpoint at step %ld, interrupted\n", static_cast<long>(step));
      return 3;
    }
    usleep(static_cast<useconds_t>(ms) * 1000);
    ++step;
    if (step == 2 && cfg.train.lr == 0.666) {
      sink.flush();
      store::finish_run(db, id, "diverged", "loss is NaN at step 2");
      std::fprintf(stderr, "fake hcx run: diverged\n");
      return 1;
    }
    if (step == 2 && cfg.train.lr == 0.777) {
      sink.flush();
      std::fprintf(stderr, "fake hcx run: about to be killed\n");
      raise(SIGKILL);
    }
    const double loss = fake_loss(static_cast<long>(cfg.seed), static_cast<long>(step));
    sink.scalar(step, "train/loss", loss);
    sink.progress(step, step * tokens_per_step);
    sink.flush();
    std::fprintf(stderr, "hcx-progress step=%ld/%ld loss=%.4f tokens_per_s=1000 eta_s=%.1f\n",
                 static_cast<long>(step), static_cast<long>(cfg.train.steps), loss,
                 (cfg.train.steps - step) * ms / 1000.0);
  }
  sink.summary("final_train_loss", fake_loss(static_cast<long>(cfg.seed), static_cast<long>(step)));
  sink.flush();
  store::finish_run(db, id, "completed");
  return 0;
}

const bool g_is_fake = [] {
  const auto args = own_argv();
  if (args.size() < 2 || args[1] != "run") return false;
  int code = 2;
  try {
    code = fake_run(args);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fake hcx run: %s\n", e.what());
    code = 1;
  }
  std::fflush(stderr);
  _exit(code);
}();

}  // namespace

}  // namespace hcx::exec::fake
