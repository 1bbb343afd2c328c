#include <iomanip>
#include <iostream>
#include <memory>

#include "backends/infer_bench.h"
#include "backends/pipeline_bench.h"
#include "commands.h"

namespace semifer::app {

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
}

}  // namespace semifer::app
