#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "semifer/infer/input_spec.h"

namespace semifer::infer {

/// What a model is: enough to rebuild it and feed it images as training did.
/// Stored inside every `semifer train` checkpoint and written next to an
/// exported .pth as its model card (model_card_path), a JSON object:
///   {"model": "efficientnet_b0", "dropout": -1, "classes": [...],
///    "size": 224, "mean": [..3], "std": [..3], "step": 3000,
///    "validation": {"step": 3000, "macro_f1": {"A": 0.61, "B": 0.63}},
///    "selected_network": "B"}
/// ("validation" and "selected_network" only when known).
struct ModelCard {
  std::string model;                 ///< zoo name (models/registry.h)
  double dropout = -1;               ///< as given to the model (< 0: default)
  std::vector<std::string> classes;  ///< model output order, canonical names
  InputSpec input;                   ///< size and normalisation
  int64_t step = 0;  ///< training steps done when it was written
  /// The last validation before it was written (step -1: none): the macro
  /// F1 of network A and B on the run's validation split (< 0: unknown).
  int64_t validation_step = -1;
  double validation_f1_a = -1;
  double validation_f1_b = -1;
  /// "A" or "B": the network a best checkpoint was chosen by, or the one an
  /// exported .pth holds ("" when none was chosen: checkpoint_last.pt).
  std::string selected_network;
};

/// The network to use from a checkpoint when none is named (`--network
/// auto`): the card's selected_network, else the one with the better
/// recorded validation macro F1, else "B" (the paper's).
std::string preferred_network(const ModelCard& card);

/// A warning (one line, without "warning: ") when the card's recorded
/// validation macro F1 of `network` is near chance (below 1.2 / classes):
/// such a model predicts little better than guessing. Empty otherwise.
std::string near_chance_warning(const ModelCard& card,
                                const std::string& network);

/// The card as one JSON object (the format above).
std::string to_json(const ModelCard& card);
/// Parses to_json's format; `file` names the source in errors. Throws
/// semifer::Error "FILE: ..." on a missing key or a value of the wrong type.
ModelCard parse_model_card(const std::string& json, const std::string& file);

/// Where the model card of an exported state_dict lives: "b0.pth" ->
/// "b0.json" (the extension replaced; appended when there is none).
std::string model_card_path(const std::string& weights_path);
/// Writes a card atomically (util::AtomicFile).
void write_model_card(const std::string& path, const ModelCard& card);
/// Reads a card file. Throws semifer::Error naming the file.
ModelCard read_model_card(const std::string& path);

}  // namespace semifer::infer
