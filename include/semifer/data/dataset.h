#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "semifer/data/config.h"
#include "semifer/data/labels.h"
#include "semifer/data/sample.h"
#include "semifer/data/source.h"

namespace semifer::data {

/// One entry of a pool: a sample of one source's table.
struct PoolItem {
  uint32_t source = 0;  ///< index into Dataset::tables
  uint32_t index = 0;   ///< sample index within that table
  /// Model class index (LabelSpace). In the unlabeled pool this is the hidden
  /// label, known only for diagnostics (pseudo-label accuracy), or -1.
  int16_t label = -1;
};

/// What one source contributed, for `semifer data stats`.
struct SourceReport {
  std::string name;
  Format format = Format::kFolder;
  Role role = Role::kLabeled;
  /// Labeled samples read per canonical class, within the label space.
  std::array<int64_t, kNumExpressions> read{};
  /// Labeled samples kept per canonical class after class-balanced selection.
  std::array<int64_t, kNumExpressions> labeled{};
  /// Samples this source sent to the unlabeled pool (all of an unlabeled
  /// source; -1 frames and selection leftovers of a labeled one).
  int64_t unlabeled = 0;
  /// Of `unlabeled`, the leftovers of class-balanced selection.
  int64_t leftovers = 0;
  /// Dropped and skipped samples by reason.
  Skips skips;
  /// What the loader does when one of this source's images fails to decode.
  OnError on_image_error = OnError::kSkip;
};

/// Images of one pool that `BuildOptions::verify` decoded, and those that
/// failed to decode (dropped and counted as decode_error skips).
struct DecodeCounts {
  int64_t decoded = 0;
  int64_t failed = 0;
};

/// What `BuildOptions::verify` decoded, per pool as the pools stand before
/// class-balanced selection: `labeled` is every labeled sample read (its
/// leftovers join the unlabeled pool afterwards), `unlabeled` the unlabeled
/// sources and unannotated frames.
struct Verification {
  DecodeCounts labeled, unlabeled, validation;
  /// The three pools together.
  DecodeCounts total() const;
};

/// The assembled data: every source's table and the three pools.
struct Dataset {
  LabelSpace classes;
  SamplingConfig sampling;
  std::vector<std::shared_ptr<const SampleTable>> tables;
  std::vector<SourceReport> reports;  ///< parallel to `tables`
  std::vector<PoolItem> labeled;
  std::vector<PoolItem> unlabeled;
  std::vector<PoolItem> validation;
  /// Set when built with `BuildOptions::verify`.
  std::optional<Verification> verified;

  /// Decodes a pool item's image (RGB, face box cropped).
  io::Image load(const PoolItem& item) const;
  /// Its path or record, for messages.
  std::string describe(const PoolItem& item) const;
  /// A pool's items per class of `classes` (an unlabeled item whose label
  /// is unknown, -1, counts in none).
  std::vector<int64_t> class_counts(const std::vector<PoolItem>& pool) const;
};

/// Options of build_dataset.
struct BuildOptions {
  /// Decode every image and drop (or, under on_error images: fail, report)
  /// the ones that fail.
  bool verify = false;
  /// Threads for verification; 0 = all cores.
  int threads = 0;
};

/// Reads every source of `config`, maps labels into its label space, selects
/// the class-balanced labeled set (paper section 3.1) and moves leftovers and
/// unannotated frames to the unlabeled pool.
///
/// Selection: a class with more than `per_class` labeled samples keeps a
/// random `per_class` of them, fixed for the whole run (seeded by
/// sampling.seed); the rest go to the unlabeled pool where their source allows
/// it (`leftovers_to_unlabeled`) and stay labeled otherwise.
Dataset build_dataset(const DataConfig& config,
                      const BuildOptions& options = {});

/// Every image below `root` as an unlabeled pool (for previews and
/// benchmarks). Throws semifer::Error when the folder holds no image.
Dataset image_folder_dataset(const std::string& root);

}  // namespace semifer::data
