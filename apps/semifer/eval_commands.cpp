#include <iostream>
#include <memory>

#include "backends/predict_job.h"
#include "commands.h"
#include "semifer/eval/evaluate.h"
#include "semifer/infer/checkpoint.h"

namespace semifer::app {

namespace {

struct EvalFlags {
  std::string checkpoint;
  std::string data;
  std::string split = "validation";
  std::string network = "auto";
  std::string on_error = "fail";
  int smooth = 0;
  std::string smooth_mode = "centered";
  bool json = false;
  int64_t batch = 64;
  bool quiet = false;
};

struct PredictFlags {
  std::string checkpoint;
  std::vector<std::string> inputs;
  std::string data;
  std::string split = "validation";
  std::string out;
  std::string abaw;
  std::string network = "auto";
  std::string on_error = "fail";
  int smooth = 0;
  std::string smooth_mode = "centered";
  int64_t batch = 64;
  bool quiet = false;
};

void print_warnings(const std::vector<std::string>& warnings) {
  for (const auto& w : warnings)
    std::cerr << "semifer: warning: " << w << std::endl;
}

data::Role split(const std::string& name) {
  return name == "labeled" ? data::Role::kLabeled : data::Role::kValidation;
}

template <typename Flags>
void add_model_flags(CLI::App* cmd, Flags& f) {
  cmd->add_option("--checkpoint", f.checkpoint,
                  "A checkpoint written by semifer train")
      ->required();
  cmd->add_option("--network", f.network,
                  "A (the trained student), B (its EMA teacher) or auto: the "
                  "network a best checkpoint was chosen by, else the one "
                  "with the better recorded validation F1, else B")
      ->check(CLI::IsMember({"auto", "A", "B"}))
      ->capture_default_str();
  cmd->add_option("--on-error", f.on_error,
                  "An image that cannot be decoded: fail (stop, naming it) "
                  "or skip (leave it out and list it)")
      ->check(CLI::IsMember({"fail", "skip"}))
      ->capture_default_str();
  cmd->add_option("--smooth", f.smooth,
                  "Temporal smoothing window in frames (the paper: 350)")
      ->check(positive());
  cmd->add_option("--smooth-mode", f.smooth_mode,
                  "centered (majority of the window around each frame), "
                  "block (majority of consecutive windows) or mean (argmax "
                  "of the window's mean probabilities)")
      ->check(CLI::IsMember({"centered", "block", "mean"}));
  cmd->add_option("--batch", f.batch, "Images per forward pass")
      ->check(positive());
  cmd->add_flag("--quiet", f.quiet, "No progress bar");
}

template <typename Flags>
eval::SmoothOptions smooth_options(const Flags& f) {
  eval::SmoothOptions s;
  s.window = f.smooth;
  s.mode = eval::parse_smooth_mode(f.smooth_mode);
  return s;
}

}  // namespace

void add_eval_commands(CLI::App& app) {
  auto e = std::make_shared<EvalFlags>();
  CLI::App* ev = app.add_subcommand(
      "eval",
      "Score a checkpoint on a data config's validation (or labeled) split: "
      "accuracy, per-class F1, the ABAW macro F1 and the confusion matrix, "
      "optionally after temporal smoothing of video frames");
  add_model_flags(ev, *e);
  ev->add_option("--data", e->data,
                 "YAML data config; its classes must be the checkpoint's")
      ->required();
  ev->add_option("--split", e->split, "validation (default) or labeled")
      ->check(CLI::IsMember({"validation", "labeled"}));
  ev->add_flag("--json", e->json, "Print one JSON object on stdout");
  ev->footer(
      "Example:\n  semifer eval --checkpoint runs/abaw/checkpoint_best.pt "
      "--data abaw.yaml --smooth 350 --json\n"
      "Macro F1 is the mean of the per-class F1 over the configured classes; "
      "a class with\nno true and no predicted sample counts with F1 0 "
      "(scikit-learn's macro average).\nSmoothing applies to video frames "
      "(Aff-Wild2); other samples keep their prediction.");
  ev->callback([e] {
    eval::EvalOptions options;
    options.split = split(e->split);
    options.network = infer::network_named(e->network);
    options.skip_bad = e->on_error == "skip";
    options.smooth = smooth_options(*e);
    options.batch = e->batch;
    options.progress = !e->quiet;
    const eval::EvalReport report =
        eval::evaluate(e->checkpoint, e->data, options);
    std::cout << (e->json ? eval::eval_json(report) : eval::eval_text(report))
              << std::endl;
    print_warnings(report.warnings);
  });

  auto p = std::make_shared<PredictFlags>();
  CLI::App* pr = app.add_subcommand(
      "predict",
      "Predict expressions for images, folders and Aff-Wild2 frame folders "
      "(or a data config's split): a CSV of labels and class probabilities "
      "and, with --abaw, the ABAW submission files");
  add_model_flags(pr, *p);
  pr->add_option("inputs", p->inputs,
                 "Image files and folders (searched recursively; a folder of "
                 "00001.jpg, 00002.jpg, ... is a video)");
  pr->add_option("--data", p->data,
                 "Predict a data config's split instead of INPUTs (video "
                 "lengths from the Aff-Wild2 annotation files)");
  pr->add_option("--split", p->split, "With --data: validation or labeled")
      ->check(CLI::IsMember({"validation", "labeled"}));
  pr->add_option("--out", p->out,
                 "CSV: path,label,<class>... ('-': standard output, and the "
                 "summary goes to standard error)");
  pr->add_option("--abaw", p->abaw,
                 "Folder for the ABAW files, one <video>.txt per video");
  pr->footer(
      "Examples:\n  semifer predict --checkpoint runs/abaw/checkpoint_best.pt "
      "faces/ --out preds.csv\n"
      "  semifer predict --checkpoint runs/abaw/checkpoint_best.pt "
      "cropped_aligned/ --out preds.csv \\\n"
      "      --abaw submission/ --smooth 350\n"
      "  semifer predict --checkpoint runs/abaw/checkpoint_best.pt --data "
      "abaw.yaml --split validation \\\n"
      "      --abaw submission/ --smooth 350\n"
      "An image that cannot be decoded stops the run with its path (--on-error "
      "skip: it is left out and listed).");
  pr->callback([p] {
    eval::PredictJob job;
    job.checkpoint = p->checkpoint;
    job.inputs = p->inputs;
    job.data = p->data;
    job.split = split(p->split);
    job.csv = p->out;
    job.abaw = p->abaw;
    job.options.network = infer::network_named(p->network);
    job.options.skip_bad = p->on_error == "skip";
    job.options.smooth = smooth_options(*p);
    job.options.batch = p->batch;
    job.options.progress = !p->quiet;
    const eval::PredictSummary s = eval::run_predict_job(job);
    // With the CSV on stdout, the summary goes to stderr.
    std::ostream& os = job.csv == "-" ? std::cerr : std::cout;
    os << "predicted " << s.images << " images (" << s.videos << " videos)";
    if (job.csv == "-") {
      os << "; the CSV went to standard output";
    } else if (!job.csv.empty()) {
      os << "; wrote " << job.csv;
    }
    if (!job.abaw.empty()) {
      os << "; wrote " << s.abaw_files << " ABAW files to " << job.abaw;
      if (s.non_frames > 0)
        os << " (" << s.non_frames
           << " images outside videos are only in the CSV)";
    }
    os << std::endl;
    if (!s.skipped.empty()) {
      std::cerr << "semifer: skipped " << s.skipped.size()
                << " images that cannot be decoded:\n";
      for (const auto& m : s.skipped) std::cerr << "  " << m << "\n";
      std::cerr << std::flush;
    }
    print_warnings(s.warnings);
  });
}

}  // namespace semifer::app
