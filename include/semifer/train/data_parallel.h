#pragma once

#include <memory>

namespace semifer::data {
struct Dataset;
}

namespace semifer::train {

class EpochEvaluator;
class GradientReducer;
class Group;
struct StepOptions;
struct TrainConfig;
struct TrainState;

/// What a Trainer does as one rank of a data-parallel job, in one place
/// (docs/distributed.md, "What a step does on W ranks"): the networks start
/// from rank 0's, the gradients are averaged in buckets during backward,
/// the pseudo-labeler's running statistics move with the whole step's, the
/// DTM and validation are split across the ranks, and BatchNorm's running
/// statistics come from rank 0 before they are used or saved.
class DataParallelRank {
 public:
  /// Makes `state`, `evaluator` and `step` one rank of `group`: the world
  /// size into the state (its checkpoints record it), the labeler's batch
  /// statistics averaged and FlexMatch's samples gathered over the ranks,
  /// the evaluator's work split, and after each backward the gradients
  /// averaged (buckets of about `bucket_mb` megabytes) before what
  /// `step.after_backward` did so far. `state`, `evaluator` and `step` must
  /// outlive this object.
  DataParallelRank(std::shared_ptr<Group> group, TrainState& state,
                   EpochEvaluator& evaluator, StepOptions& step,
                   double bucket_mb);
  ~DataParallelRank();
  DataParallelRank(const DataParallelRank&) = delete;
  DataParallelRank& operator=(const DataParallelRank&) = delete;

  /// Refuses a job whose ranks would silently train apart: every rank must
  /// run rank 0's config (paths may differ, as a data set mounted elsewhere,
  /// and so may train.device, train.threads and train.torch_threads) on the
  /// same pools (their sizes per class and a digest of their items'
  /// names, records, boxes and labels in order compared). Collective: on a
  /// difference every rank throws semifer::Error naming the first rank that
  /// differs and the key or pool.
  void check_same_run(const TrainConfig& config, const data::Dataset& dataset);

  /// Networks A and B, parameters and buffers, become rank 0's on every
  /// rank (at the start, after a resume).
  void broadcast_networks(TrainState& state);
  /// BatchNorm's running statistics of A and B from rank 0 to every rank
  /// (they are per rank between these points, as DDP's default).
  void broadcast_buffers(TrainState& state);

  Group& group() { return *group_; }

 private:
  std::shared_ptr<Group> group_;
  std::unique_ptr<GradientReducer> reducer_;
};

}  // namespace semifer::train
