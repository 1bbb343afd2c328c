#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "semifer/util/atomic_file.h"

namespace semifer::util {

/// Removes ASCII whitespace (and a trailing '\r') from both ends.
std::string_view trim(std::string_view s);

/// Splits on one delimiter character; empty fields are kept.
std::vector<std::string_view> split(std::string_view s, char delim);

/// Splits on runs of ASCII whitespace; no empty fields.
std::vector<std::string_view> split_ws(std::string_view s);

/// Splits one CSV record (RFC 4180 quoting: "a,b" is one field, "" an
/// escaped quote). Returns std::nullopt when a quote is left open.
std::optional<std::vector<std::string>> split_csv(std::string_view line);

/// A count and its noun, plural unless it is 1: counted(1, "epoch") is
/// "1 epoch", counted(3, "epoch") "3 epochs".
std::string counted(int64_t n, std::string_view noun);

/// Lower-cases ASCII letters.
/// Levenshtein distance (insertions, deletions, substitutions).
size_t edit_distance(std::string_view a, std::string_view b);

/// The candidate nearest to `word` by edit_distance when it is closer than
/// `limit` (a typo, not another word); "" otherwise.
std::string closest(std::string_view word,
                    const std::vector<std::string>& candidates,
                    size_t limit = 3);

std::string to_lower(std::string_view s);

/// Parses the whole string (after trimming) as a base-10 integer.
std::optional<int64_t> parse_int(std::string_view s);

/// Parses the whole string (after trimming) as a finite floating-point
/// number ("nan" and "inf" are not numbers here).
std::optional<double> parse_double(std::string_view s);

/// `dir`/`rel`, or `rel` itself when it is absolute or `dir` is empty: how
/// every path in a config or annotation file is resolved.
std::string join_path(const std::string& dir, const std::string& rel);

/// The most bytes read_file and read_lines read unless told otherwise.
inline constexpr size_t kMaxFileBytes = size_t{1} << 30;

/// Reads a text file into lines (without "\n" or "\r\n" terminators); a
/// UTF-8 byte-order mark at the start is dropped. Throws semifer::Error
/// naming the path when it cannot be read, is not a regular file (a FIFO,
/// a device, a folder: refused without blocking) or holds more than
/// `max_bytes`.
std::vector<std::string> read_lines(const std::string& path,
                                    size_t max_bytes = kMaxFileBytes);

/// Reads a whole file into memory, with read_lines' checks. Throws
/// semifer::Error naming the path.
std::vector<uint8_t> read_file(const std::string& path,
                               size_t max_bytes = kMaxFileBytes);

/// Writes bytes to a file crash-safely (an AtomicFile: a temporary file
/// renamed over `path`): a failed write (a full disk) throws semifer::Error
/// naming `path` and leaves its previous content; a link at `path` is
/// replaced, never written through. kDurable also fsyncs the file and its
/// folder; kFast (generated data that can be made again) does not.
void write_file(const std::string& path, const void* data, size_t size,
                Durability durability = Durability::kDurable);

/// write_file for text.
void write_text(const std::string& path, std::string_view text,
                Durability durability = Durability::kDurable);

/// `s` made fit for an error message that echoes input: bytes outside
/// printable ASCII (control characters, a byte-order mark, invalid UTF-8)
/// as \xNN, a backslash as \\, cut after `max` bytes with the whole length
/// said ("... (1048576 bytes)").
std::string excerpt(std::string_view s, size_t max = 80);

/// Removes a file or a folder with everything below it (links are removed,
/// not followed); a missing path is no error. Returns false when something
/// could not be removed. Use this, not std::filesystem::remove_all: the pip
/// wheel's libtorch.so exports its own, incompatible copy of that function,
/// which wins symbol lookup and crashes (seen with LibTorch 2.11).
bool remove_tree(const std::string& path);

}  // namespace semifer::util
