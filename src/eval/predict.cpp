#include "semifer/eval/predict.h"

#include <torch/torch.h>

#include <filesystem>

#include "semifer/augment/functional.h"
#include "semifer/util/error.h"
#include "semifer/util/progress.h"

namespace fs = std::filesystem;

namespace semifer::eval {

at::Tensor predict_probs(models::ClassifierImpl& model,
                         const data::Dataset& dataset,
                         const std::vector<data::PoolItem>& items,
                         const augment::AugmentConfig& augment, int64_t batch,
                         util::ProgressBar* progress) {
  SEMIFER_CHECK(batch > 0, "the batch size must be positive, got ", batch);
  const bool was_training = model.is_training();
  model.eval();
  const int s = augment.size;
  const auto device = model.parameters().empty()
                          ? torch::Device(torch::kCPU)
                          : model.parameters().front().device();
  std::vector<at::Tensor> out;
  for (size_t start = 0; start < items.size();
       start += static_cast<size_t>(batch)) {
    const size_t n = std::min(items.size() - start, static_cast<size_t>(batch));
    auto x = torch::empty({static_cast<int64_t>(n), 3, s, s});
    float* dst = x.data_ptr<float>();
    // Decoding dominates at small sizes: spread it over the intra-op
    // threads (images are independent; an error is rethrown here).
    at::parallel_for(0, static_cast<int64_t>(n), 1, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) {
        const io::Image img =
            augment::resize(dataset.load(items[start + i]), s, s);
        augment::normalize_into(img, augment.mean, augment.std,
                                dst + i * 3 * s * s);
      }
    });
    c10::InferenceMode guard;
    out.push_back(
        torch::softmax(model.forward(x.to(device)), 1).to(torch::kCPU));
    if (progress) progress->update(static_cast<int64_t>(start + n));
  }
  model.train(was_training);
  if (out.empty()) return torch::empty({0, model.num_classes()});
  return torch::cat(out, 0);
}

void PredictOptions::validate() const {
  smooth.validate();
  SEMIFER_CHECK(batch > 0, "the batch size must be positive, got ", batch);
}

LoadedModel load_model(const std::string& checkpoint, train::Network network) {
  std::error_code ec;
  SEMIFER_CHECK(fs::is_regular_file(checkpoint, ec), "checkpoint ", checkpoint,
                " does not exist or is not a file");
  LoadedModel m;
  m.model = train::load_checkpoint_model(checkpoint, network, &m.info);
  return m;
}

Predictions predict(const std::string& checkpoint, const ImageSet& images,
                    const PredictOptions& options) {
  options.validate();
  return predict(load_model(checkpoint, options.network), images, options);
}

Predictions predict(const LoadedModel& loaded, const ImageSet& images,
                    const PredictOptions& options) {
  options.validate();
  const train::CheckpointInfo& info = loaded.info;
  models::ClassifierImpl& model = *loaded.model;
  augment::AugmentConfig augment;
  augment.size = info.size;
  augment.mean = info.mean;
  augment.std = info.std;

  Predictions p;
  p.classes = info.classes;
  const int num_classes = static_cast<int>(info.classes.size());
  util::ProgressBar bar("predict", static_cast<int64_t>(images.items.size()),
                        options.progress);
  bar.update(0);
  const at::Tensor probs = predict_probs(model, images.dataset, images.items,
                                         augment, options.batch, &bar)
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
