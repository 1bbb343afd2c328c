#include <iostream>
#include <memory>

#include "commands.h"
#include "semifer/eval/report.h"

namespace semifer::app {

namespace {
struct ReportFlags {
  std::string run_dir;
  std::string out;
};
}  // namespace

void add_report_commands(CLI::App& app) {
  auto f = std::make_shared<ReportFlags>();
  CLI::App* report = app.add_subcommand(
      "report",
      "Write a training run's report: one self-contained HTML file of plots, "
      "confusion matrix, per-class F1 and config (docs/report.md)");
  report
      ->add_option("run_dir", f->run_dir,
                   "Run folder written by 'semifer train' (metrics.jsonl, "
                   "config.yaml)")
      ->required();
  report->add_option("--out", f->out,
                     "HTML file to write (default: RUN_DIR/report.html)");
  report->footer(
      "Example:\n  semifer train fer.yaml --out runs/fer\n"
      "  semifer report runs/fer          # writes runs/fer/report.html\n"
      "  chromium runs/fer/report.html    # any browser; works offline");
  report->callback([f] {
    const std::string path = eval::write_report(f->run_dir, f->out);
    std::cout << "wrote " << path << std::endl;
  });
}

}  // namespace semifer::app
