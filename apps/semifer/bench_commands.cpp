#include <algorithm>
#include <iomanip>
#include <iostream>
#include <memory>

#include "backends/infer_bench.h"
#include "backends/pipeline_bench.h"
#include "backends/train_bench.h"
#include "commands.h"
#ifdef SEMIFER_WITH_VIDEO
#include "backends/video_bench.h"
#endif

namespace semifer::app {

namespace {

#ifdef SEMIFER_WITH_VIDEO
void print_video_runs(const video::VideoBenchResult& r,
                      const video::VideoBenchRuns& runs,
                      const std::string& detector) {
  const video::VideoSummary& s = runs.summaries.back();
  const double n = std::max<int64_t>(1, s.frames);
  std::cout << std::fixed << std::setprecision(1) << runs.fps << " frames/s, "
            << detector << ", whole frame every " << runs.detect_every << " ("
            << s.frames << " frames of " << r.width << "x" << r.height << ", "
            << s.faces << " faces, " << s.whole_frame_detections
            << " whole-frame detections; last run ms/frame: decode "
            << std::setprecision(2) << 1000 * s.stages.decode / n << ", detect "
            << 1000 * s.stages.detect / n << ", track+crop "
            << 1000 * s.stages.track_crop / n << ", classify "
            << 1000 * s.stages.classify / n << ", write "
            << 1000 * s.stages.write / n << ")" << std::endl;
}
#endif

}  // namespace

void add_bench_commands(CLI::App& app) {
  CLI::App* bench =
      app.add_subcommand("bench", "Measure speed (see docs/benchmarks.md)");
  bench->require_subcommand(1);
  auto f = std::make_shared<data::PipelineBenchConfig>();
  CLI::App* pipe = bench->add_subcommand(
      "pipeline",
      "Samples per second of the input pipeline: decode, resize, "
      "weak view and strong view, into batch tensors");
  pipe->add_option("--images", f->images, "Folder of images (read recursively)")
      ->required();
  pipe->add_option("--size", f->size, "Model input size")
      ->check(CLI::Range(8, 1024));
  pipe->add_option("--threads", f->threads, "Worker threads")
      ->check(CLI::Range(1, 256));
  pipe->add_option("--seconds", f->seconds, "Measured seconds")
      ->check(CLI::Range(0.1, 3600.0));
  pipe->add_option("--batch", f->batch, "Samples per batch")
      ->check(CLI::Range(1, 4096));
  pipe->footer(
      "Example:\n  semifer bench pipeline --images faces/ --size 224 --threads "
      "1 "
      "--seconds 10\nReference: /usr/bin/python3 bench/pipeline_reference.py "
      "--images faces/ --size 224 --seconds 10");
  pipe->callback([f] {
    const data::PipelineBenchResult r = data::bench_pipeline(*f);
    std::cout << std::fixed << std::setprecision(1) << r.samples_per_second
              << " samples/s (" << r.samples << " samples in " << r.seconds
              << " s, size " << f->size << ", threads " << f->threads << ")"
              << std::endl;
  });

  auto g = std::make_shared<models::InferBenchConfig>();
  CLI::App* infer = bench->add_subcommand(
      "infer", "Images per second of a model's forward pass (eval mode, CPU)");
  infer->add_option("--model", g->model,
                    "Model name (see 'semifer weights --help')");
  infer->add_option("--size", g->size, "Input size")
      ->check(CLI::Range(16, 1024));
  infer->add_option("--batch", g->batch, "Batch size")
      ->check(CLI::Range(1, 4096));
  infer->add_option("--threads", g->threads, "Intra-op threads")
      ->check(CLI::Range(1, 256));
  infer->add_option("--seconds", g->seconds, "Measured seconds")
      ->check(CLI::Range(0.1, 3600.0));
  infer->footer(
      "Example:\n  semifer bench infer --model efficientnet_b0 --size 224 "
      "--batch 16 "
      "--threads 2\nReference: /usr/bin/python3 bench/infer_reference.py "
      "--model "
      "efficientnet_b0 --size 224 --batch 16 --threads 2");
  infer->callback([g] {
    const models::InferBenchResult r = models::bench_inference(*g);
    std::cout << std::fixed << std::setprecision(1) << r.images_per_second
              << " images/s (" << r.images << " images in " << r.seconds
              << " s, " << g->model << ", size " << g->size << ", batch "
              << g->batch << ", threads " << g->threads << ")" << std::endl;
  });

  auto t = std::make_shared<train::TrainBenchConfig>();
  CLI::App* tr = bench->add_subcommand(
      "train",
      "Images per second of whole training steps of the Trainer `semifer "
      "train` runs (forward, losses, backward, optimizer, EMA teacher)");
  tr->add_option("--data", t->data,
                 "`synthetic` (fixed random tensors: the step alone), `faces` "
                 "(rendered faces as JPEG files, through the loader) or a "
                 "training config file")
      ->capture_default_str();
  tr->add_option("--model", t->model,
                 "Model name (default: the config's; smallnet otherwise)");
  tr->add_option("--size", t->size,
                 "Input size (default: the config's; 48 otherwise)")
      ->check(CLI::Range(16, 1024));
  tr->add_option("--device", t->device,
                 "cpu, cuda, cuda:N or auto (default: the config's; cpu "
                 "otherwise)");
  tr->add_option("--batch", t->batch_labeled,
                 "Labeled samples per step (default: the config's; 32)")
      ->check(CLI::Range(1, 65536));
  tr->add_option("--unlabeled", t->batch_unlabeled,
                 "Unlabeled samples per step (default: the config's; 32)")
      ->check(CLI::Range(0, 65536));
  tr->add_option("--threads", t->threads,
                 "Loader threads (default: the config's)")
      ->check(CLI::Range(1, 256));
  tr->add_option("--torch-threads", t->torch_threads,
                 "Intra-op threads (default: the config's, else the process's)")
      ->check(CLI::Range(1, 256));
  tr->add_option("--ssl", t->ssl,
                 "true: the semi-supervised step; false: the supervised one "
                 "(default: the config's; true)");
  tr->add_option("--steps", t->steps, "Measured steps")
      ->check(CLI::Range(int64_t{1}, int64_t{1000000}))
      ->capture_default_str();
  tr->add_option("--warmup", t->warmup, "Steps before the measured ones")
      ->check(CLI::Range(int64_t{0}, int64_t{1000000}))
      ->capture_default_str();
  tr->add_option("--window", t->window,
                 "Steps per measured window (steps and warm-up are multiples "
                 "of it)")
      ->check(CLI::Range(int64_t{1}, int64_t{1000000}))
      ->capture_default_str();
  tr->add_option("--set", t->overrides,
                 "key=value of the training config, applied last "
                 "(docs/config.md)");
  tr->add_flag("--profile", t->profile,
               "Also print where the measured steps' time went, by ATen "
               "operation (on CUDA: the launches' time, then the GPU's "
               "kernels from LibTorch's profiler, NCCL's share among them)");
  tr->footer(
      "Example:\n  semifer bench train --model resnet18 --size 112 "
      "--torch-threads 2\n  semifer bench train --data faces --device cuda "
      "--model efficientnet_b0 --size 224\nReference: /usr/bin/python3 "
      "bench/train_reference.py --model resnet18 --size 112 --threads 2\n"
      "images/s counts labeled + unlabeled samples per step (an unlabeled "
      "face's weak and strong views count once).");
  tr->callback([t] {
    const train::TrainBenchResult r = train::bench_training(*t);
    std::cout << std::fixed << std::setprecision(1) << r.images_per_second
              << " images/s (median of " << r.window_images_per_second.size()
              << " windows of " << t->window << " steps, min "
              << r.min_images_per_second << ", max " << r.max_images_per_second
              << "), " << std::setprecision(2) << r.steps_per_second
              << " steps/s, input wait " << std::setprecision(1)
              << 100 * r.input_wait << "%, peak device memory "
              << (r.peak_device_bytes < 0
                      ? std::string("-")
                      : std::to_string(r.peak_device_bytes >> 20) + " MiB")
              << " (" << r.model << ", size " << r.size << ", "
              << (r.ssl ? "semi-supervised " : "supervised ") << r.batch_labeled
              << (r.ssl ? "+" + std::to_string(r.batch_unlabeled) : "")
              << " per step, " << r.device << ", " << r.torch_threads
              << " intra-op threads, data " << t->data
              << (r.world_size > 1 ? ", rank " + std::to_string(r.rank) +
                                         " of " + std::to_string(r.world_size)
                                   : std::string())
              << ")" << std::endl;
    if (!r.cuda_graph.empty()) std::cout << r.cuda_graph << std::endl;
    if (!t->profile) return;
    const double wall = std::max(r.profiled_seconds, 1e-9);
    // One line of either profile: share of the wall time, name, calls.
    auto row = [wall](double seconds, const std::string& name, int64_t calls) {
      std::cout << "  " << std::setw(5) << std::setprecision(1)
                << 100 * seconds / wall << "%  " << name << " (" << calls
                << " calls)" << std::endl;
    };
    double listed = 0;
    for (const auto& op : r.profile) listed += op.seconds;
    std::cout << "profile: " << std::setprecision(1) << 100 * listed / wall
              << "% of the measured steps' wall time in ATen operations "
                 "on the training thread; the largest:"
              << std::endl;
    for (size_t i = 0; i < r.profile.size() && i < 15; ++i)
      row(r.profile[i].seconds, r.profile[i].name, r.profile[i].calls);
    if (r.device.rfind("cuda", 0) != 0) return;
    if (!r.device_profile) {
      std::cout << "GPU profile: unavailable (this build has no LibTorch "
                   "profiler API)"
                << std::endl;
      return;
    }
    const train::DeviceTimes& g = *r.device_profile;
    std::cout << "GPU profile: kernels, copies and fills busy "
              << std::setprecision(1) << 100 * g.busy_seconds / wall
              << "% of the measured steps' wall time; NCCL's collectives "
              << 100 * g.nccl_seconds / wall << "% (" << std::setprecision(3)
              << 1e3 * g.nccl_seconds /
                     std::max<double>(1, static_cast<double>(t->steps))
              << " ms a step); the largest:" << std::endl;
    for (size_t i = 0; i < g.by_name.size() && i < 15; ++i)
      row(g.by_name[i].seconds, g.by_name[i].name.substr(0, 100),
          g.by_name[i].calls);
  });

#ifdef SEMIFER_WITH_VIDEO
  auto h = std::make_shared<video::VideoBenchConfig>();
  h->options.smoothing.window = 25;
  CLI::App* vid = bench->add_subcommand(
      "video",
      "Frames per second of `semifer video`'s whole job (decode, detect, "
      "track, crop, classify, smooth, write), against a reference run with "
      "whole-frame detection on every frame");
  vid->add_option("--input", h->input,
                  "A video to measure (default: a synthetic one)");
  vid->add_option("--faces", h->faces,
                  "Face images for the synthetic video (default: rendered "
                  "faces)");
  vid->add_option("--frames", h->frames, "Frames of the synthetic video")
      ->check(CLI::Range(1, 100000));
  vid->add_option("--width", h->width, "Width of the synthetic video")
      ->check(CLI::Range(64, 8192));
  vid->add_option("--height", h->height, "Height of the synthetic video")
      ->check(CLI::Range(64, 8192));
  vid->add_option("--checkpoint", h->checkpoint,
                  "The model (default: an untrained smallnet at 48x48)");
  add_detection_flags(vid, h->options);
  vid->add_option("--reference-every", h->reference_every,
                  "Whole-frame detection interval of the reference run (0: "
                  "no reference)")
      ->check(CLI::Range(0, 100000));
  vid->add_option("--repeats", h->repeats,
                  "Runs of each, in turn (the median is printed)")
      ->check(CLI::Range(1, 100));
  vid->footer(
      "Example:\n  semifer bench video --faces ../shared/data/utkface "
      "--frames 300 --repeats 3\n  semifer bench video --detector yunet "
      "--detector-model yunet_2022.onnx --reference-every 0\n"
      "Smoothing: centered, 25 frames. The ratio line compares the two "
      "configurations' medians.");
  vid->callback([h] {
    const video::VideoBenchResult r = video::bench_video(*h);
    print_video_runs(r, r.measured, h->options.detector.kind);
    if (h->reference_every > 0) {
      print_video_runs(r, r.reference, h->options.detector.kind);
      std::cout << std::setprecision(2) << "ratio "
                << (r.reference.fps > 0 ? r.measured.fps / r.reference.fps
                                        : 0.0)
                << "x (whole frame every " << r.measured.detect_every
                << " / every " << r.reference.detect_every << ")" << std::endl;
    }
  });
#endif
}

}  // namespace semifer::app
