// How a CheckpointInfo is stored inside a checkpoint archive: JSON text in a
// uint8 tensor under the key "info". Shared by the trainer (writer) and
// checkpoint.cpp (reader).
#pragma once

#include <ATen/core/Tensor.h>

#include <string>

#include "semifer/train/checkpoint.h"

namespace semifer::train::detail {

at::Tensor info_to_tensor(const CheckpointInfo& info);
/// `path` names the file in errors.
CheckpointInfo info_from_tensor(const at::Tensor& t, const std::string& path);

}  // namespace semifer::train::detail
