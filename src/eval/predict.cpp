#include "semifer/eval/predict.h"

#include <torch/torch.h>

#include <algorithm>
#include <iomanip>
#include <sstream>

#include "semifer/infer/classify.h"
#include "semifer/util/error.h"
#include "semifer/util/log.h"

namespace semifer::eval {

void PredictOptions::validate() const {
  smooth.validate();
  SEMIFER_CHECK(batch > 0, "the batch size must be positive, got ", batch);
}

Predictions predict(const std::string& checkpoint, const ImageSet& images,
                    const PredictOptions& options) {
  options.validate();
  return predict(infer::load_model(checkpoint, options.network), images,
                 options);
}

Predictions predict(const LoadedModel& loaded, const ImageSet& images,
                    const PredictOptions& options) {
  options.validate();
  const infer::ModelCard& card = loaded.card;
  models::ClassifierImpl& model = *loaded.model;

  Predictions p;
  p.classes = card.classes;
  const int num_classes = static_cast<int>(card.classes.size());
  util::Progress bar("predict", static_cast<int64_t>(images.items.size()),
                     options.progress);
  bar.update(0);
  infer::Skipped skipped;
  const infer::MaySkip may_skip = [](const data::PoolItem&) { return true; };
  const at::Tensor probs =
      infer::classify(
          model, images.dataset, images.items, card.input, options.batch,
          [&](int64_t done) { bar.update(done); },
          options.skip_bad ? may_skip : infer::MaySkip{}, &skipped)
          .contiguous();
  bar.finish();
  p.probs.assign(probs.data_ptr<float>(),
                 probs.data_ptr<float>() + probs.numel());
  p.skipped = std::move(skipped.messages);
  std::vector<data::PoolItem> kept;
  kept.reserve(images.items.size());
  size_t next = 0;
  for (size_t i = 0; i < images.items.size(); ++i) {
    if (next < skipped.positions.size() && skipped.positions[next] == i) {
      ++next;
      continue;
    }
    p.items.push_back(i);
    kept.push_back(images.items[i]);
    p.paths.push_back(images.dataset.describe(images.items[i]));
  }
  p.videos = group_videos(images.dataset, kept);
  SmoothedLabels smoothed =
      smooth_items(p.videos, p.probs, num_classes, options.smooth);
  p.labels = std::move(smoothed.items);
  p.video_labels = std::move(smoothed.videos);
  return p;
}

std::string one_class_warning(const std::vector<int>& predicted,
                              const std::vector<std::string>& classes,
                              const std::vector<int>* truth) {
  const auto n = static_cast<int64_t>(predicted.size());
  if (n < 20 || classes.empty()) return "";
  std::vector<int64_t> count(classes.size(), 0);
  for (int c : predicted) {
    if (c >= 0 && static_cast<size_t>(c) < count.size()) ++count[c];
  }
  const auto top = static_cast<int>(
      std::max_element(count.begin(), count.end()) - count.begin());
  const double share = static_cast<double>(count[top]) / n;
  if (share < 0.9) return "";
  std::ostringstream o;
  o << std::fixed << std::setprecision(0) << "the model predicts "
    << classes[top] << " for " << 100 * share << "% of the " << n << " images";
  if (truth) {
    const auto same = std::count(truth->begin(), truth->end(), top);
    const double true_share = static_cast<double>(same) / truth->size();
    if (true_share >= 0.5) return "";
    o << ", while " << 100 * true_share << "% of them are " << classes[top];
  }
  o << ": it looks degenerate (a short run's EMA teacher is still near its "
       "initial weights); try --network A, checkpoint_best.pt or a longer "
       "run";
  return o.str();
}

}  // namespace semifer::eval
