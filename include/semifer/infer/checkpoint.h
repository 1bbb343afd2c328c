#pragma once

#include <optional>
#include <string>

#include "semifer/infer/model_card.h"
#include "semifer/models/classifier.h"

namespace semifer::infer {

/// The two networks a training checkpoint holds (paper section 3.3).
enum class Network {
  kStudent,  ///< A, trained by gradient descent
  kTeacher,  ///< B, the exponential moving average of A
};
/// "A" or "B".
const char* network_name(Network network);
/// The network "A" or "B" names; none for "auto" (whichever the card
/// prefers: preferred_network). Throws semifer::Error for another name.
std::optional<Network> network_named(const std::string& name);

/// True when `path` is a checkpoint written by `semifer train` (not a
/// torch.save state_dict). Reads the file.
bool is_checkpoint(const std::string& path);

/// Reads the model card stored in a checkpoint. Throws semifer::Error
/// naming the file when it is no semifer checkpoint or is damaged.
ModelCard read_checkpoint_card(const std::string& path);

/// Loads network `which` of a training checkpoint into `model`, which must
/// be the checkpoint's architecture and class count (tensor shapes are
/// checked). Throws semifer::Error naming the file otherwise.
void load_network(models::ClassifierImpl& model, const std::string& path,
                  Network which);

/// A network ready to classify and the card that says how to feed it.
struct LoadedModel {
  ModelCard card;
  models::Classifier model;  ///< in eval mode, on the CPU
  /// The network loaded: of a checkpoint, the one asked for or, for none
  /// (`--network auto`), the card's preferred_network; an exported .pth
  /// holds one network, reported as the one asked for (B for none).
  Network network = Network::kTeacher;
};

/// Builds the checkpoint's architecture and loads network `which`, or the
/// card's preferred_network when `which` is empty (the file is read and
/// verified once). Throws semifer::Error naming the file when it is
/// missing, damaged or no semifer checkpoint.
LoadedModel load_checkpoint(const std::string& path,
                            std::optional<Network> which);

/// A model from either a `semifer train` checkpoint (network `which`; empty:
/// the card's preferred one) or an exported state_dict (.pth, `semifer
/// weights export`) with its model card beside it (model_card_path). The
/// file is read once. Throws semifer::Error naming the file.
LoadedModel load_model(const std::string& path,
                       std::optional<Network> which = Network::kTeacher);

}  // namespace semifer::infer
