// The sections of the training report that hold plots, and the small HTML
// helpers report.cpp shares with them. Each section function returns the
// HTML body of its section: a <figure class="plot" id="plot-..."> with one
// <svg>, or a "not recorded in this run" note when the lines hold no data.
#pragma once

#include <string>
#include <vector>

#include "semifer/io/metrics_log.h"

namespace semifer::eval::detail {

using io::MetricsLine;
using io::PerClass;
using io::ValidationScores;

/// `v` with `decimals` digits after the point.
std::string fmt(double v, int decimals);

/// The note a section without data shows: "Not recorded in this run: why."
std::string missing(const std::string& why);

/// "step N", or "line N of metrics.jsonl" when the line has no step.
std::string step_of(const MetricsLine& m);

/// The last line holding a validation of A or B, or nullptr.
const MetricsLine* latest_validation(const std::vector<MetricsLine>& lines);

/// L_l and L_u against the step (id plot-losses).
std::string losses_section(const std::vector<MetricsLine>& lines);
/// Validation macro F1 of A and B against the step (id plot-f1).
std::string f1_section(const std::vector<MetricsLine>& lines);
/// tau per class against the epoch, a panel per class, with a note naming
/// the classes whose lines coincide (id plot-tau).
std::string tau_section(const std::vector<MetricsLine>& lines);
/// Mask rate per class and overall against the step (id plot-mask-rate).
std::string mask_section(const std::vector<MetricsLine>& lines);
/// Pseudo-label accuracy per class against the step, -1 left out (id
/// plot-pseudo-accuracy). Without any accuracy, a note: no pseudo-label
/// passed tau (mask rate 0 at every line), or none kept had a known label.
std::string pseudo_accuracy_section(const std::vector<MetricsLine>& lines);
/// The latest confusion matrix of B (of A when B has none) as a heat map (id
/// plot-confusion). Class names come from the line's F1 keys, else from
/// `classes` (config.yaml's data.classes) when its size fits.
std::string confusion_section(const std::vector<MetricsLine>& lines,
                              const std::vector<std::string>& classes);

}  // namespace semifer::eval::detail
