#include "semifer/models/registry.h"

#include <torch/torch.h>

#include <functional>
#include <utility>

#include "semifer/models/efficientnet.h"
#include "semifer/models/resnet.h"
#include "semifer/util/error.h"

namespace semifer::models {

std::shared_ptr<ClassifierImpl> ClassifierImpl::clone_classifier() const {
  auto copy = std::dynamic_pointer_cast<ClassifierImpl>(clone());
  TORCH_INTERNAL_ASSERT(copy, "clone() of a classifier is not a classifier");
  return copy;
}

namespace {

using Factory = std::function<Classifier(const ModelOptions&)>;

const std::vector<std::pair<std::string, Factory>>& registry() {
  static const std::vector<std::pair<std::string, Factory>> entries = [] {
    std::vector<std::pair<std::string, Factory>> e;
    for (int k = 0; k <= 7; ++k) {
      e.emplace_back(
          str("efficientnet_b", k), [k](const ModelOptions& m) -> Classifier {
            auto o = EfficientNetOptions::for_variant(k, m.num_classes);
            if (m.dropout >= 0) o.dropout = m.dropout;
            if (m.stochastic_depth >= 0)
              o.stochastic_depth = m.stochastic_depth;
            return std::make_shared<EfficientNetImpl>(o);
          });
    }
    for (int depth : {18, 34, 50}) {
      e.emplace_back(str("resnet", depth),
                     [depth](const ModelOptions& m) -> Classifier {
                       auto o = ResNetOptions::for_depth(depth, m.num_classes);
                       if (m.dropout >= 0) o.dropout = m.dropout;
                       return std::make_shared<ResNetImpl>(o);
                     });
    }
    e.emplace_back("smallnet", [](const ModelOptions& m) -> Classifier {
      SmallNetOptions o;
      o.num_classes = m.num_classes;
      if (m.dropout >= 0) o.dropout = m.dropout;
      return std::make_shared<SmallNetImpl>(o);
    });
    return e;
  }();
  return entries;
}

}  // namespace

std::vector<std::string> model_names() {
  std::vector<std::string> names;
  for (const auto& [name, factory] : registry()) names.push_back(name);
  return names;
}

Classifier create_model(const std::string& name, const ModelOptions& options) {
  SEMIFER_CHECK(options.num_classes > 0, "num_classes must be positive, got ",
                options.num_classes);
  for (const auto& [known, factory] : registry()) {
    if (known == name) return factory(options);
  }
  std::string list;
  for (const auto& n : model_names()) list += (list.empty() ? "" : ", ") + n;
  fail("unknown model '", name, "' (known: ", list, ")");
}

int64_t count_parameters(const torch::nn::Module& model) {
  int64_t n = 0;
  for (const auto& p : model.parameters()) n += p.numel();
  return n;
}

}  // namespace semifer::models
