#pragma once

#include <torch/optim/optimizer.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "semifer/infer/model_card.h"
#include "semifer/models/classifier.h"
#include "semifer/train/metric_window.h"
#include "semifer/train/pseudo_labels.h"
#include "semifer/train/thresholds.h"

namespace semifer::train {

class EmaTeacher;

/// Everything a resume needs, in one object with one symmetric pair of
/// functions (save, load) and one list of keys (infer/archive.h): the
/// networks A (student) and B (EMA teacher), the optimizer, the DTM
/// thresholds, the pseudo-labeler's running estimates, the step, the best
/// validation F1, the open metric window, the run's world size,
/// the random generators' states, the model card and the resolved config.
struct TrainState {
  models::Classifier student;
  models::Classifier teacher;
  std::unique_ptr<torch::optim::Optimizer> optimizer;
  DynamicThresholds thresholds{1};
  PseudoLabeler labeler;  ///< the recipe's running estimates
  MetricWindow window{1, c10::Device(c10::kCPU)};
  int64_t step = 0;  ///< optimizer steps done
  /// A validation's macro F1 and its step (f1 -1: none yet).
  struct Score {
    double f1 = -1;
    int64_t step = -1;
  };
  /// Best validation macro F1 by train.best.monitor (-1: none yet): the
  /// score of checkpoint_best.pt.
  double best_f1 = -1;
  int64_t best_step = -1;    ///< of checkpoint_best.pt
  std::string best_network;  ///< "A" or "B": checkpoint_best.pt's
  Score best_a, best_b;      ///< of checkpoint_best_a.pt, checkpoint_best_b.pt
  std::vector<Score> kept;   ///< the train.best.keep best by the monitor
  int64_t world_size = 1;   ///< ranks of the data-parallel run (1: one process)
  infer::ModelCard card;    ///< written with `step` filled in
  std::string config_yaml;  ///< the resolved config of the run

  /// The thresholds as a float tensor on the training device, refreshed in
  /// place by thresholds_changed() (no host-to-device copy per step; a
  /// captured step keeps reading the same tensor).
  const at::Tensor& tau() const { return tau_; }
  void thresholds_changed();

  /// The EMA update of teacher from student (ema.h), its tensor lists
  /// gathered on first use (the networks must be built by then).
  EmaTeacher& ema();

  /// True when every parameter and buffer of both networks is finite (one
  /// device synchronisation).
  bool weights_finite() const;

  /// Writes the state to `path` crash-safely (temp file, fsync, rename);
  /// `window` false stores an empty metric window (the best checkpoint);
  /// `selected` ("A"/"B") goes into the card as its selected_network.
  /// Throws semifer::Error in one line naming the file.
  void save(const std::string& path, bool window = true,
            const std::string& selected = "") const;
  /// Reads a state save() wrote into this one, whose networks, optimizer
  /// and window must already be built for the same model and classes
  /// (tensors land on the networks' device). The file is verified first.
  /// `accept`, when given, sees the stored config before anything is
  /// restored and may refuse the file by throwing (a resume whose config
  /// differs). Throws semifer::Error naming the file.
  void load(const std::string& path,
            const std::function<void(const std::string& config)>& accept = {});

  /// Reads only the resolved config stored in a state file ("" when it
  /// holds none).
  static std::string read_config(const std::string& path);

 private:
  at::Tensor tau_;
  std::shared_ptr<EmaTeacher> ema_;
};

}  // namespace semifer::train
