#include "semifer/infer/classify.h"

#include <torch/torch.h>

#include "semifer/augment/functional.h"
#include "semifer/util/error.h"

namespace semifer::infer {

at::Tensor classify(models::ClassifierImpl& model, int64_t n,
                    const ImageLoader& load, const InputSpec& input,
                    int64_t batch, const BatchDone& done) {
  SEMIFER_CHECK(batch > 0, "the batch size must be positive, got ", batch);
  input.validate();
  // A model already in eval mode is only read: calls on several threads at
  // once are safe (the Recognizer relies on it).
  struct EvalMode {
    models::ClassifierImpl& m;
    bool was_training;
    ~EvalMode() {
      if (was_training) m.train(true);
    }
  } mode{model, model.is_training()};
  if (mode.was_training) model.eval();
  const int s = input.size;
  const auto device = model.parameters().empty()
                          ? torch::Device(torch::kCPU)
                          : model.parameters().front().device();
  std::vector<at::Tensor> out;
  for (int64_t start = 0; start < n; start += batch) {
    const int64_t b = std::min(n - start, batch);
    auto x = torch::empty({b, 3, s, s});
    float* dst = x.data_ptr<float>();
    // Decoding dominates at small sizes: spread it over the intra-op
    // threads (images are independent; an error is rethrown here).
    at::parallel_for(0, b, 1, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i) {
        const io::Image img = augment::resize(load(start + i), s, s);
        augment::normalize_into(img, input.mean, input.std,
                                dst + i * 3 * s * s);
      }
    });
    c10::InferenceMode guard;
    out.push_back(
        torch::softmax(model.forward(x.to(device)), 1).to(torch::kCPU));
    if (done) done(start + b);
  }
  if (out.empty()) return torch::empty({0, model.num_classes()});
  return torch::cat(out, 0);
}

at::Tensor classify(models::ClassifierImpl& model, const data::Dataset& dataset,
                    const std::vector<data::PoolItem>& items,
                    const InputSpec& input, int64_t batch,
                    const BatchDone& done) {
  return classify(
      model, static_cast<int64_t>(items.size()),
      [&](int64_t i) { return dataset.load(items[static_cast<size_t>(i)]); },
      input, batch, done);
}

}  // namespace semifer::infer
