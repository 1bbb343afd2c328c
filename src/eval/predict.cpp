#include "semifer/eval/predict.h"

#include <torch/torch.h>

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
  const at::Tensor probs =
      infer::classify(model, images.dataset, images.items, card.input,
                      options.batch, [&](int64_t done) { bar.update(done); })
          .contiguous();
  bar.finish();
  p.probs.assign(probs.data_ptr<float>(),
                 probs.data_ptr<float>() + probs.numel());
  p.paths.reserve(images.items.size());
  for (const auto& item : images.items)
    p.paths.push_back(images.dataset.describe(item));
  p.videos = group_videos(images.dataset, images.items);
  SmoothedLabels smoothed =
      smooth_items(p.videos, p.probs, num_classes, options.smooth);
  p.labels = std::move(smoothed.items);
  p.video_labels = std::move(smoothed.videos);
  return p;
}

}  // namespace semifer::eval
