// The results database schema (docs/architecture.md, "Who owns each table"). One statement
// list per version; open_db() applies the missing ones in order and sets
// PRAGMA user_version. Never edit a released version: add the next one.
//
// Conventions: timestamps are UTC ISO-8601 text;
// every table keyed by run has a primary key that makes a row's identity
// explicit, so writes are INSERT OR REPLACE and a shard merged twice changes
// nothing. Run ids are the 16-hex-digit config hashes of grid/identity.h.
// Timestamps carry milliseconds ("2026-11-29T10:00:00.123Z"): they sort as
// text, and SQLite's julianday()/strftime('%s') read them for ages.
#pragma once

#include <array>

namespace hcx::store {

constexpr int kSchemaVersion = 3;

// kMigrations[v] brings a database from user_version v to v + 1.
constexpr std::array<const char*, kSchemaVersion> kMigrations = {
    R"sql(
CREATE TABLE sweeps (
  id          INTEGER PRIMARY KEY,
  name        TEXT NOT NULL UNIQUE,
  spec_json   TEXT NOT NULL,          -- the experiment file as resolved (with -s overrides)
  created_at  TEXT NOT NULL,
  hcx_version TEXT NOT NULL
);
CREATE TABLE runs (
  id               TEXT PRIMARY KEY,  -- hash of the canonical resolved config
  config_json      TEXT NOT NULL,
  status           TEXT NOT NULL DEFAULT 'pending'
                   CHECK (status IN ('pending','running','completed','failed','diverged','interrupted')),
  device           TEXT,
  host             TEXT,
  pid              INTEGER,
  attempt          INTEGER NOT NULL DEFAULT 0,   -- starts of this run (SLURM_RESTART_COUNT on Slurm)
  started_at       TEXT,
  finished_at      TEXT,
  heartbeat_at     TEXT,
  step             INTEGER NOT NULL DEFAULT 0,   -- last completed optimizer step
  tokens           INTEGER NOT NULL DEFAULT 0,   -- training tokens seen
  error            TEXT,
  log_path         TEXT,
  params           INTEGER,
  final_train_loss REAL,
  final_val_loss   REAL,
  best_val_loss    REAL,
  best_val_step    INTEGER,
  tokens_per_s     REAL,
  updated_at       TEXT NOT NULL DEFAULT '',     -- newest write wins when shards are merged
  revision         INTEGER NOT NULL DEFAULT 0    -- +1 on every write of this run's rows (collect skips unchanged shards)
);
CREATE INDEX runs_status ON runs (status);
CREATE TABLE sweep_runs (             -- the same run in two sweeps is one run
  sweep_id INTEGER NOT NULL REFERENCES sweeps(id),
  run_id   TEXT NOT NULL REFERENCES runs(id),
  position INTEGER NOT NULL,          -- order in the expanded grid
  PRIMARY KEY (sweep_id, run_id)
);
CREATE INDEX sweep_runs_run ON sweep_runs (run_id);
CREATE TABLE run_params (             -- the flattened config, for --where and --group-by
  run_id TEXT NOT NULL,
  key    TEXT NOT NULL,
  value  TEXT NOT NULL,
  PRIMARY KEY (run_id, key)
) WITHOUT ROWID;
CREATE INDEX run_params_key ON run_params (key, value);
CREATE TABLE metrics (                -- train/loss, train/lr, train/grad_norm, val/loss, time/tokens_per_s, ...
  run_id TEXT NOT NULL,
  name   TEXT NOT NULL,
  step   INTEGER NOT NULL,
  value  REAL,
  PRIMARY KEY (run_id, name, step)
) WITHOUT ROWID;
CREATE TABLE spikes (
  run_id TEXT NOT NULL,
  metric TEXT NOT NULL,               -- train/loss or train/grad_norm
  step   INTEGER NOT NULL,
  value  REAL NOT NULL,
  mean   REAL NOT NULL,               -- mean of the previous `window` values
  std    REAL NOT NULL,
  score  REAL NOT NULL,               -- (value - mean) / std
  PRIMARY KEY (run_id, metric, step)
) WITHOUT ROWID;
CREATE TABLE evals (                  -- downstream scores
  run_id TEXT NOT NULL,
  step   INTEGER NOT NULL,
  task   TEXT NOT NULL,
  metric TEXT NOT NULL,               -- acc, acc_norm, n
  value  REAL NOT NULL,
  PRIMARY KEY (run_id, step, task, metric)
) WITHOUT ROWID;
CREATE TABLE layer_stats (            -- per-layer diagnostics: cosine similarity, gradient norms
  run_id TEXT NOT NULL,
  step   INTEGER NOT NULL,
  layer  INTEGER NOT NULL,            -- sublayer index k (attention of block i is 2i, its FFN 2i+1)
  name   TEXT NOT NULL,               -- e.g. cos/median, cos/p5, cos/p95, grad_norm
  value  REAL NOT NULL,
  PRIMARY KEY (run_id, step, layer, name)
) WITHOUT ROWID;
CREATE TABLE hc_matrices (            -- learned connections (hc, mhc; frac, dwa, laurel, mudd)
  run_id      TEXT NOT NULL,
  step        INTEGER NOT NULL,
  layer       INTEGER NOT NULL,       -- sublayer index k; -1 for whole-model matrices
  sublayer    TEXT NOT NULL,          -- "attn" | "ffn" | "model"
  name        TEXT NOT NULL,          -- "hc" ((n+1) x (n+1): [[0, B], [A_m, A_r]]), "unfolded", ...
  rows        INTEGER NOT NULL,
  cols        INTEGER NOT NULL,
  values_json TEXT NOT NULL,          -- row-major list of rows*cols numbers
  PRIMARY KEY (run_id, step, layer, name)
) WITHOUT ROWID;
CREATE TABLE shard_merges (           -- collect(): which state of a run's shard was merged last
  run_id     TEXT PRIMARY KEY,
  revision   INTEGER NOT NULL,          -- the shard's runs.revision and updated_at at that merge:
  updated_at TEXT NOT NULL,             -- equal again means the shard has not changed since
  merged_at  TEXT NOT NULL,
  path       TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE run_summary (            -- any further per-run figure: spike counts, peak memory, ...
  run_id TEXT NOT NULL,
  key    TEXT NOT NULL,
  value  REAL,
  PRIMARY KEY (run_id, key)
) WITHOUT ROWID;
)sql",
    // 2: the database's identity (a checkpoint resumes only into the database
    // that holds its history), the trainer's process start time (a reused pid
    // is not a live run) and what trained each run (code and data).
    R"sql(
CREATE TABLE db_meta (                -- facts about this database file
  key   TEXT PRIMARY KEY,             -- db_id: 32 random hex digits, made once when the file is created
  value TEXT NOT NULL
) WITHOUT ROWID;
INSERT INTO db_meta (key, value) VALUES ('db_id', lower(hex(randomblob(16))));
ALTER TABLE runs ADD COLUMN proc_start TEXT;    -- start time of process `pid` (/proc/<pid>/stat), with pid its identity
ALTER TABLE runs ADD COLUMN code_version TEXT;  -- hcx version of the latest start, e.g. "0.1.0"
ALTER TABLE runs ADD COLUMN code_commit TEXT;   -- its source commit, "<sha>" or "<sha>-dirty"; "" when unknown
ALTER TABLE runs ADD COLUMN data_id TEXT;       -- the training data it read: "<bytes>:<fnv1a-64 hex>" per file
)sql",
    // 3: tags and notes (hcx sweep/run --tag, --note), for `hcx sweeps` and
    // `hcx report --tag`.
    R"sql(
ALTER TABLE sweeps ADD COLUMN note TEXT NOT NULL DEFAULT '';  -- --note of the latest hcx sweep that gave one
ALTER TABLE runs ADD COLUMN note TEXT NOT NULL DEFAULT '';    -- --note of the latest hcx run that gave one
CREATE TABLE sweep_tags (             -- --tag of hcx sweep: a tag of the sweep is a tag of each of its runs
  sweep_id INTEGER NOT NULL REFERENCES sweeps(id),
  tag      TEXT NOT NULL,
  PRIMARY KEY (sweep_id, tag)
) WITHOUT ROWID;
CREATE TABLE run_tags (               -- --tag of hcx run (a config file, outside any sweep)
  run_id TEXT NOT NULL,
  tag    TEXT NOT NULL,
  PRIMARY KEY (run_id, tag)
) WITHOUT ROWID;
)sql",
};

}  // namespace hcx::store
