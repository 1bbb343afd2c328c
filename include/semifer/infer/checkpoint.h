#pragma once

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
};

/// Builds the checkpoint's architecture and loads network `which` (the file
/// is read and verified once). Throws semifer::Error naming the file when
/// it is missing, damaged or no semifer checkpoint.
LoadedModel load_checkpoint(const std::string& path, Network which);

/// A model from either a `semifer train` checkpoint (network `which`) or an
/// exported state_dict (.pth, `semifer weights export`) with its model card
/// beside it (model_card_path). Throws semifer::Error naming the file.
LoadedModel load_model(const std::string& path,
                       Network which = Network::kTeacher);

}  // namespace semifer::infer
