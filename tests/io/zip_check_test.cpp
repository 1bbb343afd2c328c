#include "semifer/io/zip_check.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

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

}  // namespace semifer::test
