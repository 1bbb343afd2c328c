#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "semifer/models/classifier.h"

namespace semifer::models {

/// Options every architecture takes.
struct ModelOptions {
  int64_t num_classes = 8;
  /// Dropout before the classifier; < 0: the architecture's default
  /// (torchvision's: 0.2 for EfficientNet-B0, ..., 0.5 for B7; 0 for ResNet).
  double dropout = -1;
  /// EfficientNet stochastic depth (torchvision: 0.2); < 0: default.
  double stochastic_depth = -1;
};

/// Builds a model by name: efficientnet_b0 ... efficientnet_b7, resnet18,
/// resnet34, resnet50, smallnet. Weights are initialised as torchvision
/// initialises them. An unknown name is a semifer::Error listing the names.
Classifier create_model(const std::string& name,
                        const ModelOptions& options = {});

/// The registered names, in a stable order.
std::vector<std::string> model_names();

/// Number of parameters (trainable tensors' elements).
int64_t count_parameters(const torch::nn::Module& model);

}  // namespace semifer::models
