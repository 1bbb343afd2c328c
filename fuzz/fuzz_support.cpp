#include "fuzz_support.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "semifer/io/image.h"
#include "semifer/io/recordio.h"

namespace fs = std::filesystem;

namespace semifer::fuzz {

namespace {

std::string make_scratch_dir() {
  std::string tmpl =
      (fs::temp_directory_path() / "semifer-fuzz-XXXXXX").string();
  if (!::mkdtemp(tmpl.data())) {
    std::perror("semifer fuzz: mkdtemp");
    std::abort();
  }
  return tmpl;
}

// Removes the scratch folder at exit (libFuzzer ends with exit()); a crash
// leaves it behind, under the temp dir with the process's name on it.
struct ScratchDir {
  std::string path = make_scratch_dir();
  ~ScratchDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

}  // namespace

const std::string& scratch_dir() {
  static ScratchDir dir;
  return dir.path;
}

std::string scratch_path(const std::string& rel) {
  const fs::path p = fs::path(scratch_dir()) / rel;
  fs::create_directories(p.parent_path());
  return p.string();
}

std::string scratch_folder(const std::string& rel) {
  const fs::path p = fs::path(scratch_dir()) / rel;
  fs::create_directories(p);
  return p.string();
}

std::string write_scratch(const std::string& rel, const uint8_t* data,
                          size_t size) {
  const std::string path = scratch_path(rel);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data),
            static_cast<std::streamsize>(size));
  require(static_cast<bool>(out), "cannot write " + path);
  return path;
}

std::string write_scratch(const std::string& rel, std::string_view text) {
  return write_scratch(rel, reinterpret_cast<const uint8_t*>(text.data()),
                       text.size());
}

void ensure_image(const std::string& path) {
  std::error_code ec;
  if (fs::is_regular_file(path, ec)) return;
  fs::create_directories(fs::path(path).parent_path());
  io::Image image(8, 8, 128);
  io::write_image(path, image);
}

void write_sample_recordio(const std::string& rec, const std::string& idx) {
  io::RecordWriter writer(rec, idx);
  writer.write(0, io::pack_image_record({3.0f, 5.0f}, 0, {}));
  const auto png = io::encode_png(io::Image(4, 4, 7));
  writer.write(1, io::pack_image_record({1.0f}, 1, png));
  writer.write(2, io::pack_image_record({2.0f}, 2, png));
  writer.close();
}

void note_rejected(const Error& e) {
  static const bool verbose = std::getenv("SEMIFER_FUZZ_VERBOSE") != nullptr;
  if (verbose) std::fprintf(stderr, "  rejected: %s\n", e.what());
}

void require(bool ok, const std::string& what) {
  if (ok) return;
  std::fprintf(stderr, "semifer fuzz: invariant broken: %s\n", what.c_str());
  std::abort();
}

}  // namespace semifer::fuzz
