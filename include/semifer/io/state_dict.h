#pragma once

#include <ATen/core/Tensor.h>

#include <string>
#include <vector>

namespace semifer::io {

/// The named tensors of a PyTorch state_dict, in the order of the file (or of
/// insertion). `keys[i]` names `tensors[i]`; keys are unique.
///
/// Tensors read by load_state_dict are CPU, contiguous and own their memory
/// (views that shared a storage in the file are copied apart).
struct StateDict {
  std::vector<std::string> keys;
  std::vector<at::Tensor> tensors;

  size_t size() const { return keys.size(); }
  bool empty() const { return keys.empty(); }

  /// Appends `tensor` under `key`; throws semifer::Error when `key` is
  /// already present.
  void insert(const std::string& key, at::Tensor tensor);

  /// The tensor under `key`, or nullptr (a linear search: state_dicts hold
  /// hundreds, not millions, of entries).
  const at::Tensor* find(const std::string& key) const;

  /// The tensor under `key`; throws semifer::Error naming the key.
  const at::Tensor& at(const std::string& key) const;
};

/// Reads a state_dict written by Python's `torch.save` (the zip format of
/// PyTorch >= 1.6): a `collections.OrderedDict` (what `model.state_dict()`
/// returns, torchvision's published weights) or a plain dict of name ->
/// tensor. Parameters, float64/32/16, bfloat16, complex, int64/32/16/8,
/// uint8 and bool tensors are supported, saved on any device.
///
/// Throws semifer::Error with a one-line message naming `path` (and the key,
/// pickle opcode or record where there is one) for a missing, empty, non-zip,
/// legacy (pre-1.6) or truncated file, for a value that is not a tensor and
/// for pickle content outside what torch.save writes for tensors.
StateDict load_state_dict(const std::string& path);

/// Writes `state` as Python's `torch.save(OrderedDict(...), path)` does, so
/// that `model.load_state_dict(torch.load(path))` works in Python (also with
/// `weights_only=True`). Every tensor is written contiguous with its own
/// storage, from CPU (other devices are copied to CPU first).
///
/// The file is written to a temporary name in the same folder and renamed
/// into place, so `path` is either the old file or the complete new one.
/// Throws semifer::Error for an undefined, sparse or quantized tensor, a
/// duplicate key, or an I/O error.
void save_state_dict(const std::string& path, const StateDict& state);

}  // namespace semifer::io
