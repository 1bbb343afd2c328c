#include "backends/inspect.h"

#include <torch/torch.h>

#include "semifer/models/registry.h"
#include "semifer/models/weights.h"
#include "semifer/util/error.h"

namespace semifer::models {

WeightsInfo inspect_weights(const io::StateDict& state) {
  WeightsInfo info;
  info.tensors = static_cast<int64_t>(state.size());
  for (const auto& t : state.tensors) {
    if (t.is_floating_point()) info.parameters += t.numel();
  }
  for (const std::string& name : model_names()) {
    Classifier probe = create_model(name);
    const io::StateDict mine = state_dict(*probe);
    if (mine.size() != state.size()) continue;
    const std::string head = probe->head_prefix();
    bool same = true;
    int64_t classes = -1;
    for (size_t i = 0; i < mine.size() && same; ++i) {
      const at::Tensor* theirs = state.find(mine.keys[i]);
      if (!theirs) {
        same = false;
      } else if (mine.keys[i].rfind(head, 0) == 0) {
        classes = theirs->size(0);
      } else {
        same = theirs->sizes() == mine.tensors[i].sizes();
      }
    }
    if (same) info.matches.push_back(str(name, " (", classes, " classes)"));
  }
  return info;
}

}  // namespace semifer::models
