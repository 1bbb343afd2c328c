#include <CLI/CLI.hpp>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <c10/util/Exception.h>
#include <torch/version.h>

#include <cstdlib>
#include <iostream>
#include <new>
#include <string>

#include "commands.h"
#include "semifer/io/image.h"
#ifdef SEMIFER_WITH_VIDEO
#include "semifer/io/video.h"
#endif
#include "semifer/train/distributed.h"
#include "semifer/util/device.h"
#include "semifer/util/error.h"
#include "semifer/util/progress.h"
#include "semifer/util/strings.h"
#include "semifer/version.h"

namespace {

// Tensors of tens of megabytes are allocated and freed on every step. With
// glibc's defaults each one is mmap'ed, page-faulted in zeroed and unmapped
// again, which costs about half of a CPU forward pass (docs/benchmarks.md).
// The program keeps such memory instead; a library must not make that
// process-wide choice, the executable may.
void keep_freed_memory() {
#if defined(__GLIBC__)
  mallopt(M_MMAP_THRESHOLD, 256 << 20);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
#endif
}

// `semifer --version`: the version and what this build runs on, for bug
// reports and for telling a CPU build from a CUDA one.
std::string version_text() {
  const int gpus = semifer::util::cuda_device_count();
  std::string text = std::string("semifer ") + semifer::kVersion +
                     "\nLibTorch " + TORCH_VERSION + ", CUDA: " +
                     (gpus > 0 ? semifer::util::counted(gpus, "device")
                               : "none (no CUDA LibTorch or no device)") +
                     "\ndata-parallel (c10d): Gloo" +
                     (semifer::train::nccl_built() ? ", NCCL" : "");
#ifdef SEMIFER_WITH_VIDEO
  text += "\nvideo: OpenCV " + semifer::io::opencv_version();
#else
  text += "\nvideo: not built (SEMIFER_VIDEO off)";
#endif
  return text;
}

// SEMIFER_DEBUG set (and not "0"): errors as thrown, backtraces included.
bool debug_errors() {
  const char* v = std::getenv("SEMIFER_DEBUG");
  return v != nullptr && *v != '\0' && std::string(v) != "0";
}

// Every error that reaches main is one line.
std::string first_line(const std::string& what) {
  if (debug_errors()) return what;
  return what.substr(0, what.find('\n'));
}

}  // namespace

namespace semifer::app {
int& exit_status() {
  static int status = 0;
  return status;
}
}  // namespace semifer::app

int main(int argc, char** argv) try {
  keep_freed_memory();
  // One intra-op thread per logical CPU unless the user said otherwise
  // (util/device.h says why); commands with a --threads flag set their own.
  if (std::getenv("OMP_NUM_THREADS") == nullptr)
    semifer::util::set_intra_op_threads(0);
  // The library reports through this sink: lines on stderr, progress bars
  // in place when stderr is a terminal.
  semifer::util::set_log_sink(std::make_shared<semifer::util::TerminalSink>(
      std::cerr, semifer::util::ProgressBar::stderr_is_terminal()));
  CLI::App app{
      "semifer: facial-expression recognition from a small labeled set and a "
      "large pool of unlabeled faces (Yu et al., ABAW5 2023)"};
  app.set_version_flag("--version", version_text,
                       "The version, the LibTorch it runs on (and its CUDA "
                       "devices), its data-parallel backends and OpenCV's "
                       "version");
  // Before any subcommand decodes an image (option callbacks run before
  // the subcommand's); fallthrough lets it follow the command words.
  app.add_option_function<int64_t>(
         "--max-pixels",
         [](int64_t n) { semifer::io::set_max_image_pixels(n); },
         "Largest image (width x height) any command decodes; a header "
         "claiming more is an error before memory is allocated (default " +
             std::to_string(semifer::io::kDefaultMaxPixels) + ")")
      ->check(semifer::app::positive());
  app.fallthrough();
  app.require_subcommand(1);
  // Every option's default shows in --help (subcommands inherit this).
  app.option_defaults()->always_capture_default();
  app.footer(
      "Run 'semifer <command> --help' for a command's flags and an example.");
  semifer::app::add_data_commands(app);
  semifer::app::add_augment_commands(app);
  semifer::app::add_train_commands(app);
  semifer::app::add_launch_commands(app);
  semifer::app::add_weights_commands(app);
  semifer::app::add_eval_commands(app);
  semifer::app::add_report_commands(app);
  semifer::app::add_ablation_commands(app);
  semifer::app::add_demo_commands(app);
  semifer::app::add_bench_commands(app);
#ifdef SEMIFER_WITH_VIDEO
  semifer::app::add_video_commands(app);
#endif
  if (const auto unknown = semifer::app::unknown_subcommand(app, argc, argv)) {
    std::cerr << "semifer: error: " << *unknown << "\n";
    return 2;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version are "errors" that exit 0.
    if (e.get_exit_code() == 0) return app.exit(e);
    // Usage errors: one line in semifer's format, exit status 2.
    std::string what = e.what();
    if (what.empty()) what = e.get_name();
    std::cerr << "semifer: error: " << what
              << " (see 'semifer <command> --help')\n";
    return 2;
  }
  return semifer::app::exit_status();
} catch (const c10::Error& e) {
  // LibTorch appends a C++ backtrace of 15-50 lines; a user needs its first
  // line, a developer the rest (SEMIFER_DEBUG=1).
  std::cerr << "semifer: error: "
            << (debug_errors() ? std::string(e.what())
                               : semifer::torch_error_line(e))
            << "\n";
  return 1;
} catch (const semifer::UsageError& e) {
  // A --set the config rejects, an ablation row that does not parse: usage
  // errors like CLI11's.
  std::cerr << "semifer: error: " << first_line(e.what()) << "\n";
  return 2;
} catch (const std::bad_alloc&) {
  std::cerr << "semifer: error: out of memory (a batch, an image or a "
               "count in the config larger than this machine holds)\n";
  return 1;
} catch (const std::exception& e) {
  std::cerr << "semifer: error: " << first_line(e.what()) << "\n";
  return 1;
}
