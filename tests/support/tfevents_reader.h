// A reader of TensorBoard event files for the tests, written from the
// format's description (TFRecord framing, tensorflow/core/util/event.proto,
// tensorflow/core/framework/summary.proto) and independently of
// src/io/tfevents.cpp: a bitwise CRC-32C and a generic protocol-buffer
// walker.
#pragma once

#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace semifer::test {

/// One event as TensorBoard sees it.
struct ReadEvent {
  double wall_time = 0;
  int64_t step = 0;
  std::string file_version;
  std::map<std::string, float> scalars;  ///< tag -> simple_value
};

inline uint32_t bitwise_crc32c(const std::string& bytes) {
  uint32_t crc = 0xffffffffu;
  for (unsigned char b : bytes) {
    crc ^= b;
    for (int k = 0; k < 8; ++k)
      crc = (crc >> 1) ^ (0x82f63b78u & (0u - (crc & 1u)));
  }
  return ~crc;
}

inline uint32_t tf_mask(uint32_t crc) {
  return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
}

namespace detail {

struct Cursor {
  const std::string& s;
  size_t at = 0;
  bool done() const { return at >= s.size(); }
  uint64_t varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (at >= s.size()) throw std::runtime_error("varint past the end");
      const auto b = static_cast<unsigned char>(s[at++]);
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
    throw std::runtime_error("varint too long");
  }
  std::string take(size_t n) {
    if (at + n > s.size()) throw std::runtime_error("field past the end");
    std::string out = s.substr(at, n);
    at += n;
    return out;
  }
};

// Calls fn(field, wire_type, cursor-at-value) for every field; skips what
// fn does not consume.
template <typename Fn>
void walk(const std::string& message, Fn fn) {
  Cursor c{message};
  while (!c.done()) {
    const uint64_t key = c.varint();
    const int field = static_cast<int>(key >> 3);
    const int wire = static_cast<int>(key & 7);
    std::string value;
    if (wire == 0) {
      const uint64_t v = c.varint();
      value.assign(reinterpret_cast<const char*>(&v), 8);
    } else if (wire == 1) {
      value = c.take(8);
    } else if (wire == 2) {
      value = c.take(static_cast<size_t>(c.varint()));
    } else if (wire == 5) {
      value = c.take(4);
    } else {
      throw std::runtime_error("unknown wire type");
    }
    fn(field, wire, value);
  }
}

template <typename T>
T as(const std::string& bytes) {
  T v;
  std::memcpy(&v, bytes.data(), sizeof v);
  return v;
}

inline uint64_t le(const std::string& s, size_t at, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i)
    v |= static_cast<uint64_t>(static_cast<unsigned char>(s[at + i]))
         << (8 * i);
  return v;
}

}  // namespace detail

/// Every event of a file; throws std::runtime_error on a bad CRC or a
/// truncated record.
inline std::vector<ReadEvent> read_events(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  const std::string file((std::istreambuf_iterator<char>(in)),
                         std::istreambuf_iterator<char>());
  std::vector<ReadEvent> events;
  size_t at = 0;
  while (at < file.size()) {
    if (at + 12 > file.size()) throw std::runtime_error("truncated header");
    const uint64_t n = detail::le(file, at, 8);
    if (tf_mask(bitwise_crc32c(file.substr(at, 8))) !=
        detail::le(file, at + 8, 4))
      throw std::runtime_error("bad length CRC");
    at += 12;
    if (at + n + 4 > file.size()) throw std::runtime_error("truncated record");
    const std::string payload = file.substr(at, n);
    if (tf_mask(bitwise_crc32c(payload)) != detail::le(file, at + n, 4))
      throw std::runtime_error("bad data CRC");
    at += n + 4;
    ReadEvent e;
    detail::walk(payload, [&](int field, int wire, const std::string& v) {
      if (field == 1 && wire == 1) e.wall_time = detail::as<double>(v);
      if (field == 2 && wire == 0) e.step = detail::as<int64_t>(v);
      if (field == 3 && wire == 2) e.file_version = v;
      if (field == 5 && wire == 2) {
        detail::walk(v, [&](int f, int w, const std::string& value) {
          if (f != 1 || w != 2) return;
          std::string tag;
          float simple = 0;
          bool has = false;
          detail::walk(value, [&](int g, int x, const std::string& b) {
            if (g == 1 && x == 2) tag = b;
            if (g == 2 && x == 5) simple = detail::as<float>(b), has = true;
          });
          if (has) e.scalars[tag] = simple;
        });
      }
    });
    events.push_back(std::move(e));
  }
  return events;
}

}  // namespace semifer::test
