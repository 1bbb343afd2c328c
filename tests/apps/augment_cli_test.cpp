#include <gtest/gtest.h>

#include "semifer/data/labels.h"
#include "semifer/data/synthetic.h"
#include "support/support.h"

namespace semifer::test {

namespace {
std::string write_faces(const TempDir& t, int n) {
  for (int i = 0; i < n; ++i) {
    util::Generator gen({static_cast<uint64_t>(i)});
    io::write_image(t.file("faces/sub/" + std::to_string(i) + ".jpg"),
                    data::render_face(i % data::kNumExpressions, 40, gen));
  }
  return t.file("faces");
}
}  // namespace

TEST(AugmentCli, PreviewWritesAGrid) {
  TempDir t;
  const std::string faces = write_faces(t, 5);
  const RunResult r = run_cli({"augment", "preview", "--images", faces, "--out",
                               t.file("grid.png"), "--n", "4", "--size", "32"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const io::Image grid = io::read_image(t.file("grid.png"));
  EXPECT_EQ(grid.width, 3 * 32 + 8);
  EXPECT_EQ(grid.height, 4 * 32 + 10);
  const RunResult bad = run_cli({"augment", "preview", "--images",
                                 t.file("none"), "--out", t.file("g.png")});
  EXPECT_EQ(bad.exit_code, 2);  // a usage error naming the flag
  EXPECT_NE(bad.err.find("--images"), std::string::npos) << bad.err;
  EXPECT_NE(bad.err.find("none"), std::string::npos) << bad.err;
}

TEST(AugmentCli, BenchPipelinePrintsSamplesPerSecond) {
  TempDir t;
  const std::string faces = write_faces(t, 6);
  const RunResult r =
      run_cli({"bench", "pipeline", "--images", faces, "--size", "48",
               "--threads", "2", "--seconds", "0.3", "--batch", "4"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("samples/s"), std::string::npos) << r.out;
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"augment", "preview", "--help"}, {"bench", "pipeline", "--help"}}) {
    EXPECT_NE(run_cli(args).out.find("Example"), std::string::npos);
  }
}

}  // namespace semifer::test
