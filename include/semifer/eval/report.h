#pragma once

#include <string>

/// The training report: one self-contained HTML file (inline CSS, plots as
/// inline SVG, no script, nothing fetched) that shows a run folder written
/// by `semifer train` (docs/report.md).
namespace semifer::eval {

/// Renders the report of `run_dir`, reading RUN_DIR/metrics.jsonl (required)
/// and RUN_DIR/config.yaml (optional): a summary (model, steps, best
/// validation macro F1 of A and B and its step), line plots of the training
/// losses, validation macro F1, mask rate and pseudo-label accuracy per
/// class, tau per class (a panel per class), the latest confusion matrix of
/// B as a heat map, a per-class F1 table and the configuration (numbers
/// written at full double precision shown in their shortest form). A section
/// without data says "not recorded in this run". Each plot is a `<figure
/// class="plot" id="plot-...">` holding one `<svg>`. Throws semifer::Error when
/// the folder or metrics.jsonl is missing, or naming metrics.jsonl and the line
/// when a line is malformed.
std::string render_report(const std::string& run_dir);

/// Writes render_report(run_dir) to `out`, or to RUN_DIR/report.html when
/// `out` is empty; returns the path written.
std::string write_report(const std::string& run_dir,
                         const std::string& out = "");

}  // namespace semifer::eval
