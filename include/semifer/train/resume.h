#pragma once

#include <functional>
#include <string>
#include <vector>

#include "semifer/train/config.h"

/// Resuming a run (docs/training.md, "Resume"): which config changes a
/// resume may make, what --auto-resume decides, and how the checkpoint
/// reaches every rank of a data-parallel run. The Trainer calls these.
namespace semifer::train {

class Group;
class RunFolder;

/// The config keys a resumed run may change (the rest must equal the
/// checkpoint's): train.lr, train.epochs, train.steps_per_epoch,
/// train.log_every, train.checkpoint_every, train.max_loss, train.threads,
/// train.torch_threads, train.device, train.bf16, train.channels_last,
/// train.optimizer_kernels, train.views, train.cudnn_benchmark, train.tf32,
/// train.cuda_graph, train.deterministic, train.distributed.*,
/// eval.max_samples.
const std::vector<std::string>& resumable_keys();

/// The changes from `before` (a run's stored config) to `after`, split into
/// those a resume may make (resumable_keys()) and a one-line description of
/// the rest ("KEY was A, now B; ..."; empty when none).
struct ResumeCheck {
  std::vector<ConfigChange> allowed;
  std::string refused;
};
ResumeCheck check_resume_changes(const TrainConfig& before,
                                 const TrainConfig& after);

/// What --auto-resume does with RUN_DIR.
enum class AutoResume {
  kResume,      ///< checkpoint_last.pt is there: continue it
  kStart,       ///< start the run (a folder of another run is still refused)
  kStartAgain,  ///< this config stopped before its first checkpoint: replace
};

/// Decided on rank 0 of `group` (null: one process, which decides; `folder`
/// its view of RUN_DIR, `config_yaml` the config this run writes) and sent to
/// every rank. The other ranks get kResume or kStart.
AutoResume decide_auto_resume(const RunFolder& folder, Group* group,
                              const std::string& config_yaml);

/// Loads the checkpoint at `path` on every rank with `load(file)`: rank 0
/// reads it and sends its bytes to the other ranks of `group`, which load
/// them from a temporary file (removed again, also when `load` throws), so
/// the other machines need not see RUN_DIR. One process loads `path`.
void load_on_every_rank(const std::string& path, Group* group,
                        const std::function<void(const std::string&)>& load);

}  // namespace semifer::train
