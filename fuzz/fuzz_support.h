// Shared by the fuzz targets: a scratch folder per process for entry points
// that take a path, and the one rule of what a target swallows.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "semifer/util/error.h"

namespace semifer::fuzz {

/// A folder of this process under the system temp dir, created on first use
/// and removed at exit.
const std::string& scratch_dir();

/// scratch_dir() / rel as a string; parent folders are created.
std::string scratch_path(const std::string& rel);

/// scratch_dir() / rel as a folder that exists.
std::string scratch_folder(const std::string& rel);

/// Writes `size` bytes to scratch_dir() / rel (replacing it) and returns
/// the path.
std::string write_scratch(const std::string& rel, const uint8_t* data,
                          size_t size);
std::string write_scratch(const std::string& rel, std::string_view text);

/// Writes a small valid JPEG (`path` ending .jpg) or PNG once per path.
void ensure_image(const std::string& path);

/// Writes the small valid RecordIO pair recordio_idx reads and the seeds
/// start from: record 0 InsightFace's header (labels [3, 5], no image), then
/// two 4x4 PNG records with keys 1 and 2.
void write_sample_recordio(const std::string& rec, const std::string& idx);

/// Prints `e` when SEMIFER_FUZZ_VERBOSE is set.
void note_rejected(const Error& e);

/// Runs `fn` on one input. semifer::Error is the library's "rejected input"
/// and is swallowed; anything else escapes to libFuzzer (std::terminate) and
/// is a finding: a c10::Error or std::exception the library should have
/// turned into a semifer::Error naming the file, a std::bad_alloc from a
/// size taken on trust, a crash, a sanitizer report or a hang.
/// With SEMIFER_FUZZ_VERBOSE set, each swallowed error is printed (to see
/// how far a seed gets).
template <typename F>
int run_one(F&& fn) {
  try {
    fn();
  } catch (const Error& e) {
    note_rejected(e);
  }
  return 0;
}

/// An invariant the target checks beyond "does not crash": prints `what`
/// and aborts, which libFuzzer reports with the input.
void require(bool ok, const std::string& what);

}  // namespace semifer::fuzz
