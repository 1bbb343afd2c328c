#include "semifer/train/ema.h"

#include <ATen/ATen.h>
#include <torch/torch.h>

#include "semifer/util/error.h"

namespace semifer::train {

EmaTeacher::EmaTeacher(torch::nn::Module& teacher,
                       const torch::nn::Module& student) {
  const auto tp = teacher.parameters();
  const auto sp = student.parameters();
  TORCH_INTERNAL_ASSERT(tp.size() == sp.size(),
                        "EMA teacher and student differ");
  for (size_t i = 0; i < tp.size(); ++i) {
    // The parameters themselves (not detached aliases): Module::load and
    // set_data replace their storage in place, which aliases would miss.
    teacher_float_.push_back(tp[i]);
    student_float_.push_back(sp[i]);
  }
  const auto tb = teacher.buffers();
  const auto sb = student.buffers();
  TORCH_INTERNAL_ASSERT(tb.size() == sb.size(),
                        "EMA teacher and student differ");
  for (size_t i = 0; i < tb.size(); ++i) {
    auto& t = tb[i].is_floating_point() ? teacher_float_ : teacher_other_;
    auto& s = tb[i].is_floating_point() ? student_float_ : student_other_;
    t.push_back(tb[i]);
    s.push_back(sb[i]);
  }
}

void EmaTeacher::update(double decay) {
  SEMIFER_CHECK(decay >= 0.0 && decay <= 1.0,
                "EMA decay must lie in [0, 1], got ", decay);
  torch::NoGradGuard no_grad;
  if (!teacher_float_.empty()) {
    at::_foreach_mul_(teacher_float_, decay);
    at::_foreach_add_(teacher_float_, student_float_, 1.0 - decay);
  }
  for (size_t i = 0; i < teacher_other_.size(); ++i)
    teacher_other_[i].copy_(student_other_[i]);
}

void ema_update(torch::nn::Module& teacher, const torch::nn::Module& student,
                double decay) {
  EmaTeacher(teacher, student).update(decay);
}

}  // namespace semifer::train
