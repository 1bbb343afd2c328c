#pragma once

#include <ATen/core/Tensor.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "semifer/augment/batched.h"
#include "semifer/augment/config.h"
#include "semifer/data/dataset.h"
#include "semifer/data/sampler.h"

namespace semifer::data {

/// Batch sizes, threads and prefetch of the input pipeline.
struct LoaderConfig {
  int64_t batch_labeled = 32;    ///< labeled samples per step (0: none)
  int64_t batch_unlabeled = 32;  ///< unlabeled samples per step (0: none)
  int threads = 2;               ///< worker threads that decode and augment
  /// Steps prepared ahead of the consumer; at least one per thread (each
  /// thread builds one step at a time), see steps_ahead().
  int prefetch = 4;
  uint64_t seed = 0;  ///< seed of the unlabeled order and the views
  /// Page-locked batches when LibTorch has CUDA (faster host-to-device copies).
  bool pin_memory = true;
  /// A data-parallel rank's share: step s of rank r of W holds samples
  /// [r * batch, (r + 1) * batch) of what one process with W times the
  /// batches draws at step s.
  int rank = 0;
  int world_size = 1;
  /// Views on the device: workers only decode and resize, into
  /// LabeledBatch/UnlabeledBatch::images with the plans drawn as the CPU path
  /// draws them; render_step_views then renders the views where the model
  /// runs (docs/augment.md, "On the device"). Off: workers render the views
  /// on CPU threads, the default on CPU machines.
  bool device_views = false;

  void validate() const;
  /// The most steps prepared or in preparation at once: `prefetch`, but at
  /// least `threads`, so that no thread waits while the consumer waits.
  int steps_ahead() const { return prefetch > threads ? prefetch : threads; }
};

/// The labeled half of a step.
struct LabeledBatch {
  /// [B, 3, S, S] float32, weak view, normalised (with device_views:
  /// undefined until render_step_views).
  at::Tensor x_weak;
  at::Tensor y;      ///< [B] int64, model class index
  at::Tensor index;  ///< [B] int64, position in Dataset::labeled
  /// device_views only: [B, S, S, 3] uint8 resized images and the weak
  /// views' plans, until render_step_views turns them into x_weak.
  at::Tensor images;
  augment::PlanBatch weak_plans;
};

/// The unlabeled half of a step.
struct UnlabeledBatch {
  at::Tensor x_weak;        ///< [U, 3, S, S] float32 (see LabeledBatch)
  at::Tensor x_strong;      ///< [U, 3, S, S] float32, same images
  at::Tensor index;         ///< [U] int64, position in Dataset::unlabeled
  at::Tensor source;        ///< [U] int64, index into Dataset::tables
  at::Tensor hidden_label;  ///< [U] int64, for diagnostics only; -1 unknown
  /// device_views only: [U, S, S, 3] uint8 resized images and the plans of
  /// both views, until render_step_views.
  at::Tensor images;
  augment::PlanBatch weak_plans;
  augment::PlanBatch strong_plans;
};

/// One training step's input.
struct Step {
  int64_t step = 0;  ///< global step number, from 0
  LabeledBatch labeled;
  UnlabeledBatch unlabeled;
};

/// Renders a step of a device_views Loader on `device`: moves the images and
/// plans there and renders [labeled weak; unlabeled weak; unlabeled strong]
/// with one augment::render_views call into one [B + 2U, 3, S, S] float32
/// tensor, whose slices (narrow views) become x_weak and x_strong; drops the
/// images and plans. No host synchronisation (augment/batched.h). The step
/// is then the one the CPU path gives, its views on `device`: bit for bit on
/// the CPU but for samples with a geometric RandAugment op, which stay within
/// the bound docs/augment.md states; labels and indices stay where they
/// were. Does nothing to a step that has no images. `config` is the
/// loader's AugmentConfig.
void render_step_views(Step& step, const augment::AugmentConfig& config,
                       const c10::Device& device);

/// The input pipeline: worker threads decode and augment whole steps ahead
/// of the consumer, into a bounded queue, and hand them over in order.
///
/// Step s is a pure function of (dataset, configs, s): labeled samples come
/// from the class-balanced sampler's stream, unlabeled ones from a per-epoch
/// shuffle of the unlabeled pool, and each sample's views from
/// Generator({seed, epoch, position}). So results do not depend on the
/// number of threads, and a run resumes at any step by starting there.
///
/// A worker error (an undecodable image of a source with `on_error: fail`)
/// is rethrown by next() with its message naming the file. Destroying the
/// loader stops and joins the workers at any time.
class Loader {
 public:
  Loader(std::shared_ptr<const Dataset> dataset, augment::AugmentConfig augment,
         LoaderConfig config, int64_t first_step = 0);
  ~Loader();
  Loader(const Loader&) = delete;
  Loader& operator=(const Loader&) = delete;

  /// The next step, in order; blocks until it is ready.
  Step next();

  /// The step next() returns next (for checkpoints).
  int64_t position() const;
  /// Steps built and waiting for next(): LoaderConfig::steps_ahead() at
  /// most; at that bound the consumer, not the loader, is behind.
  int64_t ready() const;

  /// Images that failed to decode and were replaced (`on_error: skip`).
  int64_t skipped_images() const { return skipped_.load(); }
  /// The first few of those, with the reason.
  std::vector<std::string> skipped_examples() const;

 private:
  void work();
  Step build(int64_t step);
  // Position p of a stream -> (epoch, offset, pool index).
  uint32_t labeled_at(int64_t position, int64_t* epoch, int64_t* offset);
  uint32_t unlabeled_at(int64_t position, int64_t* epoch, int64_t* offset);
  // Decodes pool[index]; under on_error skip, the next decodable item (of
  // the same class when `same_label`) stands in.
  io::Image load_or_replace(const std::vector<PoolItem>& pool, uint32_t index,
                            bool same_label);

  std::shared_ptr<const Dataset> dataset_;
  augment::AugmentConfig augment_;
  LoaderConfig config_;
  std::unique_ptr<ClassBalancedSampler> sampler_;
  bool pinned_ = false;

  mutable std::mutex mutex_;
  std::condition_variable ready_cv_;
  std::condition_variable space_cv_;
  int64_t next_to_build_;
  int64_t next_to_return_;
  std::map<int64_t, Step> ready_;
  std::map<int64_t, std::exception_ptr> failed_;
  bool stop_ = false;

  // Per-epoch orders, computed on first use and shared by the workers.
  using OrderCache =
      std::map<int64_t, std::shared_ptr<const std::vector<uint32_t>>>;
  std::shared_ptr<const std::vector<uint32_t>> order(
      OrderCache& cache, int64_t epoch,
      const std::function<std::vector<uint32_t>()>& make);
  std::mutex order_mutex_;
  OrderCache labeled_orders_;
  OrderCache unlabeled_orders_;

  // Batch tensors are reused once the consumer has let go of them: fresh
  // 20 MB allocations every step cost page faults. (Pinned ones come from
  // LibTorch's caching host allocator instead.)
  at::Tensor take_buffer(at::IntArrayRef sizes, at::ScalarType dtype);
  std::mutex buffers_mutex_;
  std::vector<at::Tensor> buffers_;

  std::atomic<int64_t> skipped_{0};
  mutable std::mutex skipped_mutex_;
  std::vector<std::string> skipped_examples_;

  std::vector<std::thread> workers_;
};

}  // namespace semifer::data
