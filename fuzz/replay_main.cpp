// The replay driver of the normal build: runs one fuzz target over every
// file in the given folders (a missing folder counts as empty), without
// libFuzzer. ctest runs it over each target's regression corpus.
//   fuzz_replay TARGET DIR_OR_FILE...
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "replay_targets.h"

namespace fs = std::filesystem;

int main(int argc, char** argv) try {
  using semifer::fuzz::kReplayTargets;
  if (argc < 2) {
    std::fprintf(stderr, "usage: fuzz_replay TARGET DIR_OR_FILE...\n");
    return 2;
  }
  const semifer::fuzz::ReplayTarget* target = nullptr;
  for (const auto& t : kReplayTargets) {
    if (std::strcmp(t.name, argv[1]) == 0) target = &t;
  }
  if (!target) {
    std::fprintf(stderr, "fuzz_replay: unknown target '%s'; known:", argv[1]);
    for (const auto& t : kReplayTargets) std::fprintf(stderr, " %s", t.name);
    std::fprintf(stderr, "\n");
    return 2;
  }
  std::vector<fs::path> files;
  for (int i = 2; i < argc; ++i) {
    const fs::path arg = argv[i];
    if (fs::is_regular_file(arg)) {
      files.push_back(arg);
    } else if (fs::is_directory(arg)) {
      for (const auto& e : fs::recursive_directory_iterator(arg)) {
        if (e.is_regular_file()) files.push_back(e.path());
      }
    }
  }
  std::sort(files.begin(), files.end());
  for (const auto& file : files) {
    std::ifstream in(file, std::ios::binary);
    const std::vector<char> bytes((std::istreambuf_iterator<char>(in)),
                                  std::istreambuf_iterator<char>());
    std::fprintf(stderr, "fuzz_replay %s: %s (%zu bytes)\n", target->name,
                 file.c_str(), bytes.size());
    target->run(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  }
  std::printf("fuzz_replay %s: %zu inputs, no finding\n", target->name,
              files.size());
  return files.empty() ? 1 : 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "fuzz_replay: %s\n", e.what());
  return 1;
}
