#pragma once

#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>

#include <string>

#include "semifer/infer/model_card.h"

/// The file layer of semifer checkpoints: LibTorch serialize archives,
/// verified on read and written crash-safely, and the one list of the keys
/// a checkpoint holds.
namespace semifer::infer {

/// Every key of a `semifer train` checkpoint. infer reads the model part
/// (card, student, teacher); train::TrainState writes all of them and reads
/// back the rest: no other code names a key.
namespace keys {
inline constexpr const char* kCard = "info";        ///< ModelCard JSON, uint8
inline constexpr const char* kStudent = "student";  ///< network A
inline constexpr const char* kTeacher = "teacher";  ///< network B
inline constexpr const char* kOptimizer = "optimizer";
inline constexpr const char* kTau = "tau";  ///< [C] float64 thresholds
/// train::PseudoLabeler's running estimates (a nested archive)
inline constexpr const char* kPseudoLabels = "pseudo_labels";
inline constexpr const char* kStep = "step";
inline constexpr const char* kBestF1 = "best_f1";
inline constexpr const char* kWindow = "window";  ///< metric window sums
inline constexpr const char* kTorchRng = "torch_rng";
inline constexpr const char* kCudaRng = "cuda_rng";
inline constexpr const char* kConfig = "config";  ///< resolved config YAML
/// [] int64: the ranks of the run that wrote it (absent: 1)
inline constexpr const char* kWorldSize = "world_size";
/// [6] float64: best macro F1 and its step of network A, then of B, then
/// checkpoint_best.pt's step and network (0 A, 1 B) (absent: none recorded)
inline constexpr const char* kBestNetworks = "best_networks";
/// [k, 2] float64: (step, monitor F1) of the kept best checkpoints
inline constexpr const char* kKeptBest = "kept_best";
}  // namespace keys

/// Reads an archive into memory, verifies it (io::verify_zip: a damaged
/// byte anywhere is an error) and opens it with tensors on `device`.
/// Throws semifer::Error naming the file.
torch::serialize::InputArchive read_archive(
    const std::string& path, const c10::Device& device = c10::kCPU);

/// Writes an archive crash-safely (util::AtomicFile: temp file, fsync,
/// rename). Throws semifer::Error in one line naming the file; the target
/// keeps its previous content.
void write_archive(torch::serialize::OutputArchive& archive,
                   const std::string& path);

/// Text (JSON, YAML) stored as a uint8 tensor under `key`.
void write_text(torch::serialize::OutputArchive& archive, const char* key,
                const std::string& text);
/// The text under `key`; false when the archive has none.
bool read_text(torch::serialize::InputArchive& archive, const char* key,
               std::string& text);

}  // namespace semifer::infer
