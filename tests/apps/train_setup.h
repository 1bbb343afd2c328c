// What the `semifer train` CLI tests share: a small synthetic data set with
// a training config, and reading a run's files back.
#pragma once

#include <torch/torch.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "semifer/models/registry.h"
#include "semifer/util/strings.h"
#include "support/support.h"

namespace semifer::test {

/// Writes a synthetic data set (32 px) and train.yaml with `train_keys`
/// inside `train: {...}`, training on the CPU unless they name a device (the
/// same expectations on a machine with a GPU); returns the config's path.
inline std::string setup(const TempDir& t, const std::string& train_keys) {
  // --overwrite: a test may set up twice in one folder.
  const RunResult r = run_cli({"data", "synth", t.file("data"), "--size", "32",
                               "--scale", "0.3", "--overwrite"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return write_text_file(
      t.file("train.yaml"),
      "data: data/data.yaml\n"
      "augment: {size: 32}\n"
      "model: {name: smallnet}\n"
      "train: {" +
          train_keys +
          (train_keys.find("device:") != std::string::npos ? ""
           : train_keys.empty()                            ? "device: cpu"
                                                           : ", device: cpu") +
          "}\n"
          "ssl: {dtm_per_class: 10}\n");
}

/// The lines of a metrics.jsonl.
inline std::vector<nlohmann::json> metric_lines(const std::string& path) {
  std::vector<nlohmann::json> out;
  for (const auto& line : util::read_lines(path)) {
    if (!line.empty()) out.push_back(nlohmann::json::parse(line));
  }
  return out;
}

/// The student's parameters and buffers in a checkpoint, as one flat tensor.
inline at::Tensor student_weights(const std::string& checkpoint) {
  torch::serialize::InputArchive archive, student;
  archive.load_from(checkpoint);
  archive.read("student", student);
  auto model = models::create_model("smallnet");
  model->load(student);
  std::vector<at::Tensor> parts;
  for (const auto& p : model->parameters())
    parts.push_back(p.detach().flatten().to(torch::kFloat64));
  for (const auto& b : model->buffers())
    parts.push_back(b.flatten().to(torch::kFloat64));
  return torch::cat(parts);
}

}  // namespace semifer::test
