#include "semifer/infer/classify.h"

#include <torch/torch.h>

#include <algorithm>
#include <mutex>
#include <utility>

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

at::Tensor classify_skipping(models::ClassifierImpl& model, int64_t n,
                             const ImageLoader& load,
                             const std::function<bool(int64_t)>& may_skip,
                             Skipped& skipped, const InputSpec& input,
                             int64_t batch, const BatchDone& done) {
  std::mutex mutex;
  std::vector<std::pair<size_t, std::string>> bad;
  const at::Tensor probs = classify(
      model, n,
      [&](int64_t i) {
        try {
          return load(i);
        } catch (const Error& e) {
          if (!may_skip(i)) throw;
          std::lock_guard<std::mutex> lock(mutex);
          bad.emplace_back(static_cast<size_t>(i), e.what());
          return io::Image(1, 1);  // a stand-in whose row is dropped below
        }
      },
      input, batch, done);
  if (bad.empty()) return probs;
  std::sort(bad.begin(), bad.end());
  std::vector<int64_t> kept;
  size_t next = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (next < bad.size() && bad[next].first == static_cast<size_t>(i)) {
      skipped.positions.push_back(bad[next].first);
      skipped.messages.push_back(bad[next].second);
      ++next;
    } else {
      kept.push_back(i);
    }
  }
  return probs.index_select(0, torch::tensor(kept, torch::kInt64));
}

at::Tensor classify(models::ClassifierImpl& model, const data::Dataset& dataset,
                    const std::vector<data::PoolItem>& items,
                    const InputSpec& input, int64_t batch,
                    const BatchDone& done, const MaySkip& may_skip,
                    Skipped* skipped) {
  const auto n = static_cast<int64_t>(items.size());
  auto load = [&](int64_t i) {
    return dataset.load(items[static_cast<size_t>(i)]);
  };
  if (!may_skip || !skipped)
    return classify(model, n, load, input, batch, done);
  return classify_skipping(
      model, n, load,
      [&](int64_t i) { return may_skip(items[static_cast<size_t>(i)]); },
      *skipped, input, batch, done);
}

MaySkip skip_as_sources_say(const data::Dataset& dataset) {
  return [&dataset](const data::PoolItem& item) {
    return dataset.reports[item.source].on_image_error == data::OnError::kSkip;
  };
}

}  // namespace semifer::infer
