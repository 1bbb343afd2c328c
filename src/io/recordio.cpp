#include "semifer/io/recordio.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>

#include "semifer/util/error.h"
#include "semifer/util/strings.h"

namespace semifer::io {

namespace {

constexpr size_t kHeaderSize = 24;  // IRHeader: u32 flag, f32 label, u64, u64

uint32_t load_u32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;  // RecordIO is little-endian, as is every platform we build on
}

// Parses the .idx text without building a string per line: the MS1MV2 index
// has 5.8 million lines and must open in well under a second.
std::vector<IndexEntry> parse_index(const std::string& path) {
  const std::vector<uint8_t> bytes = util::read_file(path);
  const char* p = reinterpret_cast<const char*>(bytes.data());
  const char* end = p + bytes.size();
  std::vector<IndexEntry> index;
  index.reserve(bytes.size() / 12);
  size_t line = 0;
  while (p < end) {
    ++line;
    const char* eol = static_cast<const char*>(std::memchr(p, '\n', end - p));
    if (!eol) eol = end;
    std::string_view text(p, eol - p);
    p = eol + 1;
    if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
    if (text.empty()) continue;
    uint64_t key = 0, offset = 0;
    const char* q = text.data();
    const char* qend = q + text.size();
    auto r1 = std::from_chars(q, qend, key);
    const char* mid = r1.ptr;
    while (mid < qend && (*mid == '\t' || *mid == ' ')) ++mid;
    auto r2 = std::from_chars(mid, qend, offset);
    SEMIFER_CHECK(r1.ec == std::errc() && r2.ec == std::errc() &&
                      mid > r1.ptr && r2.ptr == qend,
                  path, ":", line, ": expected 'key<TAB>offset', got '", text,
                  "'");
    index.push_back({key, offset});
  }
  return index;
}

}  // namespace

RecordReader::RecordReader(std::string rec_path, std::string idx_path)
    : rec_path_(std::move(rec_path)), idx_path_(std::move(idx_path)) {
  index_ = parse_index(idx_path_);
  fd_ = ::open(rec_path_.c_str(), O_RDONLY | O_CLOEXEC);
  SEMIFER_CHECK(fd_ >= 0, "cannot open ", rec_path_, ": ",
                std::strerror(errno));
  // A constructor that throws runs no destructor: the checks below close
  // the file on their way out (the recordio fuzz targets ran out of file
  // descriptors after some 230,000 inputs).
  try {
    check_against_file();
  } catch (...) {
    ::close(fd_);
    fd_ = -1;
    throw;
  }
}

void RecordReader::check_against_file() {
  struct stat st;
  if (::fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode))
    fail("cannot read ", rec_path_, ": not a regular file");
  file_size_ = static_cast<uint64_t>(st.st_size);
  auto by_key = [](const IndexEntry& a, const IndexEntry& b) {
    return a.key < b.key;
  };
  // InsightFace's index is already in key order; copy and sort only if not.
  if (!std::is_sorted(index_.begin(), index_.end(), by_key)) {
    by_key_ = index_;
    std::sort(by_key_.begin(), by_key_.end(), by_key);
  }
  const auto& sorted = by_key_.empty() ? index_ : by_key_;
  for (size_t i = 1; i < sorted.size(); ++i) {
    SEMIFER_CHECK(sorted[i].key != sorted[i - 1].key, idx_path_, ": key ",
                  sorted[i].key, " appears twice");
  }
  for (const IndexEntry& e : index_) {
    // Subtraction, not e.offset + 8: an offset near 2^64 would wrap.
    SEMIFER_CHECK(file_size_ >= 8 && e.offset <= file_size_ - 8, idx_path_,
                  ": record ", e.key, ": offset ", e.offset,
                  " is beyond the end of ", rec_path_, " (", file_size_,
                  " bytes)");
  }
}

RecordReader::~RecordReader() {
  if (fd_ >= 0) ::close(fd_);
}

uint64_t RecordReader::offset_of(uint64_t key) const {
  const auto& sorted = by_key_.empty() ? index_ : by_key_;
  auto it = std::lower_bound(
      sorted.begin(), sorted.end(), key,
      [](const IndexEntry& e, uint64_t k) { return e.key < k; });
  SEMIFER_CHECK(it != sorted.end() && it->key == key, idx_path_,
                ": no record with key ", key);
  return it->offset;
}

void RecordReader::read_exact(void* dst, size_t n, uint64_t offset,
                              uint64_t key) const {
  auto* out = static_cast<uint8_t*>(dst);
  size_t done = 0;
  while (done < n) {
    ssize_t got =
        ::pread(fd_, out + done, n - done, static_cast<off_t>(offset + done));
    if (got < 0 && errno == EINTR) continue;
    SEMIFER_CHECK(got >= 0, rec_path_, ": record ", key,
                  ": read error: ", std::strerror(errno));
    SEMIFER_CHECK(got > 0, rec_path_, ": record ", key,
                  ": truncated (file ends at byte ", offset + done, ")");
    done += static_cast<size_t>(got);
  }
}

std::vector<uint8_t> RecordReader::read_payload(uint64_t offset,
                                                uint64_t key) const {
  std::vector<uint8_t> payload;
  for (int part = 0;; ++part) {
    uint8_t head[8];
    read_exact(head, 8, offset, key);
    const uint32_t magic = load_u32(head);
    SEMIFER_CHECK(magic == kRecordMagic, rec_path_, ": record ", key,
                  ": bad magic 0x", std::hex, magic, std::dec, " at byte ",
                  offset);
    const uint32_t lrecord = load_u32(head + 4);
    const uint32_t cflag = (lrecord >> 29U) & 7U;
    const uint32_t length = lrecord & ((1U << 29U) - 1U);
    SEMIFER_CHECK(cflag <= 3, rec_path_, ": record ", key, ": bad cflag ",
                  cflag, " at byte ", offset);
    SEMIFER_CHECK(
        part == 0 ? (cflag == 0 || cflag == 1) : (cflag == 2 || cflag == 3),
        rec_path_, ": record ", key, ": part ", part, " has cflag ", cflag,
        ", which breaks the split sequence");
    // The head was read, so offset + 8 <= file_size_.
    SEMIFER_CHECK(length <= file_size_ - offset - 8, rec_path_, ": record ",
                  key, ": length ", length, " runs past the end of the file");
    const size_t start = payload.size();
    payload.resize(start + length);
    read_exact(payload.data() + start, length, offset + 8, key);
    offset += 8 + ((static_cast<uint64_t>(length) + 3U) & ~3ULL);
    if (cflag == 0 || cflag == 3) break;
    // dmlc-core drops the magic number where it splits; put it back.
    const uint32_t m = kRecordMagic;
    const auto* mb = reinterpret_cast<const uint8_t*>(&m);
    payload.insert(payload.end(), mb, mb + 4);
  }
  return payload;
}

ImageRecord RecordReader::read(uint64_t key) const {
  return read_at(offset_of(key), key);
}

ImageRecord RecordReader::read_at(uint64_t offset, uint64_t key) const {
  return unpack_image_record(read_payload(offset, key),
                             str(rec_path_, ": record ", key));
}

ImageRecord unpack_image_record(const std::vector<uint8_t>& payload,
                                const std::string& where) {
  SEMIFER_CHECK(payload.size() >= kHeaderSize, where, ": payload of ",
                payload.size(), " bytes is shorter than the 24-byte IRHeader");
  ImageRecord rec;
  float label = 0;
  rec.flag = load_u32(payload.data());
  std::memcpy(&label, payload.data() + 4, 4);
  std::memcpy(&rec.id, payload.data() + 8, 8);
  std::memcpy(&rec.id2, payload.data() + 16, 8);
  size_t pos = kHeaderSize;
  if (rec.flag > 0) {
    const size_t need = static_cast<size_t>(rec.flag) * 4;
    SEMIFER_CHECK(payload.size() - pos >= need, where, ": header says ",
                  rec.flag, " labels but the payload holds only ",
                  payload.size() - pos, " bytes after the header");
    rec.labels.resize(rec.flag);
    std::memcpy(rec.labels.data(), payload.data() + pos, need);
    pos += need;
  } else {
    rec.labels = {label};
  }
  rec.image.assign(payload.begin() + static_cast<std::ptrdiff_t>(pos),
                   payload.end());
  return rec;
}

std::vector<uint8_t> pack_image_record(const std::vector<float>& labels,
                                       uint64_t id,
                                       const std::vector<uint8_t>& image) {
  const uint32_t flag =
      labels.size() == 1 ? 0 : static_cast<uint32_t>(labels.size());
  // The whole record at once (growing it from the header made GCC 12 warn
  // of an out-of-bounds copy that cannot happen).
  std::vector<uint8_t> out;
  out.reserve(kHeaderSize + (flag > 0 ? labels.size() * 4 : 0) + image.size());
  out.resize(kHeaderSize);
  const float label = labels.size() == 1 ? labels[0] : 0.0f;
  const uint64_t id2 = 0;
  std::memcpy(out.data(), &flag, 4);
  std::memcpy(out.data() + 4, &label, 4);
  std::memcpy(out.data() + 8, &id, 8);
  std::memcpy(out.data() + 16, &id2, 8);
  if (flag > 0) {
    const auto* lb = reinterpret_cast<const uint8_t*>(labels.data());
    out.insert(out.end(), lb, lb + labels.size() * 4);
  }
  out.insert(out.end(), image.begin(), image.end());
  return out;
}

RecordWriter::RecordWriter(const std::string& rec_path,
                           const std::string& idx_path)
    : rec_path_(rec_path), idx_path_(idx_path) {
  rec_ = std::fopen(rec_path.c_str(), "wb");
  SEMIFER_CHECK(rec_, "cannot create ", rec_path, ": ", std::strerror(errno));
  idx_ = std::fopen(idx_path.c_str(), "wb");
  if (!idx_) {
    std::fclose(rec_);
    rec_ = nullptr;
    fail("cannot create ", idx_path, ": ", std::strerror(errno));
  }
}

RecordWriter::~RecordWriter() {
  if (rec_) std::fclose(rec_);
  if (idx_) std::fclose(idx_);
}

void RecordWriter::write(uint64_t key, const std::vector<uint8_t>& payload) {
  SEMIFER_CHECK(rec_ && idx_, "RecordWriter for ", rec_path_, " is closed");
  SEMIFER_CHECK(payload.size() < (1U << 29U), rec_path_, ": record ", key,
                " is larger than RecordIO's 2^29-byte limit");
  std::fprintf(idx_, "%llu\t%llu\n", static_cast<unsigned long long>(key),
               static_cast<unsigned long long>(offset_));
  auto put = [&](const void* p, size_t n) {
    SEMIFER_CHECK(std::fwrite(p, 1, n, rec_) == n, "cannot write ", rec_path_);
    offset_ += n;
  };
  auto put_part = [&](uint32_t cflag, const uint8_t* p, uint32_t n) {
    const uint32_t head[2] = {kRecordMagic, (cflag << 29U) | n};
    put(head, 8);
    put(p, n);
    static const uint8_t zeros[4] = {0, 0, 0, 0};
    put(zeros, ((n + 3U) & ~3U) - n);
  };
  // Like dmlc-core: split wherever the magic number sits at a 4-byte aligned
  // position, dropping those 4 bytes; the reader puts them back.
  const uint32_t size = static_cast<uint32_t>(payload.size());
  const uint32_t lower_align = (size >> 2U) << 2U;
  uint32_t begin = 0;
  uint32_t cflag = 0;
  for (uint32_t i = 0; i < lower_align; i += 4) {
    if (load_u32(payload.data() + i) == kRecordMagic) {
      put_part(cflag == 0 ? 1U : 2U, payload.data() + begin, i - begin);
      cflag = 1;
      begin = i + 4;
    }
  }
  put_part(cflag == 0 ? 0U : 3U, payload.data() + begin, size - begin);
}

void RecordWriter::close() {
  bool ok = true;
  if (rec_) ok = std::fclose(rec_) == 0 && ok;
  if (idx_) ok = std::fclose(idx_) == 0 && ok;
  rec_ = idx_ = nullptr;
  SEMIFER_CHECK(ok, "cannot finish writing ", rec_path_, " / ", idx_path_);
}

}  // namespace semifer::io
