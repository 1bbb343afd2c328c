#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace semifer::io {

/// Checks a zip archive in memory (LibTorch checkpoints and torch.save
/// files are zip archives of stored entries): the central directory must be
/// readable and every stored entry's bytes must match the CRC-32 the
/// archive records for it. LibTorch's reader skips this check, so a flipped
/// byte inside a tensor would load silently. `name` names the file in
/// errors. Throws semifer::Error "NAME: ..." naming the first bad entry.
/// Entries of other compression methods are not checked (LibTorch writes
/// none).
void verify_zip(const uint8_t* data, size_t size, const std::string& name);

/// Checks what LibTorch's zip reader (caffe2::serialize::PyTorchStreamReader,
/// behind torch.load, torch::jit::load and serialize archives) takes for
/// granted before it is handed an archive: at least one entry, the first
/// inside a folder, that folder's `version` (or `.data/version`) record and
/// its number in the range LibTorch reads. On these the reader throws a
/// std::out_of_range past semifer's handlers, or a c10::Error from its
/// constructor that leaks its zip state. Throws semifer::Error "NAME: not a
/// PyTorch archive (...)", or verify_zip's error for an unreadable zip.
void check_torch_zip(const uint8_t* data, size_t size, const std::string& name);

/// True when the bytes end with a zip end-of-central-directory record (a
/// zip archive, possibly damaged inside; false for other files and for
/// truncated archives).
bool is_zip(const uint8_t* data, size_t size);

}  // namespace semifer::io
