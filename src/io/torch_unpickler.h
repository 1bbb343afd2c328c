// Private to src/io: the part of Python's pickle format that torch.save uses
// for a dict of tensors, and the storage classes it names.
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/core/Allocator.h>

#include <cstdint>
#include <functional>
#include <string>
#include <tuple>

#include "semifer/io/state_dict.h"

namespace semifer::io {

/// Returns the bytes of one archive record, e.g. "data/0"; throws
/// semifer::Error when it is missing or unreadable.
using RecordFn =
    std::function<std::tuple<at::DataPtr, size_t>(const std::string& name)>;

/// Unpickles `data.pkl` of a torch.save archive (`size` bytes at `data`)
/// whose root is a dict or OrderedDict of name -> tensor; storages are read
/// through `read_record`. `path` names the file in error messages, which also
/// give the byte offset of the failing opcode.
StateDict unpickle_state_dict(const std::string& path, const uint8_t* data,
                              size_t size, const RecordFn& read_record);

/// The storage class torch.save names for `dtype` ("FloatStorage", ...), or
/// nullptr for a dtype torch.save cannot write this way (quantized ones).
const char* storage_type_name(at::ScalarType dtype);

}  // namespace semifer::io
