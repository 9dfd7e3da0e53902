// Names of run outcomes, as stored in runs.status.
#include "hcx/train/trainer.h"

namespace hcx::train {

const char* to_string(RunStatus s) {
  switch (s) {
    case RunStatus::kCompleted: return "completed";
    case RunStatus::kDiverged: return "diverged";
    case RunStatus::kInterrupted: return "interrupted";
    case RunStatus::kFailed: return "failed";
  }
  return "failed";
}

}  // namespace hcx::train
