#include "semifer/eval/predict.h"

#include <torch/torch.h>

#include "semifer/augment/functional.h"

namespace semifer::eval {

at::Tensor predict_probs(models::ClassifierImpl& model,
                         const data::Dataset& dataset,
                         const std::vector<data::PoolItem>& items,
                         const augment::AugmentConfig& augment, int64_t batch) {
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
    for (size_t i = 0; i < n; ++i) {
      const io::Image img =
          augment::resize(dataset.load(items[start + i]), s, s);
      augment::normalize_into(img, augment.mean, augment.std,
                              x.data_ptr<float>() + i * 3 * s * s);
    }
    c10::InferenceMode guard;
    out.push_back(
        torch::softmax(model.forward(x.to(device)), 1).to(torch::kCPU));
  }
  model.train(was_training);
  if (out.empty()) return torch::empty({0, model.num_classes()});
  return torch::cat(out, 0);
}

}  // namespace semifer::eval
