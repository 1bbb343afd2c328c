#include "semifer/data/loader.h"

#include <torch/torch.h>

#include <cstring>
#include <functional>
#include <numeric>

#include "semifer/augment/functional.h"
#include "semifer/augment/views.h"
#include "semifer/util/error.h"
#include "semifer/util/random.h"
#include "semifer/util/threads.h"

namespace semifer::data {

namespace {
// Independent streams derived from the one seed.
constexpr uint64_t kUnlabeledOrder = 0x0d3e5ULL;
constexpr uint64_t kLabeledViews = 0x1abe1ULL;
constexpr uint64_t kUnlabeledViews = 0x0b1abULL;
constexpr size_t kMaxExamples = 5;

// The plans in page-locked memory where the loader's batches are.
augment::PlanBatch pinned_plans(augment::PlanBatch plans, bool pin) {
  return pin ? plans.pinned() : plans;
}

// device_views: a batch's resized images and the plans of their views, drawn
// as make_views draws them.
struct ResizedBatch {
  const augment::AugmentConfig& config;
  at::Tensor images;  // [n, S, S, 3] uint8
  std::vector<augment::ViewPlan> weak, strong;

  void add(const io::Image& image, uint64_t seed, int64_t epoch, int64_t index,
           bool with_strong) {
    const io::Image r = augment::resize(image, config.size, config.size);
    const size_t bytes = r.data.size();
    std::memcpy(images.data_ptr<uint8_t>() + weak.size() * bytes, r.data.data(),
                bytes);
    weak.emplace_back();
    if (with_strong) strong.emplace_back();
    augment::draw_plans(config, seed, epoch, index, &weak.back(),
                        with_strong ? &strong.back() : nullptr);
  }
};

}  // namespace

void LoaderConfig::validate() const {
  SEMIFER_CHECK(batch_labeled >= 0 && batch_unlabeled >= 0 &&
                    batch_labeled + batch_unlabeled > 0,
                "loader batch sizes must be >= 0 and not both 0");
  SEMIFER_CHECK(threads >= 1, "loader threads must be >= 1, got ", threads);
  SEMIFER_CHECK(prefetch >= 1, "loader prefetch must be >= 1, got ", prefetch);
  SEMIFER_CHECK(world_size >= 1 && rank >= 0 && rank < world_size,
                "loader rank ", rank, " of world size ", world_size);
}

Loader::Loader(std::shared_ptr<const Dataset> dataset,
               augment::AugmentConfig augment, LoaderConfig config,
               int64_t first_step)
    : dataset_(std::move(dataset)),
      augment_(augment),
      config_(config),
      next_to_build_(first_step),
      next_to_return_(first_step) {
  SEMIFER_CHECK(dataset_, "loader: no dataset");
  config_.validate();
  augment_.validate();
  SEMIFER_CHECK(first_step >= 0, "loader: negative first step");
  if (config_.batch_labeled > 0) {
    SEMIFER_CHECK(!dataset_->labeled.empty(),
                  "the labeled pool is empty, but batch_labeled is ",
                  config_.batch_labeled);
    sampler_ = std::make_unique<ClassBalancedSampler>(
        dataset_->labeled, dataset_->classes.size(),
        dataset_->sampling.per_class, dataset_->sampling.seed);
  }
  SEMIFER_CHECK(config_.batch_unlabeled == 0 || !dataset_->unlabeled.empty(),
                "the unlabeled pool is empty, but batch_unlabeled is ",
                config_.batch_unlabeled);
  pinned_ = config_.pin_memory && torch::cuda::is_available();
  util::start_threads(
      workers_, config_.threads, [this] { work(); }, "loader threads",
      [this] {
        {
          std::lock_guard<std::mutex> lock(mutex_);
          stop_ = true;
        }
        space_cv_.notify_all();
        ready_cv_.notify_all();
      });
}

Loader::~Loader() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  space_cv_.notify_all();
  ready_cv_.notify_all();
  for (auto& w : workers_) w.join();
}

int64_t Loader::position() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return next_to_return_;
}

int64_t Loader::ready() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return static_cast<int64_t>(ready_.size());
}

std::vector<std::string> Loader::skipped_examples() const {
  std::lock_guard<std::mutex> lock(skipped_mutex_);
  return skipped_examples_;
}

Step Loader::next() {
  std::unique_lock<std::mutex> lock(mutex_);
  const int64_t s = next_to_return_;
  ready_cv_.wait(lock, [&] { return ready_.count(s) || failed_.count(s); });
  if (auto it = failed_.find(s); it != failed_.end())
    std::rethrow_exception(it->second);
  Step step = std::move(ready_[s]);
  ready_.erase(s);
  ++next_to_return_;
  lock.unlock();
  space_cv_.notify_all();
  return step;
}

void Loader::work() {
  for (;;) {
    int64_t s;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      space_cv_.wait(lock, [&] {
        return stop_ ||
               next_to_build_ < next_to_return_ + config_.steps_ahead();
      });
      if (stop_) return;
      s = next_to_build_++;
    }
    try {
      Step step = build(s);
      std::lock_guard<std::mutex> lock(mutex_);
      ready_.emplace(s, std::move(step));
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex_);
      failed_.emplace(s, std::current_exception());
    }
    ready_cv_.notify_all();
  }
}

std::shared_ptr<const std::vector<uint32_t>> Loader::order(
    OrderCache& cache, int64_t epoch,
    const std::function<std::vector<uint32_t>()>& make) {
  std::lock_guard<std::mutex> lock(order_mutex_);
  auto& slot = cache[epoch];
  if (!slot) slot = std::make_shared<const std::vector<uint32_t>>(make());
  auto result = slot;
  // Workers are at most a few steps apart: older epochs are done with.
  while (cache.size() > 3) cache.erase(cache.begin());
  return result;
}

uint32_t Loader::labeled_at(int64_t position, int64_t* epoch, int64_t* offset) {
  const int64_t size = sampler_->epoch_size();
  *epoch = position / size;
  *offset = position % size;
  const int64_t e = *epoch;
  return (*order(labeled_orders_, e, [&] {
    return sampler_->epoch(e);
  }))[static_cast<size_t>(*offset)];
}

uint32_t Loader::unlabeled_at(int64_t position, int64_t* epoch,
                              int64_t* offset) {
  const auto size = static_cast<int64_t>(dataset_->unlabeled.size());
  *epoch = position / size;
  *offset = position % size;
  const int64_t e = *epoch;
  return (*order(unlabeled_orders_, e, [&] {
    std::vector<uint32_t> perm(static_cast<size_t>(size));
    std::iota(perm.begin(), perm.end(), 0u);
    util::Generator gen(
        {config_.seed, kUnlabeledOrder, static_cast<uint64_t>(e)});
    gen.shuffle(perm);
    return perm;
  }))[static_cast<size_t>(*offset)];
}

io::Image Loader::load_or_replace(const std::vector<PoolItem>& pool,
                                  uint32_t index, bool same_label) {
  const size_t n = pool.size();
  for (size_t k = 0; k < n; ++k) {
    const PoolItem& item = pool[(index + k) % n];
    // A labeled replacement keeps the class, so the batch keeps its labels.
    if (k > 0 && same_label && item.label != pool[index].label) continue;
    try {
      return dataset_->load(item);
    } catch (const std::exception& e) {
      if (dataset_->reports[item.source].on_image_error == OnError::kFail)
        throw;
      ++skipped_;
      std::lock_guard<std::mutex> lock(skipped_mutex_);
      if (skipped_examples_.size() < kMaxExamples)
        skipped_examples_.push_back(e.what());
    }
  }
  fail("no image of ", dataset_->describe(pool[index]),
       "'s class decodes; see the skipped images reported before");
}

at::Tensor Loader::take_buffer(at::IntArrayRef sizes, at::ScalarType dtype) {
  if (pinned_) {
    // Page-locked memory comes from LibTorch's caching host allocator, which
    // also knows when an asynchronous copy out of a block has finished; a
    // pool of our own would not.
    return torch::empty(
        sizes, torch::TensorOptions().dtype(dtype).pinned_memory(true));
  }
  {
    std::lock_guard<std::mutex> lock(buffers_mutex_);
    for (const auto& t : buffers_) {
      if (t.scalar_type() == dtype && t.sizes() == sizes &&
          t.use_count() == 1 && t.storage().use_count() == 1) {
        return t;
      }
    }
  }
  auto t = torch::empty(sizes, torch::TensorOptions().dtype(dtype));
  std::lock_guard<std::mutex> lock(buffers_mutex_);
  // Enough for every step in flight: queued, being built, being consumed.
  const size_t cap =
      static_cast<size_t>(7 * (config_.steps_ahead() + config_.threads + 2));
  if (buffers_.size() < cap) buffers_.push_back(t);
  return t;
}

Step Loader::build(int64_t s) {
  Step step;
  step.step = s;
  const int size = augment_.size;
  const int64_t plane = 3LL * size * size;
  const uint64_t labeled_seed = util::mix64(config_.seed ^ kLabeledViews);
  const uint64_t unlabeled_seed = util::mix64(config_.seed ^ kUnlabeledViews);
  const bool device_views = config_.device_views;

  // This rank's slice of the step's samples (the whole step for one rank).
  const int64_t shard = s * config_.world_size + config_.rank;
  const int64_t b = config_.batch_labeled;
  if (b > 0) {
    const int64_t first = shard * b;
    auto& lb = step.labeled;
    lb.y = take_buffer({b}, torch::kInt64);
    lb.index = take_buffer({b}, torch::kInt64);
    ResizedBatch resized{augment_,
                         device_views
                             ? take_buffer({b, size, size, 3}, torch::kUInt8)
                             : at::Tensor(),
                         {},
                         {}};
    if (!device_views)
      lb.x_weak = take_buffer({b, 3, size, size}, torch::kFloat32);
    int64_t* y = lb.y.data_ptr<int64_t>();
    int64_t* idx = lb.index.data_ptr<int64_t>();
    for (int64_t i = 0; i < b; ++i) {
      int64_t epoch, offset;
      const uint32_t k = labeled_at(first + i, &epoch, &offset);
      const io::Image img = load_or_replace(dataset_->labeled, k, true);
      if (device_views) {
        resized.add(img, labeled_seed, epoch, offset, false);
      } else {
        augment::make_views(img, augment_, labeled_seed, epoch, offset,
                            lb.x_weak.data_ptr<float>() + i * plane, nullptr);
      }
      y[i] = dataset_->labeled[k].label;
      idx[i] = k;
    }
    if (device_views) {
      lb.images = resized.images;
      lb.weak_plans =
          pinned_plans(augment::pack_plans(resized.weak, augment_), pinned_);
    }
  }
  const int64_t u = config_.batch_unlabeled;
  if (u > 0) {
    const int64_t first = shard * u;
    auto& ub = step.unlabeled;
    if (!device_views) {
      ub.x_weak = take_buffer({u, 3, size, size}, torch::kFloat32);
      ub.x_strong = take_buffer({u, 3, size, size}, torch::kFloat32);
    }
    ub.index = take_buffer({u}, torch::kInt64);
    ub.source = take_buffer({u}, torch::kInt64);
    ub.hidden_label = take_buffer({u}, torch::kInt64);
    ResizedBatch resized{augment_,
                         device_views
                             ? take_buffer({u, size, size, 3}, torch::kUInt8)
                             : at::Tensor(),
                         {},
                         {}};
    for (int64_t i = 0; i < u; ++i) {
      int64_t epoch, offset;
      const uint32_t k = unlabeled_at(first + i, &epoch, &offset);
      const io::Image img = load_or_replace(dataset_->unlabeled, k, false);
      if (device_views) {
        resized.add(img, unlabeled_seed, epoch, offset, true);
      } else {
        augment::make_views(img, augment_, unlabeled_seed, epoch, offset,
                            ub.x_weak.data_ptr<float>() + i * plane,
                            ub.x_strong.data_ptr<float>() + i * plane);
      }
      const PoolItem& item = dataset_->unlabeled[k];
      ub.index.data_ptr<int64_t>()[i] = k;
      ub.source.data_ptr<int64_t>()[i] = item.source;
      ub.hidden_label.data_ptr<int64_t>()[i] = item.label;
    }
    if (device_views) {
      ub.images = resized.images;
      ub.weak_plans =
          pinned_plans(augment::pack_plans(resized.weak, augment_), pinned_);
      ub.strong_plans =
          pinned_plans(augment::pack_plans(resized.strong, augment_), pinned_);
    }
  }
  return step;
}

void render_step_views(Step& step, const augment::AugmentConfig& config,
                       const c10::Device& device) {
  auto& lb = step.labeled;
  auto& ub = step.unlabeled;
  const bool labeled = lb.images.defined(), unlabeled = ub.images.defined();
  if (!labeled && !unlabeled) return;
  // One render for the step: samples [labeled weak; unlabeled weak;
  // unlabeled strong] over the images [labeled; unlabeled], the unlabeled
  // ones used twice.
  const int64_t b = labeled ? lb.images.size(0) : 0;
  const int64_t u = unlabeled ? ub.images.size(0) : 0;
  // Everything moves from the loader's page-locked buffers before it is
  // combined on the device (combined on the host first, it would be
  // pageable again, and such a copy waits for the device).
  std::vector<at::Tensor> images;
  std::vector<augment::PlanBatch> plans;
  if (labeled) {
    images.push_back(lb.images.to(device, /*non_blocking=*/true));
    plans.push_back(lb.weak_plans.to(device));
  }
  if (unlabeled) {
    images.push_back(ub.images.to(device, /*non_blocking=*/true));
    plans.push_back(ub.weak_plans.to(device));
    plans.push_back(ub.strong_plans.to(device));
  }
  const auto on_device = at::TensorOptions(device).dtype(at::kLong);
  const at::Tensor image_index =
      at::cat({at::arange(b + u, on_device), at::arange(b, b + u, on_device)});
  const at::Tensor views =
      augment::render_views(images.size() == 1 ? images[0] : at::cat(images),
                            augment::cat(plans), config, image_index);
  if (labeled) {
    lb.x_weak = views.narrow(0, 0, b);
    lb.images = at::Tensor();
    lb.weak_plans = augment::PlanBatch();
  }
  if (unlabeled) {
    ub.x_weak = views.narrow(0, b, u);
    ub.x_strong = views.narrow(0, b + u, u);
    ub.images = at::Tensor();
    ub.weak_plans = augment::PlanBatch();
    ub.strong_plans = augment::PlanBatch();
  }
}

}  // namespace semifer::data
