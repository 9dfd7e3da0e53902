// hcx export: find the run, pick its checkpoint, write the export (see export_command.h).
#include "hcx/run/export_command.h"

#include <filesystem>

#include "hcx/build_info.h"
#include "hcx/run/trained_run.h"
#include "hcx/train/export.h"
#include "hcx/version.h"

namespace hcx::run {

int export_command(const ExportCommandOptions& opts, std::ostream& out) {
  const TrainedRun run = find_trained_run(opts.run_id, opts.db, opts.results_dir);
  train::ExportRequest req;
  req.cfg = run.cfg;
  req.run_id = run.id;
  req.checkpoint = train::choose_checkpoint(run.checkpoint_dir, opts.step, run.id);
  warn_if_unfinished(run, req.checkpoint.step);
  req.out_dir = opts.out_dir.empty() ? "export-" + run.id : opts.out_dir;
  req.logits_for = opts.logits_for;
  req.info = {{"hcx_version", kVersion}, {"hcx_commit", build_commit()}, {"hcx_libtorch", kBuildLibTorch},
              {"database", std::filesystem::absolute(opts.db).string()}, {"run_status", run.status}};
  const train::ExportResult r = train::export_model(req);
  out << "exported run " << run.id << " step " << r.step << ": " << r.tensors << " tensors, " << r.params
      << " parameters, to " << (r.dir / "model.safetensors").string() << " and config.json\n";
  return 0;
}

}  // namespace hcx::run
