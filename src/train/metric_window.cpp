#include "semifer/train/metric_window.h"

#include <torch/torch.h>

#include <cmath>

#include "semifer/train/distributed.h"
#include "semifer/train/step.h"
#include "semifer/util/error.h"

namespace semifer::train {

MetricWindow::MetricWindow(int num_classes, const at::Device& device,
                           double loss_ceiling)
    : num_classes_(num_classes), device_(device), loss_ceiling_(loss_ceiling) {
  reset();
}

void MetricWindow::reset() {
  steps_ = 0;
  images_ = 0;
  losses_ =
      torch::zeros({3}, torch::TensorOptions(device_).dtype(torch::kFloat64));
  counts_ = torch::zeros({4, num_classes_},
                         torch::TensorOptions(device_).dtype(torch::kInt64));
  first_unsound_ = torch::full(
      {1}, -INFINITY, torch::TensorOptions(device_).dtype(torch::kFloat64));
}

void MetricWindow::clear_sums() {
  const int64_t steps = steps_;
  reset();
  steps_ = steps;
}

void MetricWindow::add(const StepStats& s, int64_t images, int64_t step) {
  torch::NoGradGuard no_grad;
  ++steps_;
  images_ += images;
  {
    // Device operations only: the host learns of it when the window is
    // read, and can still name the step that went bad.
    const at::Tensor loss = s.loss.detach().to(torch::kFloat64).reshape({1});
    at::Tensor unsound = loss.isfinite().logical_not();
    if (loss_ceiling_ > 0) unsound = unsound.logical_or(loss.gt(loss_ceiling_));
    first_unsound_.copy_(torch::where(
        unsound.logical_and(first_unsound_.isinf()),
        torch::full_like(first_unsound_, -static_cast<double>(step)),
        first_unsound_));
  }
  const auto l =
      torch::stack({s.loss_labeled.detach(), s.loss_unlabeled.detach()})
          .to(torch::kFloat64);
  losses_.narrow(0, 0, 2).add_(l);
  // max propagates NaN: a NaN loss stays visible until the window is read.
  losses_.narrow(0, 2, 1).copy_(
      torch::maximum(losses_.narrow(0, 2, 1),
                     s.loss.detach().to(torch::kFloat64).reshape({1})));
  if (!s.pseudo.defined()) return;
  // Kept: weight above one half (a hard mask's ones; soft weights count
  // where they weigh more than they drop).
  const auto kept = s.mask.gt(0.5);
  const auto known = kept.logical_and(s.hidden.ge(0));
  const auto right = known.logical_and(s.hidden.eq(s.pseudo));
  const auto row = [&](int r, const at::Tensor& v) {
    counts_[r].index_add_(0, s.pseudo, v.to(torch::kInt64));
  };
  row(0, kept);
  row(1, torch::ones_like(s.pseudo));
  row(2, known);
  row(3, right);
}

void MetricWindow::reduce(Group& group, bool root_only) {
  torch::NoGradGuard no_grad;
  auto images =
      torch::full({1}, static_cast<double>(images_),
                  torch::TensorOptions(device_).dtype(torch::kFloat64));
  auto means = losses_.narrow(0, 0, 2).clone();
  // A NaN would not survive the maximum: as infinity it still stops the run.
  auto max = torch::nan_to_num(losses_.narrow(0, 2, 1), INFINITY, INFINITY);
  std::vector<at::Tensor> sums = {images, means, counts_};
  group.all_reduce_sum(sums);
  // One call: the largest loss and the earliest unsound step (negated).
  std::vector<at::Tensor> maxes = {torch::cat({max, first_unsound_})};
  group.all_reduce_max(maxes);
  first_unsound_.copy_(maxes[0].narrow(0, 1, 1));
  max = maxes[0].narrow(0, 0, 1);
  if (root_only && group.rank() != 0) {
    clear_sums();
    return;
  }
  images_ = static_cast<int64_t>(std::llround(images.item<double>()));
  losses_.narrow(0, 0, 2).copy_(means / group.size());
  losses_.narrow(0, 2, 1).copy_(max);
}

WindowSummary MetricWindow::summary() const {
  WindowSummary w;
  w.steps = steps_;
  w.images = images_;
  const at::Tensor l = torch::cat({losses_, first_unsound_}).to(torch::kCPU);
  const at::Tensor c = counts_.to(torch::kCPU);
  const double n = static_cast<double>(std::max<int64_t>(steps_, 1));
  w.loss_labeled = l[0].item<double>() / n;
  w.loss_unlabeled = l[1].item<double>() / n;
  w.max_loss = l[2].item<double>();
  const double first = l[3].item<double>();
  w.first_unsound_step =
      std::isinf(first) ? -1 : static_cast<int64_t>(std::llround(-first));
  const auto a = c.accessor<int64_t, 2>();
  int64_t kept = 0, seen = 0;
  for (int k = 0; k < num_classes_; ++k) {
    kept += a[0][k];
    seen += a[1][k];
    w.mask_rate_per_class.push_back(
        a[1][k] ? static_cast<double>(a[0][k]) / a[1][k] : -1.0);
    w.pseudo_label_accuracy.push_back(
        a[2][k] ? static_cast<double>(a[3][k]) / a[2][k] : -1.0);
  }
  w.mask_rate = seen ? static_cast<double>(kept) / seen : 0.0;
  return w;
}

at::Tensor MetricWindow::to_tensor() const {
  return torch::cat({torch::tensor({static_cast<double>(steps_),
                                    static_cast<double>(images_)},
                                   torch::kFloat64),
                     losses_.to(torch::kCPU),
                     counts_.to(torch::kCPU, torch::kFloat64).reshape({-1})});
}

void MetricWindow::from_tensor(const at::Tensor& t) {
  SEMIFER_CHECK(t.dim() == 1 && t.numel() == 5 + 4 * num_classes_,
                "the checkpoint's metric window has ", t.numel(),
                " values, expected ", 5 + 4 * num_classes_);
  const at::Tensor v = t.to(torch::kCPU, torch::kFloat64).contiguous();
  steps_ = static_cast<int64_t>(v[0].item<double>());
  images_ = static_cast<int64_t>(v[1].item<double>());
  losses_ = v.narrow(0, 2, 3).clone().to(device_);
  counts_ = v.narrow(0, 5, 4 * num_classes_)
                .to(torch::kInt64)
                .reshape({4, num_classes_})
                .to(device_);
}

}  // namespace semifer::train
