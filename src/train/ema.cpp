#include "semifer/train/ema.h"

#include <torch/torch.h>

#include "semifer/util/error.h"

namespace semifer::train {

void ema_update(torch::nn::Module& teacher, const torch::nn::Module& student,
                double decay) {
  SEMIFER_CHECK(decay >= 0.0 && decay <= 1.0,
                "EMA decay must lie in [0, 1], got ", decay);
  torch::NoGradGuard no_grad;
  auto tp = teacher.parameters();
  const auto sp = student.parameters();
  TORCH_INTERNAL_ASSERT(tp.size() == sp.size(),
                        "EMA teacher and student differ");
  for (size_t i = 0; i < tp.size(); ++i)
    tp[i].mul_(decay).add_(sp[i].detach(), 1.0 - decay);
  auto tb = teacher.buffers();
  const auto sb = student.buffers();
  TORCH_INTERNAL_ASSERT(tb.size() == sb.size(),
                        "EMA teacher and student differ");
  for (size_t i = 0; i < tb.size(); ++i) {
    if (tb[i].is_floating_point()) {
      tb[i].mul_(decay).add_(sb[i], 1.0 - decay);
    } else {
      tb[i].copy_(sb[i]);
    }
  }
}

}  // namespace semifer::train
