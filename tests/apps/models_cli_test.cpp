#include <gtest/gtest.h>

#include "semifer/models/registry.h"
#include "semifer/models/weights.h"
#include "support/support.h"

namespace semifer::test {

TEST(WeightsCli, InspectImportExport) {
  TempDir t;
  models::export_weights(
      *models::create_model("smallnet", models::ModelOptions{1000}),
      t.file("in.pth"));
  RunResult r = run_cli({"weights", "inspect", t.file("in.pth")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("matches smallnet (1000 classes)"), std::string::npos)
      << r.out;
  r = run_cli({"weights", "import", t.file("in.pth"), "--model", "smallnet",
               "--out", t.file("ours.pth")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("replaced 2"), std::string::npos) << r.out;
  r = run_cli({"weights", "export", t.file("ours.pth"), "--model", "smallnet",
               "--out", t.file("back.pth")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = run_cli({"weights", "export", t.file("ours.pth"), "--model", "smallnet",
               "--num-classes", "3", "--out", t.file("x.pth")});
  EXPECT_EQ(r.exit_code, 1);
  r = run_cli({"weights", "import", t.file("in.pth"), "--model", "resnet18",
               "--out", t.file("x.pth")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("another architecture"), std::string::npos) << r.err;
  r = run_cli({"weights", "import", t.file("in.pth"), "--model", "vgg", "--out",
               t.file("x.pth")});
  EXPECT_NE(r.err.find("unknown model 'vgg'"), std::string::npos) << r.err;
  r = run_cli({"weights", "inspect", t.file("missing.pth")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("missing.pth"), std::string::npos) << r.err;
}

TEST(BenchCli, InferPrintsImagesPerSecond) {
  const RunResult r =
      run_cli({"bench", "infer", "--model", "smallnet", "--size", "32",
               "--batch", "2", "--threads", "1", "--seconds", "0.2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("images/s"), std::string::npos) << r.out;
  for (const auto& args :
       std::vector<std::vector<std::string>>{{"weights", "inspect", "--help"},
                                             {"weights", "import", "--help"},
                                             {"weights", "export", "--help"},
                                             {"bench", "infer", "--help"}}) {
    EXPECT_NE(run_cli(args).out.find("Example"), std::string::npos) << args[1];
  }
}

}  // namespace semifer::test
