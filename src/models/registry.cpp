#include "semifer/models/registry.h"

#include <torch/torch.h>

#include <functional>
#include <utility>

#include "semifer/models/efficientnet.h"
#include "semifer/models/resnet.h"
#include "semifer/util/error.h"

namespace semifer::models {

std::shared_ptr<ClassifierImpl> ClassifierImpl::clone_classifier() const {
  // Building the twin initialises weights from the default generator; put
  // its state back so cloning does not shift later random draws.
  at::Generator gen = at::detail::getDefaultCPUGenerator();
  at::Tensor state;
  {
    std::lock_guard<std::mutex> lock(gen.mutex());
    state = gen.get_state();
  }
  std::shared_ptr<ClassifierImpl> copy = make_like();
  {
    std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_state(state);
  }
  torch::NoGradGuard no_grad;
  const auto from_params = named_parameters();
  auto to_params = copy->named_parameters();
  TORCH_INTERNAL_ASSERT(from_params.size() == to_params.size());
  for (const auto& p : from_params)
    to_params[p.key()].set_data(p.value().detach().clone());
  const auto from_buffers = named_buffers();
  auto to_buffers = copy->named_buffers();
  TORCH_INTERNAL_ASSERT(from_buffers.size() == to_buffers.size());
  for (const auto& b : from_buffers)
    to_buffers[b.key()].set_data(b.value().clone());
  copy->train(is_training());
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
