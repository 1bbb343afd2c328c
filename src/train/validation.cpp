#include "semifer/train/validation.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>

#include "semifer/augment/functional.h"
#include "semifer/augment/views.h"
#include "semifer/infer/classify.h"
#include "semifer/infer/metrics.h"
#include "semifer/train/distributed.h"
#include "semifer/train/state.h"
#include "semifer/util/error.h"
#include "semifer/util/log.h"
#include "semifer/util/random.h"

namespace semifer::train {

namespace {

std::vector<int64_t> labels_of(const std::vector<data::PoolItem>& items) {
  std::vector<int64_t> out;
  out.reserve(items.size());
  for (const auto& item : items) out.push_back(item.label);
  return out;
}

io::ValidationScores scores(const infer::ConfusionMatrix& m,
                            const std::vector<std::string>& names) {
  io::ValidationScores s;
  std::vector<double> f1;
  for (int c = 0; c < m.num_classes(); ++c) f1.push_back(m.f1(c));
  s.accuracy = m.accuracy();
  s.macro_f1 = m.macro_f1();
  s.f1 = io::per_class(names, f1);
  s.confusion = m.rows();
  return s;
}

std::vector<std::vector<data::PoolItem>> by_class(
    const std::vector<data::PoolItem>& items, size_t num_classes) {
  std::vector<std::vector<data::PoolItem>> out(num_classes);
  for (const auto& item : items) out[item.label].push_back(item);
  return out;
}

}  // namespace

std::vector<data::PoolItem> hold_out(data::Dataset& dataset, double fraction,
                                     uint64_t seed) {
  SEMIFER_CHECK(fraction > 0 && fraction < 1,
                "ssl.dtm_holdout must lie in (0, 1), got ", fraction);
  auto classes = by_class(dataset.labeled, dataset.classes.names().size());
  util::Generator gen({seed, 0x401dULL});
  std::vector<data::PoolItem> kept, held;
  for (auto& items : classes) {
    gen.shuffle(items);
    const auto n = static_cast<int64_t>(items.size());
    int64_t k = static_cast<int64_t>(std::llround(fraction * n));
    if (n >= 2)
      k = std::clamp<int64_t>(k, 1, n - 1);
    else
      k = 0;
    held.insert(held.end(), items.begin(), items.begin() + k);
    kept.insert(kept.end(), items.begin() + k, items.end());
  }
  dataset.labeled = std::move(kept);
  return held;
}

EpochEvaluator::EpochEvaluator(std::shared_ptr<const data::Dataset> dataset,
                               const TrainConfig& config,
                               std::vector<data::PoolItem> dtm_pool)
    : dataset_(std::move(dataset)),
      input_{config.augment.size, config.augment.mean, config.augment.std},
      augment_(config.augment),
      seed_(config.train.seed),
      weak_view_(config.ssl.dtm_weak_view),
      names_(dataset_->classes.names()) {
  const auto seed = config.train.seed;
  const auto cap = config.ssl.dtm_per_class;
  // The labeled samples the teacher predicts for the DTM: a fixed, seeded
  // cap per class.
  auto by_label =
      by_class(dtm_pool.empty() ? dataset_->labeled : dtm_pool, names_.size());
  util::Generator gen({seed, 0xd7e5ULL});
  for (auto& items : by_label) {
    gen.shuffle(items);
    if (cap > 0 && static_cast<int64_t>(items.size()) > cap)
      items.resize(static_cast<size_t>(cap));
    dtm_items_.insert(dtm_items_.end(), items.begin(), items.end());
  }
  val_items_ = dataset_->validation;
  if (config.eval_max > 0 &&
      static_cast<int64_t>(val_items_.size()) > config.eval_max) {
    // A seeded random sample: pools are ordered by source and class, so the
    // first N would leave classes out.
    util::Generator vgen({seed, 0xe7a1ULL});
    vgen.shuffle(val_items_);
    val_items_.resize(static_cast<size_t>(config.eval_max));
  }
  dtm_.what = "DTM";
  val_.what = "validation";
  take_shares();
}

void EpochEvaluator::take_shares() {
  const int64_t r = group_ ? group_->rank() : 0;
  const int64_t w = group_ ? group_->size() : 1;
  auto share = [&](const std::vector<data::PoolItem>& all, Share& out) {
    const auto total = static_cast<int64_t>(all.size());
    const int64_t first = total * r / w, last = total * (r + 1) / w;
    out.items.assign(all.begin() + first, all.begin() + last);
    out.labels = labels_of(out.items);
    out.keys.clear();
    for (int64_t k = first; k < last; ++k) out.keys.push_back(k);
  };
  share(dtm_items_, dtm_);
  share(val_items_, val_);
}

void EpochEvaluator::Share::drop(const infer::Skipped& skipped,
                                 int64_t* total) {
  if (skipped.positions.empty()) return;
  *total += static_cast<int64_t>(skipped.positions.size());
  util::log_message(
      str("warning: ", skipped.positions.size(), " ", what,
          " image(s) cannot be decoded and are left out from now on (their "
          "sources' images have on_error: skip; ",
          *total, " so far): ", skipped.messages.front(),
          skipped.messages.size() > 1 ? " (and more)" : ""));
  for (auto it = skipped.positions.rbegin(); it != skipped.positions.rend();
       ++it) {
    const auto i = static_cast<std::ptrdiff_t>(*it);
    items.erase(items.begin() + i);
    labels.erase(labels.begin() + i);
    keys.erase(keys.begin() + i);
  }
}

void EpochEvaluator::set_group(std::shared_ptr<Group> group) {
  group_ = std::move(group);
  take_shares();
}

std::vector<double> EpochEvaluator::update_thresholds(TrainState& state) const {
  at::Tensor probs;
  const auto may_skip = infer::skip_as_sources_say(*dataset_);
  infer::Skipped skipped;
  if (weak_view_) {
    // A weak view per image, drawn anew at each update (Ada-CM measures the
    // teacher on the training views).
    const auto step = static_cast<uint64_t>(state.step);
    probs = infer::classify_skipping(
        *state.teacher, static_cast<int64_t>(dtm_.items.size()),
        [&](int64_t i) {
          const auto k = static_cast<size_t>(i);
          util::Generator gen(
              {seed_, 0xd7e6ULL, step, static_cast<uint64_t>(dtm_.keys[k])});
          const auto resized = augment::resize(dataset_->load(dtm_.items[k]),
                                               augment_.size, augment_.size);
          return augment::apply_plan(resized, augment::plan_weak(augment_, gen),
                                     augment_);
        },
        [&](int64_t i) { return may_skip(dtm_.items[static_cast<size_t>(i)]); },
        skipped, input_);
  } else {
    probs = infer::classify(*state.teacher, *dataset_, dtm_.items, input_, 64,
                            {}, may_skip, &skipped);
  }
  dtm_.drop(skipped, &skipped_);
  at::Tensor sums = state.thresholds.measure(
      probs, torch::tensor(dtm_.labels, torch::kInt64));
  if (group_) {
    std::vector<at::Tensor> t = {sums};
    group_->all_reduce_sum(t);
  }
  const auto u = state.thresholds.apply(sums);
  state.thresholds_changed();
  return u.mean_confidence;
}

std::optional<EpochEvaluator::Scores> EpochEvaluator::validate(
    TrainState& state) const {
  if (val_items_.empty()) return std::nullopt;
  const auto c = static_cast<int>(names_.size());
  const auto may_skip = infer::skip_as_sources_say(*dataset_);
  auto score = [&](models::ClassifierImpl& model) {
    infer::Skipped skipped;
    const at::Tensor pred = infer::classify(model, *dataset_, val_.items,
                                            input_, 64, {}, may_skip, &skipped)
                                .argmax(1)
                                .contiguous();
    val_.drop(skipped, &skipped_);
    const auto& labels = val_.labels;
    infer::ConfusionMatrix m(c);
    m.add(labels,
          std::vector<int64_t>(pred.data_ptr<int64_t>(),
                               pred.data_ptr<int64_t>() + pred.numel()));
    if (!group_) return scores(m, names_);
    std::vector<int64_t> counts;
    for (const auto& row : m.rows())
      counts.insert(counts.end(), row.begin(), row.end());
    std::vector<at::Tensor> t = {torch::tensor(counts, torch::kInt64)};
    group_->all_reduce_sum(t);
    const auto all = t[0].contiguous();
    infer::ConfusionMatrix sum(c);
    for (int i = 0; i < c; ++i)
      for (int j = 0; j < c; ++j) sum.add(i, j, all[i * c + j].item<int64_t>());
    return scores(sum, names_);
  };
  Scores s;
  s.a = score(*state.student);
  s.b = score(*state.teacher);
  return s;
}

}  // namespace semifer::train
