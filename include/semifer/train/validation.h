#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "semifer/data/dataset.h"
#include "semifer/infer/classify.h"
#include "semifer/infer/input_spec.h"
#include "semifer/io/metrics_log.h"
#include "semifer/train/config.h"

namespace semifer::train {

struct TrainState;
class Group;

/// Moves a seeded share `fraction` of each class of dataset.labeled out of
/// it (at least one image of a class with two or more, never all of a
/// class) and returns them: the DTM's held-out images (ssl.dtm_on:
/// heldout), which the run does not train on.
std::vector<data::PoolItem> hold_out(data::Dataset& dataset, double fraction,
                                     uint64_t seed);

/// The epoch-end work on held samples, fixed for the run: the DTM update
/// from the teacher's predictions on a seeded per-class cap of the labeled
/// set or of `dtm_pool` when it is not empty (paper equations 6-8; clean
/// images, or weak views with ssl.dtm_weak_view), and validation of
/// networks A and B. An image of either that fails to decode is left out
/// from then on with a warning, when its source's images have `on_error:
/// skip` (the default); with `fail` the error stops the run.
class EpochEvaluator {
 public:
  EpochEvaluator(std::shared_ptr<const data::Dataset> dataset,
                 const TrainConfig& config,
                 std::vector<data::PoolItem> dtm_pool = {});

  /// A data-parallel run: each rank predicts its contiguous share of the
  /// DTM's and the validation samples, and the sums of equation 7 and the
  /// confusion matrices are added over the ranks, so every rank gets the
  /// same thresholds and scores. The networks must agree across ranks
  /// (their buffers broadcast from rank 0 first).
  void set_group(std::shared_ptr<Group> group);

  /// Updates the state's thresholds from the teacher; returns the mean
  /// confidences the DTM measured per class (-1: no correct prediction).
  std::vector<double> update_thresholds(TrainState& state) const;

  /// Scores of A and B on the validation sample; nullopt when the run has
  /// no validation data.
  struct Scores {
    io::ValidationScores a, b;
  };
  std::optional<Scores> validate(TrainState& state) const;

 private:
  std::shared_ptr<const data::Dataset> dataset_;
  infer::InputSpec input_;
  augment::AugmentConfig augment_;
  uint64_t seed_ = 0;
  bool weak_view_ = false;
  std::vector<std::string> names_;
  std::vector<data::PoolItem> dtm_items_, val_items_;
  std::shared_ptr<Group> group_;
  // This rank's share of each list, less the images found undecodable
  // (skipped as their sources' on_error says, warned about once each).
  struct Share {
    std::vector<data::PoolItem> items;
    std::vector<int64_t> labels;
    std::vector<int64_t> keys;  ///< positions in the whole list
    const char* what = "";
    void drop(const infer::Skipped& skipped, int64_t* total);
  };
  void take_shares();
  mutable Share dtm_, val_;
  mutable int64_t skipped_ = 0;
};

}  // namespace semifer::train
