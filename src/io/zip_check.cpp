#include "semifer/io/zip_check.h"

#include <caffe2/serialize/versions.h>
#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstring>
#include <optional>
#include <vector>

#include "semifer/util/error.h"
#include "semifer/util/strings.h"

namespace semifer::io {

namespace {

uint64_t le(const uint8_t* p, int bytes) {
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

constexpr uint32_t kEndOfDirectory = 0x06054b50;
constexpr uint32_t kZip64End = 0x06064b50;
constexpr uint32_t kZip64Locator = 0x07064b50;
constexpr uint32_t kDirectoryEntry = 0x02014b50;
constexpr uint32_t kLocalHeader = 0x04034b50;

// True when [offset, offset + n) lies inside a buffer of `size` bytes. The
// offsets come from the file (64-bit in zip64 records), so `offset + n` may
// wrap and is never computed.
bool fits(uint64_t offset, uint64_t n, size_t size) {
  return offset <= size && n <= size - offset;
}

// Offset of the end-of-directory record, which sits in the last 22 + 65535
// bytes, or npos.
size_t find_end_record(const uint8_t* data, size_t size) {
  if (size < 22) return std::string::npos;
  const size_t lowest = size > 22 + 65535 ? size - 22 - 65535 : 0;
  for (size_t i = size - 22 + 1; i-- > lowest;) {
    if (le(data + i, 4) == kEndOfDirectory) return i;
  }
  return std::string::npos;
}

// What a raw deflate stream inflates to when that is exactly `expected`
// bytes (as miniz requires); nullopt otherwise.
std::optional<std::string> inflate_exactly(const uint8_t* data, uint64_t size,
                                           uint64_t expected) {
  std::string out(expected, '\0');
  z_stream z{};
  if (inflateInit2(&z, -15) != Z_OK) return std::nullopt;
  z.next_in = const_cast<Bytef*>(data);
  z.avail_in = static_cast<uInt>(std::min<uint64_t>(size, 1U << 20));
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(expected);
  const int rc = inflate(&z, Z_FINISH);
  const bool whole = rc == Z_STREAM_END && z.total_out == expected;
  inflateEnd(&z);
  if (!whole) return std::nullopt;
  return out;
}

// One entry of the central directory: its (maybe compressed) data are
// [start, start + size) of the file.
struct Entry {
  std::string name;
  uint64_t method = 0;
  uint32_t crc = 0;
  uint64_t start = 0;
  uint64_t size = 0;          // stored bytes
  uint64_t uncompressed = 0;  // bytes once inflated
};

// The central directory, every entry's bounds checked; throws "NAME: not a
// readable archive (...)".
std::vector<Entry> read_directory(const uint8_t* data, size_t size,
                                  const std::string& name) {
  std::vector<Entry> out;
  auto bad = [&](const std::string& why) {
    fail(name, ": not a readable archive (", why,
         "); the file is truncated or corrupt");
  };
  if (size < 22) bad("too short");
  const size_t eocd = find_end_record(data, size);
  if (eocd == std::string::npos) bad("no end of central directory");
  uint64_t entries = le(data + eocd + 10, 2);
  uint64_t dir_offset = le(data + eocd + 16, 4);
  // As miniz (LibTorch's reader) and Python's zipfile decide: a zip64
  // locator right before the end record, pointing at a zip64 end record,
  // overrides the 16- and 32-bit fields whatever they say (LibTorch writes
  // both). Reading the classic fields where miniz reads the zip64 ones
  // would check a different directory than the one LibTorch opens.
  const bool has_locator =
      eocd >= 20 + 56 && le(data + eocd - 20, 4) == kZip64Locator;
  const uint64_t z64 = has_locator ? le(data + eocd - 20 + 8, 8) : 0;
  if (has_locator && !fits(z64, 56, size)) bad("bad zip64 record");
  if (has_locator && le(data + z64, 4) == kZip64End) {
    if (le(data + z64 + 4, 8) < 44) bad("bad zip64 record size");
    if (le(data + eocd - 20 + 16, 4) != 1) bad("a multi-disk zip64 archive");
    entries = le(data + z64 + 32, 8);
    if (le(data + z64 + 24, 8) != entries) bad("zip64 entry counts disagree");
    dir_offset = le(data + z64 + 48, 8);
  } else if (entries == 0xFFFF || dir_offset == 0xFFFFFFFF) {
    bad(has_locator ? "bad zip64 record" : "no zip64 locator");
  }
  uint64_t p = dir_offset;
  for (uint64_t e = 0; e < entries; ++e) {
    if (!fits(p, 46, size) || le(data + p, 4) != kDirectoryEntry)
      bad("bad central directory entry " + std::to_string(e));
    const uint64_t method = le(data + p + 10, 2);
    const uint32_t crc = static_cast<uint32_t>(le(data + p + 16, 4));
    uint64_t compressed = le(data + p + 20, 4);
    uint64_t uncompressed = le(data + p + 24, 4);
    const uint64_t name_len = le(data + p + 28, 2);
    const uint64_t extra_len = le(data + p + 30, 2);
    const uint64_t comment_len = le(data + p + 32, 2);
    const uint64_t attributes = le(data + p + 38, 4);
    uint64_t local = le(data + p + 42, 4);
    if (!fits(p + 46, name_len + extra_len, size)) bad("truncated directory");
    const std::string entry(reinterpret_cast<const char*>(data + p + 46),
                            name_len);
    auto bad_entry = [&](const std::string& why) {
      bad("entry '" + util::excerpt(entry) + "' " + why);
    };
    // miniz reads no entry that is encrypted (bits 0 and 6) or a patch (5),
    // and no archive whose local headers are masked (13).
    const uint64_t flags = le(data + p + 8, 2);
    if ((flags & 0x2061) != 0)
      bad_entry(str("is encrypted or a patch (flags 0x", std::hex, flags, ")"));
    // zip64: the extra field holds the 8-byte values of the fields that
    // read 0xFFFFFFFF, in this order.
    const uint8_t* x = data + p + 46 + name_len;
    for (uint64_t i = 0; i + 4 <= extra_len;) {
      const uint64_t id = le(x + i, 2), len = le(x + i + 2, 2);
      if (len > extra_len - i - 4) bad_entry("has an extra field past its end");
      if (id == 0x0001) {
        uint64_t k = i + 4;
        if (uncompressed == 0xFFFFFFFF && k + 8 <= i + 4 + len)
          uncompressed = le(x + k, 8), k += 8;
        if (compressed == 0xFFFFFFFF && k + 8 <= i + 4 + len)
          compressed = le(x + k, 8), k += 8;
        if (local == 0xFFFFFFFF && k + 8 <= i + 4 + len) local = le(x + k, 8);
      }
      i += 4 + len;
    }
    p += 46 + name_len + extra_len + comment_len;
    if (!fits(local, 30, size) || le(data + local, 4) != kLocalHeader)
      bad_entry("has no local header");
    const uint64_t start =
        local + 30 + le(data + local + 26, 2) + le(data + local + 28, 2);
    if (!fits(start, compressed, size)) bad_entry("is truncated");
    if (method == 0 && compressed != uncompressed) bad_entry("sizes differ");
    // miniz (LibTorch's zip reader) hands back nothing for a folder (the
    // MS-DOS folder attribute, 0x10) or an entry of 0 stored bytes, and
    // leaves the record's buffer as it found it.
    if ((attributes & 0x10) != 0 && uncompressed > 0)
      bad_entry("holds data but is marked as a folder");
    if (compressed == 0 && uncompressed > 0)
      bad_entry("has no data for its " + std::to_string(uncompressed) +
                " bytes");
    out.push_back({entry, method, crc, start, compressed, uncompressed});
  }
  return out;
}

// Throws "NAME: entry '...' is corrupt" unless `bytes` (the entry's data,
// inflated) carry its CRC-32.
void check_crc(const Entry& e, const uint8_t* bytes, uint64_t size,
               const std::string& name) {
  const auto got =
      static_cast<uint32_t>(crc32_z(0L, bytes, static_cast<z_size_t>(size)));
  SEMIFER_CHECK(got == e.crc, name, ": entry '", util::excerpt(e.name),
                "' is corrupt (its CRC-32 does not match the archive's); "
                "the file was damaged after it was written");
}

}  // namespace

bool is_zip(const uint8_t* data, size_t size) {
  return find_end_record(data, size) != std::string::npos;
}

void verify_zip(const uint8_t* data, size_t size, const std::string& name) {
  for (const Entry& e : read_directory(data, size, name)) {
    if (e.method == 0) check_crc(e, data + e.start, e.size, name);
  }
}

void check_torch_zip(const uint8_t* data, size_t size,
                     const std::string& name) {
  auto not_torch = [&](const std::string& why) {
    fail(name, ": not a PyTorch archive (", why, ")");
  };
  if (size >= 8 && std::memcmp(data, "PYTORCH1", 8) == 0)
    not_torch("the preview-release format before PyTorch 1.0");
  const std::vector<Entry> entries = read_directory(data, size, name);
  if (entries.empty()) not_torch("the zip holds no files");
  const size_t slash = entries[0].name.find('/');
  if (slash == std::string::npos)
    not_torch("'" + util::excerpt(entries[0].name) +
              "' is not inside the archive's folder");
  const std::string folder = entries[0].name.substr(0, slash + 1);
  const Entry* version = nullptr;
  for (const char* rel : {".data/version", "version"}) {
    for (const Entry& e : entries) {
      if (!version && e.name == folder + rel) version = &e;
    }
  }
  if (!version) not_torch("no " + util::excerpt(folder) + "version record");
  // LibTorch writes it stored; miniz also inflates a deflated one. LibTorch's
  // reader reads it in its constructor, where a failure (a CRC-32 mismatch,
  // a stream that does not inflate to the recorded size) leaks its state:
  // so what miniz checks is checked here first.
  constexpr uint64_t kMaxVersionBytes = 64 * 1024;
  if (version->uncompressed > kMaxVersionBytes)
    not_torch(
        str("its version record holds ", version->uncompressed, " bytes"));
  std::string text;
  if (version->method == 0) {
    text.assign(reinterpret_cast<const char*>(data + version->start),
                version->size);
  } else if (version->method == 8) {
    auto inflated = inflate_exactly(data + version->start, version->size,
                                    version->uncompressed);
    if (!inflated) not_torch("its deflated version record does not inflate");
    text = std::move(*inflated);
  } else {
    not_torch(str("its version record uses compression method ",
                  version->method, ", which LibTorch cannot read"));
  }
  check_crc(*version, reinterpret_cast<const uint8_t*>(text.data()),
            text.size(), name);
  // As caffe2::stoull reads it: leading blanks, then the digits.
  const char* p = text.data();
  const char* end = p + text.size();
  while (p < end && std::isspace(static_cast<unsigned char>(*p))) ++p;
  uint64_t v = 0;
  const auto r = std::from_chars(p, end, v);
  if (r.ec != std::errc() ||
      v < caffe2::serialize::kMinSupportedFileFormatVersion ||
      v > caffe2::serialize::kMaxSupportedFileFormatVersion) {
    const char* word = p;
    while (word < end && word - p < 24 &&
           std::isgraph(static_cast<unsigned char>(*word)))
      ++word;
    not_torch(str("file format version '", std::string(p, word),
                  "' is not one LibTorch reads (",
                  caffe2::serialize::kMinSupportedFileFormatVersion, "..",
                  caffe2::serialize::kMaxSupportedFileFormatVersion, ")"));
  }
}

}  // namespace semifer::io
