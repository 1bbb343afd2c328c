#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace semifer::io {

/// One image record of an MXNet RecordIO file, as `mx.recordio.pack` writes
/// it: an IRHeader (uint32 flag, float32 label, uint64 id, uint64 id2), then
/// `flag` float32 labels when flag > 0, then the encoded image.
struct ImageRecord {
  uint32_t flag = 0;
  std::vector<float> labels;  ///< `flag` labels, or the single header label
  uint64_t id = 0;
  uint64_t id2 = 0;
  std::vector<uint8_t> image;  ///< encoded bytes (JPEG or PNG), may be empty
};

/// One line of a `.idx` file: `key<TAB>offset`.
struct IndexEntry {
  uint64_t key = 0;
  uint64_t offset = 0;
};

/// Random access to an MXNet RecordIO file (`.rec`) through its index
/// (`.idx`), as InsightFace ships MS1MV2.
///
/// Opening reads only the index (a 5.8-million-line index parses in a few
/// hundred milliseconds); records are read on demand with pread, so reads
/// are thread-safe and the .rec file is never loaded whole.
class RecordReader {
 public:
  RecordReader(std::string rec_path, std::string idx_path);
  ~RecordReader();
  RecordReader(const RecordReader&) = delete;
  RecordReader& operator=(const RecordReader&) = delete;

  /// Index entries in file order of the .idx.
  const std::vector<IndexEntry>& index() const { return index_; }
  /// Byte offset of `key`; throws semifer::Error when the key is absent.
  uint64_t offset_of(uint64_t key) const;
  /// Size of the .rec file in bytes.
  uint64_t file_size() const { return file_size_; }
  const std::string& rec_path() const { return rec_path_; }

  /// Reads the record at `offset`, joining split parts (cflag 1/2/3) and
  /// re-inserting the magic number between them as dmlc-core does. `key` is
  /// used in error messages only.
  std::vector<uint8_t> read_payload(uint64_t offset, uint64_t key) const;

  /// Reads and unpacks the image record with index key `key`.
  ImageRecord read(uint64_t key) const;
  /// Same, by offset.
  ImageRecord read_at(uint64_t offset, uint64_t key) const;

 private:
  // Checks the index against the open .rec (its size, repeated keys).
  void check_against_file();
  void read_exact(void* dst, size_t n, uint64_t offset, uint64_t key) const;

  std::string rec_path_;
  std::string idx_path_;
  int fd_ = -1;
  uint64_t file_size_ = 0;
  std::vector<IndexEntry> index_;
  std::vector<IndexEntry> by_key_;  // sorted copy, only if index_ is not
};

/// Unpacks an IRHeader payload. `where` names the record in error messages.
ImageRecord unpack_image_record(const std::vector<uint8_t>& payload,
                                const std::string& where);

/// Packs an IRHeader payload (the inverse of unpack_image_record). With
/// `labels.size() == 1` and flag 0 the label goes into the header field.
std::vector<uint8_t> pack_image_record(const std::vector<float>& labels,
                                       uint64_t id,
                                       const std::vector<uint8_t>& image);

/// Writes a RecordIO file and its index, bit-compatible with dmlc-core's
/// writer (records that contain the magic number are split into parts).
class RecordWriter {
 public:
  RecordWriter(const std::string& rec_path, const std::string& idx_path);
  ~RecordWriter();
  RecordWriter(const RecordWriter&) = delete;
  RecordWriter& operator=(const RecordWriter&) = delete;

  /// Appends one record and its index line.
  void write(uint64_t key, const std::vector<uint8_t>& payload);
  /// Flushes and closes both files; throws on I/O errors.
  void close();

 private:
  std::string rec_path_;
  std::string idx_path_;
  std::FILE* rec_ = nullptr;
  std::FILE* idx_ = nullptr;
  uint64_t offset_ = 0;
};

/// dmlc-core's RecordIO magic number.
constexpr uint32_t kRecordMagic = 0xced7230a;

}  // namespace semifer::io
