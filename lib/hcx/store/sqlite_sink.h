// The trainer's MetricSink on SQLite (metrics/sink.h): a run's curves,
// spikes, evals, diagnostics and summary land in the results database, one
// transaction per log interval.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "hcx/metrics/sink.h"
#include "hcx/store/db.h"

namespace hcx::store {

// Buffers every row in memory and writes them in ONE transaction per flush():
// scalars -> metrics, spike -> spikes, eval -> evals, layer_stat ->
// layer_stats, matrix -> hc_matrices (values as a JSON list), summary -> the
// runs summary columns for the keys of summary_columns() (runs.h), run_summary
// otherwise. The same transaction sets runs.step/tokens from the latest
// progress() and runs.heartbeat_at = now, so each flush is also a heartbeat.
// Rows are written with INSERT OR REPLACE: a step recorded twice keeps the
// last value.
//
// Contracts:
//  - Rows become visible to other connections only after flush(). Every
//    flush() commits exactly one transaction, even with nothing buffered
//    (then it only heartbeats).
//  - A busy database is retried (write_txn); the buffer is cleared only after
//    the commit, so a failed flush() throws Error(kIo) and keeps the rows for
//    the next one.
//  - resume_from(step) flushes what is buffered, then, in one transaction,
//    deletes this run's rows with step > `step` from metrics, spikes, evals,
//    layer_stats and hc_matrices and sets runs.step = `step`: the resumed run
//    rewrites them.
//  - The destructor flushes what is left; errors there are logged, not thrown.
//  - `db` must outlive the sink; one sink per run, used from one thread. The
//    run row should exist (upsert_run) for progress to be recorded; rows of a
//    run without one are still written.
//  - Fencing: given the `attempt` that claimed the run (claim_run), every
//    flush() and resume_from() first checks, in its transaction, that the row
//    is still that attempt's; when a newer attempt has taken the run over they
//    write nothing and throw Error(kBusy), and the sink writes nothing more
//    (not even from its destructor). A stale process cannot heartbeat, record
//    metrics or delete rows of a run it no longer owns.
class SqliteSink : public metrics::MetricSink {
 public:
  SqliteSink(Db& db, std::string run_id, std::optional<int64_t> attempt = std::nullopt);
  ~SqliteSink() override;
  SqliteSink(const SqliteSink&) = delete;
  SqliteSink& operator=(const SqliteSink&) = delete;

  void scalar(int64_t step, std::string_view name, double value) override;
  void spike(const metrics::SpikeRow& row) override;
  void eval(int64_t step, std::string_view task, std::string_view metric, double value) override;
  void layer_stat(int64_t step, int64_t layer, std::string_view name, double value) override;
  void matrix(const metrics::MatrixRow& row) override;
  void summary(std::string_view key, double value) override;
  void progress(int64_t step, int64_t tokens) override;
  void resume_from(int64_t step) override;
  void flush() override;

  const std::string& run_id() const { return run_id_; }
  // Rows waiting for the next flush() (all kinds together).
  std::size_t pending() const;

 private:
  struct Scalar { int64_t step; std::string name; double value; };
  struct Eval { int64_t step; std::string task, metric; double value; };
  struct LayerStat { int64_t step, layer; std::string name; double value; };
  struct Summary { std::string key; double value; };

  void write_buffer();
  void clear_buffer();

  // write_txn(fn) that marks the sink lost_ when fn finds the run taken over.
  void fenced_txn(const std::function<void()>& fn);
  // The runs UPDATE of a flush: progress/heartbeat, fenced by attempt_.
  void write_run_row(const std::optional<std::pair<int64_t, int64_t>>& progress);

  Db& db_;
  std::string run_id_;
  std::optional<int64_t> attempt_;
  bool lost_ = false;  // taken over by a newer attempt: write nothing more
  std::vector<Scalar> scalars_;
  std::vector<metrics::SpikeRow> spikes_;
  std::vector<Eval> evals_;
  std::vector<LayerStat> layer_stats_;
  std::vector<metrics::MatrixRow> matrices_;
  std::vector<Summary> summaries_;
  std::optional<std::pair<int64_t, int64_t>> progress_;  // (step, tokens)
};

}  // namespace hcx::store
