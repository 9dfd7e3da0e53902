// Finding one's way among sweeps end to end: hcx sweeps, tags and notes
// (hcx sweep/run --tag/--note, hcx report --tag), runs outside any sweep
// (hcx report --sweep :unswept, --runs), hcx query --schema, the name of a
// sweep changed by -s, hcx status --watch under tmux, and NO_COLOR on the
// log lines of a terminal.
#include <chrono>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cli/cli_util.h"
#include "hcx/store/runs.h"
#include "report/fixture.h"

namespace hcx::test {
namespace {

using nlohmann::json;

void write_file(const std::string& path, const std::string& text) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path) << text;
}

// The known report database (sweep "known": Pre-Norm and DHC×2, 3 seeds
// each), plus one run of no sweep.
struct Organize : ::testing::Test {
  TempDir dir;
  std::string db = dir / "hcx.db";
  void SetUp() override {
    report::fixture::write_db(db, report::fixture::known_input());
    store::Db d = store::open_db(db);
    store::upsert_run(d, "loose0000000001", {});
  }
  json report_json(const std::string& args) {
    const ReportOutput r = run_hcx_report(dir.path(), "--db " + db + " --format json " + args);
    EXPECT_EQ(r.code, 0) << r.err;
    return r.code == 0 ? json::parse(r.out) : json();
  }
};

TEST_F(Organize, SweepsListsRunsByStatusTagsAndNotes) {
  {
    store::Db d = store::open_db(db);
    store::tag_sweep(d, *store::find_sweep_id(d, "known"), {"paper", "v2"}, "3 seeds, fixed numbers");
    store::tag_sweep(d, *store::find_sweep_id(d, "known"), {"paper"}, "");  // tags accumulate; the note stays
  }
  const Output table = run_hcx_output("sweeps --db " + db);
  ASSERT_EQ(table.exit_code, 0) << table.out;
  EXPECT_NE(table.out.find("sweep  runs  completed  running  pending  failed  other  created"), std::string::npos)
      << table.out;
  EXPECT_NE(table.out.find("paper,v2  3 seeds, fixed numbers"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("\n1 run in no sweep (hcx run CONFIG): hcx report --sweep :unswept\n"), std::string::npos)
      << table.out;
  const Output j = run_hcx_output("sweeps --format json --db " + db);
  ASSERT_EQ(j.exit_code, 0) << j.out;
  const json doc = json::parse(j.out);
  ASSERT_EQ(doc["sweeps"].size(), 1u);
  EXPECT_EQ(doc["sweeps"][0]["name"], "known");
  EXPECT_EQ(doc["sweeps"][0]["runs"], 6);
  EXPECT_EQ(doc["sweeps"][0]["by_status"]["completed"], 6);
  EXPECT_EQ(doc["sweeps"][0]["tags"], json({"paper", "v2"}));
  EXPECT_EQ(doc["sweeps"][0]["note"], "3 seeds, fixed numbers");
  EXPECT_EQ(doc["unswept_runs"], 1);
}

TEST_F(Organize, ReportSelectsByTagRunIdsAndPseudoSweeps) {
  {
    store::Db d = store::open_db(db);
    store::tag_run(d, "pn-seed0", {"pair"}, "");
    store::tag_run(d, "hc-seed0", {"pair"}, "the first seed");
  }
  EXPECT_EQ(report_json("--tag pair")["runs"], 2);
  EXPECT_EQ(report_json("--tag pair")["sweep"], "tag:pair");
  EXPECT_EQ(report_json("--runs pn-seed1,hc-seed1,hc-seed2")["runs"], 3);
  EXPECT_EQ(report_json("--sweep known --tag pair")["runs"], 2);
  EXPECT_EQ(report_json("--sweep :all")["runs"], 7);  // the six and the loose run
  {
    store::Db d = store::open_db(db);
    const int64_t other = store::register_sweep(d, "other", "{}", "0.1.0");
    store::tag_sweep(d, other, {"pair"}, "");
  }
  // A sweep's tag is a tag of its runs: the tagged sweep "other" is empty, so still 2.
  EXPECT_EQ(report_json("--tag pair")["runs"], 2);
  EXPECT_EQ(query1(db, "SELECT note FROM runs WHERE id = 'hc-seed0'"), "the first seed");

  const ReportOutput none = run_hcx_report(dir.path(), "--db " + db + " --tag nosuch");
  EXPECT_EQ(none.code, 2);
  EXPECT_NE(none.err.find("--tag nosuch: no run or sweep carries this tag (hcx sweeps lists the tags)"),
            std::string::npos)
      << none.err;
  const ReportOutput unknown = run_hcx_report(dir.path(), "--db " + db + " --runs pn-seed0,zzzz");
  EXPECT_EQ(unknown.code, 2);
  EXPECT_NE(unknown.err.find("--runs zzzz: no such run in the database"), std::string::npos) << unknown.err;
  const ReportOutput ambiguous = run_hcx_report(dir.path(), "--db " + db + " --runs pn-s");
  EXPECT_EQ(ambiguous.code, 2);
  EXPECT_NE(ambiguous.err.find("--runs pn-s: 3 runs start so; give more digits"), std::string::npos) << ambiguous.err;
  const ReportOutput loose = run_hcx_report(dir.path(), "--db " + db + " --sweep :unswept");
  EXPECT_EQ(loose.code, 2);  // its one run has not trained: nothing to compare, said so
  EXPECT_NE(loose.err.find("--metric val/loss: no selected run recorded it (no curves recorded yet)"),
            std::string::npos)
      << loose.err;
}

TEST_F(Organize, QuerySchemaListsColumnsWithTheirComments) {
  const Output j = run_hcx_output("query --schema --format json --db " + db);
  ASSERT_EQ(j.exit_code, 0) << j.out;
  const json rows = json::parse(j.out);
  auto find = [&](const std::string& table, const std::string& column) {
    for (const auto& r : rows)
      if (r["table"] == table && r["column"] == column) return r;
    return json();
  };
  EXPECT_EQ(find("runs", "id")["comment"], "hash of the canonical resolved config");
  EXPECT_EQ(find("runs", "id")["primary_key"], 1);
  EXPECT_EQ(find("runs", "note")["comment"], "--note of the latest hcx run that gave one");  // an ALTER TABLE column
  EXPECT_EQ(find("runs", "note")["type"], "TEXT");
  EXPECT_EQ(find("runs", "note")["not_null"], 1);
  EXPECT_EQ(find("sweep_runs", "")["comment"], "the same run in two sweeps is one run");
  EXPECT_EQ(find("metrics", "step")["primary_key"], 3);
  EXPECT_TRUE(find("run_tags", "tag").is_object());
  const Output table = run_hcx_output("query --schema --db " + db);
  EXPECT_NE(table.out.find("table"), std::string::npos);
  EXPECT_EQ(table.out.substr(0, table.out.find('\n')).find("comment") != std::string::npos, true) << table.out;
  const Result both = run_hcx("query --schema 'SELECT 1' --db " + db);
  EXPECT_EQ(both.code, 2);
  EXPECT_NE(both.output.find("give either a statement or --schema, not both"), std::string::npos) << both.output;
  const Result neither = run_hcx("query --db " + db);
  EXPECT_EQ(neither.code, 2);
  EXPECT_NE(neither.output.find("give a SQL statement, or --schema for the tables"), std::string::npos)
      << neither.output;
}

// One tiny run, trained for real, then changed by -s: a sweep of its own.
TEST(SweepName, SetMakesItsOwnSweepAndNameMergesOnPurpose) {
  TempDir dir;
  write_file(dir / "one.json", R"({"name": "one", "base": {
    "model": {"d_model": 16, "n_layers": 1, "n_heads": 2, "seq_len": 16, "vocab_size": 64},
    "data": {"synthetic_tokens": 5000}, "train": {"steps": 2, "batch_size": 2, "log_every": 1},
    "eval": {"every": 2, "batches": 1}}})");
  ASSERT_EQ(run_hcx("sweep one.json --db r/hcx.db --tag base --note 'first try'", dir.path().string()).code, 0);
  const Result changed = run_hcx("sweep one.json --db r/hcx.db -s train.steps=3 --tag longer", dir.path().string());
  ASSERT_EQ(changed.code, 0) << changed.output;
  EXPECT_NE(changed.output.find("sweep one@train.steps=3: 1 runs"), std::string::npos) << changed.output;
  const std::string db = dir / "r/hcx.db";
  EXPECT_EQ(query1(db, "SELECT group_concat(name, ' ') FROM (SELECT name FROM sweeps ORDER BY name)"),
            "one one@train.steps=3");
  EXPECT_EQ(query1(db, "SELECT count(*) FROM sweep_runs sr JOIN sweeps s ON s.id = sr.sweep_id WHERE s.name = 'one'"),
            "1");  // the 3-step run did not join the 2-step sweep
  EXPECT_EQ(query1(db, "SELECT note FROM sweeps WHERE name = 'one'"), "first try");
  EXPECT_EQ(query1(db, "SELECT tag FROM sweep_tags st JOIN sweeps s ON s.id = st.sweep_id "
                       "WHERE s.name = 'one@train.steps=3'"),
            "longer");
  // --name merges on purpose, and a name with a slash is refused before anything is written.
  ASSERT_EQ(run_hcx("sweep one.json --db r/hcx.db -s train.steps=3 --name one", dir.path().string()).code, 0);
  EXPECT_EQ(query1(db, "SELECT count(*) FROM sweep_runs sr JOIN sweeps s ON s.id = sr.sweep_id WHERE s.name = 'one'"),
            "2");
  const Result bad = run_hcx("sweep one.json --db r/hcx.db --name a/b", dir.path().string());
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.output.find("--name \"a/b\": a sweep name is at most 200 characters, without '/' or blanks"),
            std::string::npos)
      << bad.output;
  const Result tag = run_hcx("sweep one.json --db r/hcx.db --tag 'a b'", dir.path().string());
  EXPECT_EQ(tag.code, 2);
  EXPECT_NE(tag.output.find("--tag \"a b\": a tag is one word without commas or blanks"), std::string::npos)
      << tag.output;
  // hcx run --tag: a run outside any sweep, found by its tag.
  write_file(dir / "run.json", R"({"model": {"d_model": 16, "n_layers": 1, "n_heads": 2, "seq_len": 16,
    "vocab_size": 64}, "data": {"synthetic_tokens": 5000}, "train": {"steps": 2, "batch_size": 2}, "seed": 7})");
  ASSERT_EQ(run_hcx("run run.json --db r/hcx.db --tag solo --note 'by hand'", dir.path().string()).code, 0);
  EXPECT_EQ(query1(db, "SELECT r.note FROM runs r JOIN run_tags t ON t.run_id = r.id WHERE t.tag = 'solo'"),
            "by hand");
  const Output sweeps = run_hcx_output("sweeps --db " + db);
  EXPECT_NE(sweeps.out.find("1 run in no sweep"), std::string::npos) << sweeps.out;
}

// `hcx status --watch` in a real terminal (tmux): it redraws, and a run
// added meanwhile shows up on the next print.
TEST_F(Organize, StatusWatchRefreshesUnderTmux) {
  if (capture("command -v tmux >/dev/null 2>&1").code != 0)
    GTEST_SKIP() << "tmux not installed (make setup installs it)";
  const std::string session = "hcx-watch-" + std::to_string(::getpid());
  const std::string start = "tmux new-session -d -s " + session + " -x 160 -y 50 '" + std::string(HCX_BINARY) +
                            " status --watch --interval 0.3 --db " + db + "'";
  ASSERT_EQ(capture(start).code, 0);
  auto pane = [&] { return capture("tmux capture-pane -p -t " + session).output; };
  auto wait_for = [&](const std::string& text) {  // the pane once it shows `text`, or after 12 s
    std::string p;
    wait_until([&] { return (p = pane()).find(text) != std::string::npos; }, 12, 100);
    return p;
  };
  const std::string first = wait_for("7 runs: 1 pending, 6 completed");
  EXPECT_NE(first.find("every 0.3 s · hcx status"), std::string::npos) << first;
  EXPECT_NE(first.find("7 runs: 1 pending, 6 completed"), std::string::npos) << first;
  {
    store::Db d = store::open_db(db);
    store::upsert_run(d, "later0000000001", {});
  }
  const std::string second = wait_for("8 runs: 2 pending, 6 completed");
  capture("tmux kill-session -t " + session);
  EXPECT_NE(second.find("8 runs: 2 pending, 6 completed"), std::string::npos) << second;
  EXPECT_EQ(second.find("7 runs"), std::string::npos) << second;  // redrawn, not scrolled
  const Result bad = run_hcx("status --watch --interval 0.01 --db " + db);
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.output.find("--interval: expected at least 0.1 seconds"), std::string::npos) << bad.output;
}

// Log lines on a terminal are coloured, except under NO_COLOR.
TEST(NoColor, SilencesTheLogColoursOnATerminal) {
  TempDir dir;
  const std::string cmd = std::string(HCX_BINARY) + " status --db " + (dir / "missing.db").string();
  const auto coloured = capture("script -qec \"" + cmd + "\" /dev/null");
  const auto plain = capture("NO_COLOR=1 script -qec \"" + cmd + "\" /dev/null");
  EXPECT_NE(coloured.output.find("missing.db: no such database file"), std::string::npos) << coloured.output;
  EXPECT_NE(coloured.output.find("\x1b["), std::string::npos) << coloured.output;
  EXPECT_NE(plain.output.find("missing.db: no such database file"), std::string::npos) << plain.output;
  EXPECT_EQ(plain.output.find("\x1b["), std::string::npos) << plain.output;
}

}  // namespace
}  // namespace hcx::test
