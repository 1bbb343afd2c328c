#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "semifer/train/config.h"

namespace semifer::train {

/// Options of a run that are not part of its configuration.
struct RunOptions {
  std::string run_dir;   ///< RUN_DIR: config.yaml, metrics.jsonl, checkpoints
  bool resume = false;   ///< continue from RUN_DIR/checkpoint_last.pt
  bool progress = true;  ///< progress lines on stderr
};

/// Summary of a finished run.
struct RunSummary {
  int64_t steps = 0;
  double best_f1 =
      -1;  ///< best validation macro F1 of the EMA teacher (-1: none)
  std::string last_checkpoint;
};

/// Trains as the paper does (sections 3.2-3.4): the supervised stage
/// (ssl.enabled false) or the semi-supervised stage with the EMA teacher and
/// the Dynamic Threshold Module. Writes RUN_DIR/config.yaml (resolved),
/// RUN_DIR/metrics.jsonl (a line every log_every steps and one per epoch)
/// and checkpoints (checkpoint_last.pt every checkpoint_every steps and at
/// each epoch end, checkpoint_best.pt by the teacher's validation F1),
/// atomically. A resumed run continues bit for bit where the last checkpoint
/// was written (on CPU with train.deterministic). A NaN or infinite loss
/// stops the run with an error; the last good checkpoint stays in place.
RunSummary run_training(const TrainConfig& config, const RunOptions& options);

}  // namespace semifer::train
