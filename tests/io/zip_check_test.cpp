#include "semifer/io/zip_check.h"

#include <gtest/gtest.h>
#include <torch/torch.h>
#include <zlib.h>

#include "semifer/util/error.h"
#include "semifer/util/strings.h"
#include "support/support.h"

namespace semifer::test {

namespace {

std::vector<uint8_t> saved_archive(const std::string& path) {
  torch::serialize::OutputArchive archive;
  archive.write("weights", torch::arange(0, 4096, torch::kFloat32));
  archive.save_to(path);
  return util::read_file(path);
}

// Where the float 1000.0f (its bytes) sits in the archive.
size_t offset_of_value(const std::vector<uint8_t>& bytes) {
  const float v = 1000.0f;
  const auto* p = reinterpret_cast<const uint8_t*>(&v);
  for (size_t i = 0; i + 4 <= bytes.size(); ++i) {
    if (std::equal(p, p + 4, bytes.begin() + static_cast<long>(i))) return i;
  }
  return std::string::npos;
}

}  // namespace

TEST(ZipCheck, AcceptsWhatLibTorchWrites) {
  TempDir t;
  const auto bytes = saved_archive(t.file("a.pt"));
  EXPECT_NO_THROW(io::verify_zip(bytes.data(), bytes.size(), "a.pt"));
}

TEST(ZipCheck, FindsFlippedBytesInsideATensor) {
  TempDir t;
  auto bytes = saved_archive(t.file("a.pt"));
  const size_t at = offset_of_value(bytes);
  ASSERT_NE(at, std::string::npos);
  for (size_t i = 0; i < 8; ++i) bytes[at + i] ^= 0x5a;
  expect_error([&] { io::verify_zip(bytes.data(), bytes.size(), "a.pt"); },
               {"a.pt", "corrupt", "CRC-32"});
}

TEST(ZipCheck, RefusesTruncatedAndForeignFiles) {
  TempDir t;
  const auto bytes = saved_archive(t.file("a.pt"));
  expect_error([&] { io::verify_zip(bytes.data(), bytes.size() / 2, "a.pt"); },
               {"a.pt", "truncated or corrupt"});
  const std::string text = "not a zip file at all, just some text here";
  expect_error(
      [&] {
        io::verify_zip(reinterpret_cast<const uint8_t*>(text.data()),
                       text.size(), "t.txt");
      },
      {"t.txt", "not a readable archive"});
}

// Little-endian fields of a zip record.
void put_le(std::vector<uint8_t>& out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i)  // zeros past the value's 8 bytes
    out.push_back(i < 8 ? static_cast<uint8_t>(v >> 8 * i) : 0);
}

// A zip64 end record (at offset 0) whose directory starts at
// `dir_offset`, its locator (pointing at `record`), and the end record.
std::vector<uint8_t> zip64_archive(uint64_t record, uint64_t dir_offset) {
  std::vector<uint8_t> out;
  put_le(out, 0x06064b50, 4);
  put_le(out, 44, 8);
  put_le(out, 45, 2);
  put_le(out, 45, 2);
  put_le(out, 0, 8);
  put_le(out, 1, 8);  // one entry
  put_le(out, 1, 8);
  put_le(out, 46, 8);
  put_le(out, dir_offset, 8);
  put_le(out, 0x07064b50, 4);
  put_le(out, 0, 4);
  put_le(out, record, 8);
  put_le(out, 1, 4);
  put_le(out, 0x06054b50, 4);
  put_le(out, 0, 4);
  put_le(out, 0xFFFF, 2);
  put_le(out, 0xFFFF, 2);
  put_le(out, 0, 4);
  put_le(out, 0xFFFFFFFF, 4);
  put_le(out, 0, 2);
  return out;
}

// Found by fuzzing (tests/fuzz/checkpoint/zip64_*): 64-bit offsets near
// 2^64 wrapped the bounds checks into reads far outside the file.
TEST(ZipCheck, RefusesZip64OffsetsPastTheEnd) {
  const auto bad_record = zip64_archive(UINT64_MAX - 15, 0);
  expect_error(
      [&] { io::verify_zip(bad_record.data(), bad_record.size(), "r.pt"); },
      {"r.pt", "bad zip64 record"});
  const auto bad_dir = zip64_archive(0, UINT64_MAX - 7);
  expect_error([&] { io::verify_zip(bad_dir.data(), bad_dir.size(), "d.pt"); },
               {"d.pt", "bad central directory entry 0"});
}

// Found by fuzzing (tests/fuzz/checkpoint/zip64_record_counts_zero.pt):
// LibTorch writes a zip64 end record beside the classic one, and miniz
// takes its counts whenever a locator points at it. The check read the
// classic record (6 entries) and passed an archive that miniz opened as
// empty, after which LibTorch's reader threw and leaked its zip state.
TEST(ZipCheck, ReadsTheZip64RecordWhereLibTorchsReaderDoes) {
  TempDir t;
  const auto bytes = saved_archive(t.file("a.pt"));
  size_t z64 = std::string::npos;
  for (size_t i = 0; i + 4 <= bytes.size(); ++i) {
    if (bytes[i] == 0x50 && bytes[i + 1] == 0x4b && bytes[i + 2] == 6 &&
        bytes[i + 3] == 6)
      z64 = i;
  }
  ASSERT_NE(z64, std::string::npos) << "LibTorch wrote no zip64 end record";
  EXPECT_NO_THROW(io::check_torch_zip(bytes.data(), bytes.size(), "a.pt"));
  auto counts = [&](uint8_t on_disk, uint8_t total) {
    auto b = bytes;
    std::fill(b.begin() + static_cast<long>(z64) + 24,
              b.begin() + static_cast<long>(z64) + 40, 0);
    b[z64 + 24] = on_disk;
    b[z64 + 32] = total;
    return b;
  };
  const auto empty = counts(0, 0);
  expect_error([&] { io::check_torch_zip(empty.data(), empty.size(), "e.pt"); },
               {"e.pt", "the zip holds no files"});
  const auto disagree = counts(1, 2);
  expect_error(
      [&] { io::verify_zip(disagree.data(), disagree.size(), "d.pt"); },
      {"d.pt", "zip64 entry counts disagree"});
}

// Raw deflate (no zlib header), as zip method 8 stores it.
std::string raw_deflate(const std::string& data) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, 9, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&z, data.size()), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

// A zip of stored entries, as LibTorch and Python's zipfile write them; the
// entry named `deflated` is stored deflated (method 8).
std::vector<uint8_t> stored_zip(
    const std::vector<std::pair<std::string, std::string>>& entries,
    const std::string& deflated = "") {
  std::vector<uint8_t> out, dir;
  for (const auto& [name, data] : entries) {
    const uint64_t crc =
        crc32_z(0L, reinterpret_cast<const uint8_t*>(data.data()), data.size());
    const uint64_t method = name == deflated ? 8 : 0;
    const std::string stored = method == 8 ? raw_deflate(data) : data;
    const uint64_t local = out.size();
    put_le(out, 0x04034b50, 4);
    put_le(out, 20, 2);
    put_le(out, 0, 2);  // flags
    put_le(out, method, 2);
    put_le(out, 0, 2);  // time
    put_le(out, 0, 2);
    put_le(out, crc, 4);
    put_le(out, stored.size(), 4);
    put_le(out, data.size(), 4);
    put_le(out, name.size(), 2);
    put_le(out, 0, 2);
    out.insert(out.end(), name.begin(), name.end());
    out.insert(out.end(), stored.begin(), stored.end());
    put_le(dir, 0x02014b50, 4);
    put_le(dir, 20, 2);
    put_le(dir, 20, 2);
    put_le(dir, 0, 2);  // flags
    put_le(dir, method, 2);
    put_le(dir, 0, 4);  // time, date
    put_le(dir, crc, 4);
    put_le(dir, stored.size(), 4);
    put_le(dir, data.size(), 4);
    put_le(dir, name.size(), 2);
    put_le(dir, 0, 12);  // extra, comment, disk, attributes
    put_le(dir, local, 4);
    dir.insert(dir.end(), name.begin(), name.end());
  }
  const uint64_t dir_offset = out.size();
  out.insert(out.end(), dir.begin(), dir.end());
  put_le(out, 0x06054b50, 4);
  put_le(out, 0, 4);
  put_le(out, entries.size(), 2);
  put_le(out, entries.size(), 2);
  put_le(out, dir.size(), 4);
  put_le(out, dir_offset, 4);
  put_le(out, 0, 2);
  return out;
}

TEST(ZipCheck, AcceptsTheLayoutLibTorchReads) {
  TempDir t;
  const auto bytes = saved_archive(t.file("a.pt"));
  EXPECT_NO_THROW(io::check_torch_zip(bytes.data(), bytes.size(), "a.pt"));
  const auto py = stored_zip({{"m/data.pkl", "."}, {"m/.data/version", "3\n"}});
  EXPECT_NO_THROW(io::check_torch_zip(py.data(), py.size(), "py.pt"));
  const auto deflated =
      stored_zip({{"m/data.pkl", "."}, {"m/version", "3\n"}}, "m/version");
  EXPECT_NO_THROW(
      io::check_torch_zip(deflated.data(), deflated.size(), "d.pt"));
}

// Found by fuzzing (tests/fuzz/state_dict/, tests/fuzz/checkpoint/): on
// these LibTorch's reader threw std::out_of_range past semifer's handlers,
// or leaked its zip state when its constructor threw.
TEST(ZipCheck, RefusesArchivesLibTorchsReaderTripsOn) {
  const std::vector<
      std::pair<std::vector<std::pair<std::string, std::string>>, std::string>>
      cases = {
          {{}, "holds no files"},
          {{{"version", "3"}}, "'version' is not inside the archive's folder"},
          {{{"m/data.pkl", "."}}, "no m/version record"},
          {{{"m/version", "99999999999999999999999"}}, "version '9999"},
          {{{"m/version", "0\n"}}, "not one LibTorch reads"},
          {{{"m/version", "three"}}, "version 'three'"},
          // Names are shown escaped, on one line.
          {{{"v\x01\n", "3"}}, "'v\\x01\\x0a' is not inside"},
      };
  for (const auto& [entries, why] : cases) {
    const auto bytes = stored_zip(entries);
    expect_error(
        [&] { io::check_torch_zip(bytes.data(), bytes.size(), "x.pt"); },
        {"x.pt: not a PyTorch archive", why});
  }
  // A version record in a compression method miniz cannot read (the
  // directory entry's method field, 10 bytes in).
  auto method = stored_zip({{"m/version", "3"}});
  const uint8_t kDirectory[4] = {'P', 'K', 1, 2};
  const auto at =
      std::search(method.begin(), method.end(), kDirectory, kDirectory + 4) -
      method.begin();
  method[at + 11] = 0x10;
  expect_error(
      [&] { io::check_torch_zip(method.data(), method.size(), "m.pt"); },
      {"m.pt", "compression method 4096"});
  // An entry marked as a folder in its external attributes (38 bytes in):
  // miniz reads it as empty and LibTorch parsed the uninitialised buffer
  // (tests/fuzz/checkpoint/version_marked_folder.pt).
  auto folder = stored_zip({{"m/data.pkl", "."}, {"m/version", "3\n"}});
  const auto last =
      std::find_end(folder.begin(), folder.end(), kDirectory, kDirectory + 4) -
      folder.begin();
  folder[last + 38] = 0x5d;
  expect_error(
      [&] { io::check_torch_zip(folder.data(), folder.size(), "f.pt"); },
      {"f.pt", "entry 'm/version' holds data but is marked as a folder"});
  EXPECT_THROW(io::verify_zip(folder.data(), folder.size(), "f.pt"), Error);
  // An entry flagged as encrypted (bit 0 of the flags, 8 bytes in): miniz
  // refuses to read it, which LibTorch's reader hit in its constructor and
  // leaked (tests/fuzz/state_dict/version_flagged_encrypted.pth).
  auto encrypted = stored_zip({{"m/data.pkl", "."}, {"m/version", "3\n"}});
  encrypted[last + 8] = 0x01;
  expect_error(
      [&] { io::check_torch_zip(encrypted.data(), encrypted.size(), "e.pt"); },
      {"e.pt", "entry 'm/version' is encrypted or a patch (flags 0x1)"});
  // An extra field (its length 30 bytes in) whose own length runs past it:
  // the zip64 values were read from outside the file (ASan, found by
  // state_dict: tests/fuzz/state_dict/extra_field_past_its_end.pth).
  auto extra = folder;
  extra[last + 38] = 0;
  extra[last + 30] = 4;  // the end record's first 4 bytes: length 0x0605
  expect_error([&] { io::verify_zip(extra.data(), extra.size(), "x.pt"); },
               {"x.pt", "entry 'm/version' has an extra field past its end"});
  // A version record miniz would fail to read in LibTorch's constructor: its
  // CRC-32 (16 bytes in) wrong, stored or deflated; deflated to fewer bytes
  // than its recorded size (24 bytes in).
  for (const std::string how : {"", "m/version"}) {
    auto crc = stored_zip({{"m/data.pkl", "."}, {"m/version", "3\n"}}, how);
    const auto v =
        std::find_end(crc.begin(), crc.end(), kDirectory, kDirectory + 4) -
        crc.begin();
    crc[v + 16] ^= 0x5a;
    expect_error([&] { io::check_torch_zip(crc.data(), crc.size(), "c.pt"); },
                 {"c.pt: entry 'm/version' is corrupt"});
  }
  auto longer =
      stored_zip({{"m/data.pkl", "."}, {"m/version", "3\n"}}, "m/version");
  const auto v =
      std::find_end(longer.begin(), longer.end(), kDirectory, kDirectory + 4) -
      longer.begin();
  longer[v + 24] += 1;
  expect_error(
      [&] { io::check_torch_zip(longer.data(), longer.size(), "l.pt"); },
      {"l.pt", "its deflated version record does not inflate"});
  encrypted[last + 8] = 0x08;  // sizes in a data descriptor: miniz reads it
  EXPECT_NO_THROW(
      io::check_torch_zip(encrypted.data(), encrypted.size(), "e.pt"));
}

}  // namespace semifer::test
