#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "semifer/io/tfevents.h"

/// The metrics a training run logs, RUN_DIR/metrics.jsonl (docs/training.md):
/// one schema for the writer (the trainer) and the readers (resume, the
/// report).
namespace semifer::io {

/// Per-class values of one line, in the file's class order. A value the
/// trainer could not compute (written as null) is NaN.
using PerClass = std::vector<std::pair<std::string, double>>;

/// Pairs names[i] with values[i] (the same lengths).
PerClass per_class(const std::vector<std::string>& names,
                   const std::vector<double>& values);

/// One network's validation scores at an epoch end.
struct ValidationScores {
  std::optional<double> accuracy;
  std::optional<double> macro_f1;
  PerClass f1;
  /// [true class][predicted class] counts; empty when not logged.
  std::vector<std::vector<int64_t>> confusion;
};

/// One line of metrics.jsonl. Every key may be missing (a supervised run
/// logs no SSL keys, a run without validation data no `validation`); what a
/// line lacks is empty here. Keys this reader does not know are ignored.
struct MetricsLine {
  int64_t line = 0;  ///< 1-based line number in the file
  std::optional<int64_t> epoch;
  std::optional<int64_t> step;
  std::optional<double> loss_labeled;
  std::optional<double> loss_unlabeled;
  std::optional<double> lr;
  std::optional<double> images_per_second;
  /// Share of the window's wall time the training loop waited for the
  /// input pipeline (0: never starved; near 1: input-bound).
  std::optional<double> input_wait;
  std::optional<double> mask_rate;
  PerClass mask_rate_per_class;
  /// -1 where no masked pseudo-label of the class had a known label.
  PerClass pseudo_label_accuracy_per_class;
  PerClass tau;
  PerClass dtm_mean_confidence;
  std::optional<ValidationScores> validation_a;  ///< network A, the student
  std::optional<ValidationScores> validation_b;  ///< network B, EMA teacher
};

/// One line of metrics.jsonl (no newline): a JSON object with the line's
/// keys in the order of MetricsLine, absent members left out, non-finite
/// numbers written as null; parse_metrics gives the line back.
std::string format_metrics_line(const MetricsLine& line);

/// Parses metrics.jsonl text; `file` names it in errors. Blank lines are
/// skipped, and so is a last line that has no newline and is not valid
/// JSON (cut short when a run was killed mid-write). Throws semifer::Error
/// "FILE:LINE: why" for a line that is not a JSON object or holds a known key
/// of the wrong type (a confusion matrix must be a square matrix of
/// non-negative integers).
std::vector<MetricsLine> parse_metrics(const std::string& text,
                                       const std::string& file);

/// A line's numbers as tagged scalars, for TensorBoard (RUN_DIR's events
/// file) and metrics.csv, in a fixed order: epoch, loss/labeled,
/// loss/unlabeled, lr, images_per_second, input_wait, mask_rate,
/// mask_rate/<class>, pseudo_label_accuracy/<class>, tau/<class>,
/// dtm_mean_confidence/<class>, then validation/A/accuracy,
/// validation/A/macro_f1, validation/A/f1/<class> and the same for B. Absent
/// and non-finite values (and accuracies of -1) are left out.
std::vector<Scalar> metrics_scalars(const MetricsLine& line);

/// metrics.csv's header for a run with these classes: step, then every tag
/// metrics_scalars can give (with or without the semi-supervised ones).
std::vector<std::string> metrics_csv_columns(
    const std::vector<std::string>& classes, bool semi_supervised);
/// One CSV row (no newline) of `line` under `columns`: the step, then each
/// column's value, or nothing where the line has none.
std::string metrics_csv_row(const MetricsLine& line,
                            const std::vector<std::string>& columns);

/// Reads and parses a metrics.jsonl file. Throws semifer::Error naming the
/// path when it cannot be read.
std::vector<MetricsLine> read_metrics(const std::string& path);

}  // namespace semifer::io
