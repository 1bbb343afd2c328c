#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

namespace semifer::train {

struct StepStats;
class Group;

/// What a window of steps measured, read back to the host (one transfer).
struct WindowSummary {
  int64_t steps = 0;
  int64_t images = 0;
  double loss_labeled = 0;    ///< mean over the steps
  double loss_unlabeled = 0;  ///< mean over the steps
  /// Largest total loss of a step; NaN or infinite when a step's was.
  double max_loss = 0;
  /// The first step of the window whose total loss was not finite or above
  /// the window's loss ceiling; -1 when every step's was sound.
  int64_t first_unsound_step = -1;
  /// Share of pseudo-labels that passed their class's threshold (0 when
  /// none was made).
  double mask_rate = 0;
  /// Per class: share kept of those pseudo-labelled as the class; -1 where
  /// no sample was.
  std::vector<double> mask_rate_per_class;
  /// Per class: share right of the kept pseudo-labels with a known hidden
  /// label; -1 where there was none.
  std::vector<double> pseudo_label_accuracy;
};

/// Running sums of the steps between two metric lines, kept on the
/// training device: add() queues device operations only, so a step needs no
/// host synchronisation; summary() reads them back once. Part of the train
/// state, so a resumed run's metric lines equal an uninterrupted run's.
class MetricWindow {
 public:
  /// `loss_ceiling` > 0: a step loss above it counts as unsound (the
  /// trainer's train.max_loss); <= 0: only NaN and infinity do.
  MetricWindow(int num_classes, const at::Device& device,
               double loss_ceiling = 0);

  /// Adds step `step`'s statistics; `images` is the step's image count.
  /// Also remembers, on the device, the first step whose loss is unsound.
  void add(const StepStats& stats, int64_t images, int64_t step);
  /// Reads the sums back to the host.
  WindowSummary summary() const;
  /// Starts a new window.
  void reset();
  /// Empties the sums but keeps the step count (a rank other than 0 of a
  /// data-parallel run, whose window rank 0 holds).
  void clear_sums();

  /// A data-parallel run: replaces the sums by the whole job's (image
  /// counts and pseudo-label counts added, the mean losses averaged over
  /// the ranks, the largest loss of any rank) on every rank, or with
  /// `root_only` on rank 0 alone, the other ranks' emptied (their steps
  /// kept), so that a later reduce counts nothing twice.
  void reduce(Group& group, bool root_only = false);

  int64_t steps() const { return steps_; }

  /// For the train state: [5 + 4 * C] float64 on the CPU.
  at::Tensor to_tensor() const;
  /// Throws semifer::Error when the tensor has the wrong size.
  void from_tensor(const at::Tensor& t);

 private:
  int num_classes_;
  at::Device device_;
  int64_t steps_ = 0;
  int64_t images_ = 0;
  at::Tensor losses_;  ///< [3] float64: sum L_l, sum L_u, max total loss
  at::Tensor counts_;  ///< [4, C] int64: kept, pseudo, kept-known, right
  double loss_ceiling_ = 0;
  /// [1] float64: minus the first unsound step, -inf while there is none
  /// (so that the maximum over ranks is the earliest). Not saved: a
  /// checkpoint is written only from a sound window.
  at::Tensor first_unsound_;
};

}  // namespace semifer::train
