// hcx sample: check the options, find the run, pick its checkpoint, print the text (see sample_command.h).
#include "hcx/run/sample_command.h"

#include "hcx/run/trained_run.h"
#include "hcx/train/export.h"

namespace hcx::run {

int sample_command(const SampleCommandOptions& opts, std::ostream& out) {
  train::check(opts.sample);  // before the database is opened
  const TrainedRun run = find_trained_run(opts.run_id, opts.db, opts.results_dir);
  const train::CheckpointChoice ckpt = train::choose_checkpoint(run.checkpoint_dir, opts.step, run.id);
  warn_if_unfinished(run, ckpt.step);
  out << train::sample_text(run.cfg, run.id, ckpt.path, opts.sample) << "\n";
  out.flush();
  return 0;
}

}  // namespace hcx::run
