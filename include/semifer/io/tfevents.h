#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

/// TensorBoard event files (events.out.tfevents.*), written without
/// TensorFlow: a file is a sequence of records (uint64 length, masked
/// CRC-32C of the length, the bytes, masked CRC-32C of the bytes; little
/// endian), each an Event protocol buffer (tensorflow/core/util/event.proto):
/// the first holds file_version "brain.Event:2", the others a wall time, a
/// step and a Summary of scalar values (tag, simple_value).
namespace semifer::io {

/// CRC-32C (Castagnoli) of `size` bytes.
uint32_t crc32c(const void* data, size_t size);
/// TensorFlow's masked CRC: rotate right by 15 bits, add 0xa282ead8.
uint32_t masked_crc32c(const void* data, size_t size);

/// One scalar of an event: its tag ("loss/labeled") and value.
using Scalar = std::pair<std::string, double>;

/// The record framing of `payload` (length, CRCs).
std::string tf_record(const std::string& payload);
/// An Event with file_version (the first event of a file).
std::string version_event(double wall_time);
/// An Event with `step`, `wall_time` and a Summary of `scalars`.
std::string scalars_event(int64_t step, double wall_time,
                          const std::vector<Scalar>& scalars);

/// "events.out.tfevents.<seconds>.<host>", the name TensorBoard looks for.
std::string event_file_name(double wall_time);

/// Appends events to one file, flushing after each; every write error is a
/// semifer::Error naming the file.
class EventWriter {
 public:
  /// Creates (or replaces) `path` with its version event.
  explicit EventWriter(std::string path, double wall_time);
  const std::string& path() const { return path_; }
  void write(int64_t step, double wall_time,
             const std::vector<Scalar>& scalars) const;

 private:
  std::string path_;
};

}  // namespace semifer::io
