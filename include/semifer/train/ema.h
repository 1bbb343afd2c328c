#pragma once

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>

#include <vector>

namespace semifer::train {

/// Network B of the paper (section 3.3): the exponential moving average of
/// network A's weights, updated after every optimizer step:
///   teacher = decay * teacher + (1 - decay) * student
/// for every parameter and every floating-point buffer (BatchNorm running
/// statistics); integer buffers (num_batches_tracked) are copied. The two
/// modules must have the same structure (the teacher is a clone of the
/// student). Runs without gradient.
///
/// The tensor lists are gathered once, and each update is two multi-tensor
/// calls (at::_foreach_mul_, at::_foreach_add_) plus one copy per integer
/// buffer. The modules must outlive it; loading weights into them in place
/// (Module::load) keeps it valid.
class EmaTeacher {
 public:
  EmaTeacher(torch::nn::Module& teacher, const torch::nn::Module& student);
  /// Throws semifer::Error when decay lies outside [0, 1].
  void update(double decay);

 private:
  std::vector<at::Tensor> teacher_float_, student_float_;
  std::vector<at::Tensor> teacher_other_, student_other_;
};

/// EmaTeacher(teacher, student).update(decay).
void ema_update(torch::nn::Module& teacher, const torch::nn::Module& student,
                double decay);

}  // namespace semifer::train
