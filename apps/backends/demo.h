#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

namespace semifer::demo {

/// What `semifer demo` runs (docs/demo.md). The defaults finish in a few
/// minutes on 2 CPU cores.
struct DemoConfig {
  std::string out_dir = "semifer-demo";  ///< data, runs, configs, report
  int size = 48;                         ///< image side (smallnet input)
  double data_scale = 1.0;               ///< multiplies every image count
  int per_class = 20;  ///< labeled images kept per class (class-balanced)
  /// People the labeled images show; the pool and validation show new
  /// people (data::SyntheticConfig::labeled_identities).
  int labeled_identities = 4;
  int64_t pretrain_steps = 450;  ///< the supervised stage
  int64_t steps = 600;  ///< each row's steps after the supervised stage
  /// DTM update and validation interval: a DTM update every 150 steps
  /// keeps the thresholds from reaching the teacher's confidence on the
  /// few labeled faces it has memorised within the run (docs/demo.md).
  int64_t steps_per_epoch = 150;
  double initial_tau = 0.7;  ///< the DTM's thresholds before its first update
  int smooth_window = 15;    ///< frames; the demo's videos are short
  int threads = 2;           ///< loader threads
  uint64_t seed = 0;
  bool progress = true;  ///< progress bars on stderr (when a terminal)

  void validate() const;
};

/// One row of the demo's table.
struct DemoRow {
  std::string label;       ///< "Supervised", "SSL + DTM", ...
  std::string run_dir;     ///< the run it comes from
  std::vector<double> f1;  ///< per class, model class order
  double macro_f1 = 0;     ///< mean of `f1`
  double accuracy = 0;
  int64_t n = 0;  ///< validation samples scored
};

/// What the demo produced.
struct DemoResult {
  std::vector<std::string> classes;
  std::vector<DemoRow> rows;
  std::string report_path;  ///< HTML report of the semi-supervised run
  std::string data_config;  ///< the synthetic data set's config
  double seconds = 0;       ///< wall time, data generation included
};

/// Generates a synthetic face-expression data set (data::
/// write_synthetic_dataset: imbalanced labeled classes, a larger unlabeled
/// RecordIO pool of another class mix, a CSV validation list and
/// Aff-Wild2-style validation videos), trains the supervised stage, then
/// from it, for the same number of steps, the supervised-only row and the
/// semi-supervised row with the Dynamic Threshold Module (paper Table 1),
/// evaluates network B of each on the validation set, smooths the video
/// frames of the semi-supervised row, and writes the HTML report. Progress
/// lines go to `log` (may be null).
DemoResult run_demo(const DemoConfig& config, std::ostream* log);

/// The table in the style of the paper's Table 1: a row per DemoRow with
/// per-class F1 and macro F1 in percent.
std::string format_table(const DemoResult& result);

}  // namespace semifer::demo
