#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "semifer/eval/statistics.h"

/// `semifer ablation`: the paper's protocol (section 4.4) on any training
/// config, over several seeds, with paired bootstrap intervals
/// (docs/training.md, "Ablations").
namespace semifer::ablation {

/// One row: a name (its run folder), a label for the table and the
/// overrides that make it from the config.
struct Row {
  std::string name;
  std::string label;
  std::vector<std::string> overrides;  ///< "key=value"
};

/// The built-in rows: supervised, fixed, dtm, flexmatch, freematch,
/// softmatch, align, heldout, weakview, teacher and config (the config's
/// own ssl settings).
const std::vector<Row>& builtin_rows();
/// A built-in row by name, or a custom one "NAME:key=value;key=value".
/// Throws semifer::Error on an unknown name or a malformed spec.
Row parse_row(const std::string& spec);

/// What to run.
struct AblationConfig {
  std::string config;   ///< the training config
  std::string out_dir;  ///< OUT: seed-K/pretrain, seed-K/ROW, the tables
  int seeds = 3;
  uint64_t first_seed = 0;  ///< seeds first_seed .. first_seed + seeds - 1
  /// The rows after the supervised stage; `supervised` is added first when
  /// missing (every difference is taken against it).
  std::vector<Row> rows;
  std::vector<std::string> overrides;  ///< for every stage ("key=value")
  int64_t pretrain_epochs = 0;         ///< 0: the config's train.epochs
  int64_t epochs = 0;                  ///< of each row; 0: the config's
  eval::BootstrapOptions bootstrap;
  bool progress = true;
  /// Polled by the running stage; true stops it with a checkpoint.
  std::function<bool()> stop_requested;

  void validate() const;
};

/// A network's scores in one row, over the seeds.
struct NetScores {
  std::vector<double> macro_f1;          ///< per seed
  std::vector<double> accuracy;          ///< per seed
  std::vector<std::vector<double>> f1;   ///< per seed, per class
  double macro_mean = 0, macro_std = 0;  ///< over seeds (std: n - 1)
  std::vector<double> f1_mean;           ///< per class, over seeds
  double accuracy_mean = 0;
  /// Against the supervised row, paired over seeds and samples.
  std::optional<eval::Interval> difference;

  /// Adds one seed's scores of predictions `pred` against `labels`.
  void add_seed(const std::vector<int64_t>& labels,
                const std::vector<int64_t>& pred, int num_classes);
  /// The means and spreads over the seeds added so far.
  void summarise(int num_classes);
};

/// The pseudo-label diagnostics of a row's last metric line, per seed.
struct PseudoStats {
  std::vector<double> mask_rate;
  std::vector<std::vector<double>> accuracy;  ///< per class; -1: unknown
  std::vector<std::vector<double>> tau;       ///< per class

  /// Adds the last metric line with pseudo-label statistics of the run in
  /// `run_dir` (its metrics.jsonl); a run without one adds nothing.
  void add_run(const std::string& run_dir);
};

struct RowResult {
  Row row;
  std::vector<std::string> run_dirs;  ///< per seed
  NetScores a, b;
  std::optional<PseudoStats> pseudo;  ///< semi-supervised rows
};

struct AblationResult {
  std::vector<std::string> classes;
  std::vector<uint64_t> seeds;
  int64_t validation_size = 0;
  int64_t pretrain_steps = 0, steps = 0;  ///< per stage
  std::vector<RowResult> rows;  ///< "pretrain" first, then supervised, ...
  bool stopped = false;         ///< stop_requested ended it; no tables
  std::string markdown_path, json_path, html_path;
};

/// Runs what is missing (a finished stage is kept, one stopped part-way
/// resumes from its checkpoint, one whose config changed is refused),
/// evaluates networks A and B of every stage's last checkpoint on the whole
/// validation split (predictions cached in RUN/validation_predictions.json),
/// and writes OUT/ablation.md, OUT/ablation.json and OUT/index.html (with
/// each run's report.html). Throws semifer::Error on bad input.
AblationResult run_ablation(const AblationConfig& config);

/// The tables of OUT/ablation.md (ablation_tables.cpp, as the two below).
std::string format_markdown(const AblationResult& result);
/// OUT/ablation.json: every number of `result` and the settings of `config`.
std::string format_json(const AblationResult& result,
                        const AblationConfig& config);
/// OUT/index.html: the table of network B with links to every run's
/// report.html (relative to `out_dir`).
std::string format_html(const AblationResult& result,
                        const std::string& out_dir);

}  // namespace semifer::ablation
