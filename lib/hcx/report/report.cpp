// `hcx report` end to end (see report.h).
#include "hcx/report/report.h"

#include <filesystem>
#include <fstream>

#include <spdlog/spdlog.h>

#include "hcx/error.h"
#include "hcx/report/export.h"
#include "hcx/report/html.h"
#include "hcx/report/json.h"
#include "hcx/report/text.h"
#include "hcx/store/shards.h"

namespace hcx::report {
namespace {

namespace fs = std::filesystem;

// Opens the database read-only, or read-write when shards wait to be merged.
store::Db open_for_report(const std::string& path) {
  if (!fs::exists(path)) {
    throw bad_input(path + ": no results database here (run `hcx sweep` first, or pass --db PATH)");
  }
  const fs::path shard_dir = store::shard_dir_for(path);
  if (store::list_shards(shard_dir).empty()) return store::open_db(path, store::OpenMode::kReadOnly);
  store::Db db = store::open_db(path, store::OpenMode::kReadWrite);
  const store::CollectReport merged = store::collect(db, shard_dir);
  spdlog::info("merged {} run(s) from {} shard(s) in {}", merged.merged_runs(), merged.shards.size(),
               shard_dir.string());
  if (merged.failed() > 0) spdlog::warn("{} shard(s) could not be merged; run `hcx collect` for details", merged.failed());
  return db;
}

void render(const ReportCommand& cmd, const std::string& format, const store::Db& db, std::ostream& out) {
  LoadScope scope;
  if (cmd.options.metric != "train/loss" && cmd.options.metric != "val/loss") {
    scope.curves.push_back(cmd.options.metric);
  }
  scope.diagnostics = true;  // layer_stats at the last step: HTML charts, and collapse rule 3 in every format
  ReportInput input = load_input(db, cmd.selection, scope);
  const Report rep = compute_report(input, cmd.options);
  if (format == "html") {
    std::vector<size_t> shown;  // the matrices of one run per group
    for (const auto& g : rep.groups) {
      if (g.sample_run) shown.push_back(*g.sample_run);
    }
    load_matrices(db, input, shown);
  }
  if (format == "table") {
    render_terminal(rep, out, cmd.color);
  } else if (format == "md") {
    render_markdown(rep, out);
  } else if (format == "csv") {
    render_csv(rep, out);
  } else if (format == "json") {
    render_json(rep, out);
  } else {
    render_html(rep, input, out);
  }
}

}  // namespace

int report_command(const ReportCommand& cmd, std::ostream& out) {
  const bool exporting = !cmd.export_what.empty();
  const std::string format = !cmd.format.empty() ? cmd.format : exporting ? "csv" : "table";
  if (!exporting && format != "table" && format != "md" && format != "csv" && format != "json" && format != "html") {
    throw bad_input("--format " + format + ": expected table, md, csv, json or html");
  }
  store::Db db = open_for_report(cmd.db);
  auto write = [&](std::ostream& o) {
    if (exporting) {
      export_rows(db, select_run_ids(db, cmd.selection, nullptr), cmd.export_what, format, o);
    } else {
      render(cmd, format, db, o);
    }
  };
  if (cmd.output.empty()) {
    write(out);
    out.flush();
    return 0;
  }
  // Write beside the target, then rename: a reader never sees half a report.
  const fs::path target(cmd.output);
  if (target.has_parent_path()) fs::create_directories(target.parent_path());
  const fs::path tmp = target.string() + ".tmp";
  std::error_code ec;
  try {
    std::ofstream f(tmp, std::ios::binary);
    if (!f) throw io_error(tmp.string() + ": cannot write");
    write(f);
    f.flush();
    if (!f) throw io_error(tmp.string() + ": write failed");
  } catch (...) {
    fs::remove(tmp, ec);  // no half-written file left behind
    throw;
  }
  fs::rename(tmp, target, ec);
  if (ec) throw io_error(target.string() + ": " + ec.message());
  spdlog::info("wrote {}", target.string());
  return 0;
}

}  // namespace hcx::report
