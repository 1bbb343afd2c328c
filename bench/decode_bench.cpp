// Image decoding and RecordIO index opening.
//   ./decode_bench [IMAGE...] [--benchmark_filter=...]
//   bench/decode_reference.py IMAGE...   (PIL on the same files)
// The brief's targets: a 112x112 JPEG face decodes in well under 1 ms on one
// core; a 5.8-million-record MS1MV2 index opens in well under a second.
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "semifer/data/labels.h"
#include "semifer/data/synthetic.h"
#include "semifer/io/image.h"
#include "semifer/io/recordio.h"
#include "semifer/util/strings.h"

namespace {

using namespace semifer;

std::vector<uint8_t> face_jpeg(int size) {
  util::Generator gen({42});
  return io::encode_jpeg(data::render_face(data::kHappiness, size, gen), 90);
}

void BM_DecodeJpeg(benchmark::State& state) {
  const auto bytes = face_jpeg(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    io::Image img = io::decode_image(bytes.data(), bytes.size(), "face.jpg");
    benchmark::DoNotOptimize(img.data.data());
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["bytes"] = static_cast<double>(bytes.size());
}
BENCHMARK(BM_DecodeJpeg)
    ->Arg(48)
    ->Arg(112)
    ->Arg(224)
    ->Unit(benchmark::kMicrosecond);

void BM_DecodePng(benchmark::State& state) {
  util::Generator gen({42});
  const auto bytes = io::encode_png(data::render_face(
      data::kHappiness, static_cast<int>(state.range(0)), gen));
  for (auto _ : state) {
    io::Image img = io::decode_image(bytes.data(), bytes.size(), "face.png");
    benchmark::DoNotOptimize(img.data.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DecodePng)->Arg(112)->Unit(benchmark::kMicrosecond);

// An MS1MV2-sized index (5,822,653 records) over a sparse .rec file.
void BM_OpenRecordIndex(benchmark::State& state) {
  const auto n = static_cast<uint64_t>(state.range(0));
  const std::string dir =
      (std::filesystem::temp_directory_path() / "semifer-bench-idx").string();
  std::filesystem::create_directories(dir);
  const std::string idx = dir + "/train.idx", rec = dir + "/train.rec";
  {
    std::FILE* f = std::fopen(idx.c_str(), "w");
    for (uint64_t k = 0; k < n; ++k) {
      std::fprintf(f, "%llu\t%llu\n", static_cast<unsigned long long>(k),
                   static_cast<unsigned long long>(k * 24000));
    }
    std::fclose(f);
    const int fd = ::open(rec.c_str(), O_CREAT | O_WRONLY | O_TRUNC, 0644);
    if (fd < 0 || ::ftruncate(fd, static_cast<off_t>(n * 24000 + 64)) != 0) {
      state.SkipWithError("cannot create the sparse .rec file");
      return;
    }
    ::close(fd);
  }
  for (auto _ : state) {
    io::RecordReader reader(rec, idx);
    benchmark::DoNotOptimize(reader.index().data());
  }
  state.counters["records"] = static_cast<double>(n);
  semifer::util::remove_tree(dir);
}
BENCHMARK(BM_OpenRecordIndex)
    ->Arg(5822653)
    ->Iterations(3)
    ->Unit(benchmark::kMillisecond);

// Files named on the command line (before benchmark flags) are decoded from
// memory too, to compare with bench/decode_reference.py on the same bytes.
void BM_DecodeFile(benchmark::State& state, const std::string& path) {
  const std::vector<uint8_t> bytes = util::read_file(path);
  for (auto _ : state) {
    io::Image img = io::decode_image(bytes.data(), bytes.size(), path);
    benchmark::DoNotOptimize(img.data.data());
  }
  state.SetItemsProcessed(state.iterations());
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<char*> rest = {argv[0]};
  for (int i = 1; i < argc; ++i) {
    if (argv[i][0] == '-') {
      rest.push_back(argv[i]);
    } else {
      const std::string path = argv[i];
      benchmark::RegisterBenchmark(
          ("BM_DecodeFile/" + path).c_str(),
          [path](benchmark::State& s) { BM_DecodeFile(s, path); })
          ->Unit(benchmark::kMicrosecond);
    }
  }
  int n = static_cast<int>(rest.size());
  benchmark::Initialize(&n, rest.data());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
