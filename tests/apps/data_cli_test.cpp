// `semifer data stats` end to end: a config in the documented shape with
// every format, written by the test in that format's exact layout.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "semifer/io/recordio.h"
#include "support/support.h"

namespace semifer::test {

namespace {

std::string px(int v) {
  std::string s;
  for (int i = 0; i < 2304; ++i)
    s += (i ? " " : "") + std::to_string((v + i) % 256);
  return s;
}

// Writes one small source of every format under `t` and returns the config
// path. Expected counts are spelled out in the test below.
std::string write_all_formats(const TempDir& t, int per_class) {
  const char* header =
      "Neutral,Anger,Disgust,Fear,Happiness,Sadness,Surprise,Other\n";
  write_text_file(t.file("aw/ann/vid_left.txt"),
                  std::string(header) + "0\n1\n-1\n4\n");
  for (int f = 1; f <= 3; ++f)
    write_pattern(t.file("aw/img/vid_left/0000" + std::to_string(f) + ".jpg"));
  write_text_file(t.file("aw/ann_val/v.txt"), std::string(header) + "5\n6\n");
  for (int f = 1; f <= 2; ++f)
    write_pattern(t.file("aw/img/v/0000" + std::to_string(f) + ".jpg"));

  write_text_file(t.file("affectnet/training.csv"),
                  "subDirectory_filePath,face_x,face_y,face_width,face_height,"
                  "facial_landmarks,expression,valence,arousal\n"
                  "1/a.jpg,0,0,16,16,\"1;2\",1,0.5,0.1\n"
                  "1/b.jpg,0,0,16,16,\"1;2\",7,0.5,0.1\n"
                  "1/c.jpg,0,0,16,16,\"1;2\",6,0.5,0.1\n");
  for (const char* n : {"a", "b", "c"})
    write_pattern(t.file(std::string("affectnet/img/1/") + n + ".jpg"));

  write_text_file(t.file("expw/label.lst"),
                  "e1.jpg 0 1 1 15 15 90.0 3\ne2.jpg 0 1 1 15 15 90.0 4\n");
  write_pattern(t.file("expw/origin/e1.jpg"));
  write_pattern(t.file("expw/origin/e2.jpg"));

  write_text_file(t.file("raf/list_patition_label.txt"),
                  "train_00001.jpg 1\ntrain_00002.jpg 2\n");
  write_pattern(t.file("raf/aligned/train_00001_aligned.jpg"));
  write_pattern(t.file("raf/aligned/train_00002_aligned.jpg"));

  write_text_file(t.file("fer/fer2013.csv"),
                  "emotion,pixels,Usage\n0," + px(1) + ",Training\n1," + px(2) +
                      ",Training\n2," + px(3) + ",PublicTest\n");

  write_text_file(t.file("ferplus/label.csv"),
                  "fer0000001.png,\"(0, 0, 48, 48)\",9,1,0,0,0,0,0,0,0,0\n"
                  "fer0000002.png,\"(0, 0, 48, 48)\",5,5,0,0,0,0,0,0,0,0\n");
  write_pattern(t.file("ferplus/img/fer0000001.png"), 48, 48);
  write_pattern(t.file("ferplus/img/fer0000002.png"), 48, 48);

  write_pattern(t.file("folder/happy/1.jpg"));
  write_pattern(t.file("folder/sad/1.jpg"));

  write_text_file(t.file("list/list.csv"),
                  "path,label\nx.jpg,Other\ny.jpg,0\n");
  write_pattern(t.file("list/imgs/x.jpg"));
  write_pattern(t.file("list/imgs/y.jpg"));

  write_pattern(t.file("pool/a/1.jpg"));
  write_pattern(t.file("pool/2.jpg"));
  {
    io::RecordWriter w(t.file("ms1m/train.rec"), t.file("ms1m/train.idx"));
    w.write(0, io::pack_image_record({4.0f, 5.0f}, 0, {}));
    for (int k = 1; k <= 3; ++k) {
      w.write(k, io::pack_image_record(
                     {0.0f}, 0, io::encode_jpeg(pattern_image(16, 16, k))));
    }
    w.write(4, io::pack_image_record({1.0f, 4.0f}, 0, {}));
    w.close();
  }

  return write_text_file(
      t.file("config/data.yaml"),
      R"(classes: [Neutral, Anger, Disgust, Fear, Happiness, Sadness, Surprise, Other]
sampling: {per_class: )" +
          std::to_string(per_class) +
          R"(, leftovers_to_unlabeled: true, seed: 0}
labeled:
  - {format: affwild2, annotations: ../aw/ann, images: ../aw/img}
  - {format: affectnet, csv: ../affectnet/training.csv, images: ../affectnet/img}
  - {format: expw, list: ../expw/label.lst, images: ../expw/origin}
  - {format: rafdb, list: ../raf/list_patition_label.txt, images: ../raf/aligned}
  - {format: fer2013_csv, csv: ../fer/fer2013.csv, usage: Training}
  - {format: ferplus, csv: ../ferplus/label.csv, images: ../ferplus/img}
  - {format: folder, root: ../folder}
  - {format: csv, csv: ../list/list.csv, root: ../list/imgs}
unlabeled:
  - {format: folder, root: ../pool}
  - {format: recordio, rec: ../ms1m/train.rec, idx: ../ms1m/train.idx}
validation:
  - {format: affwild2, annotations: ../aw/ann_val, images: ../aw/img}
)");
}

}  // namespace

TEST(DataCli, StatsJsonCountsEveryFormat) {
  TempDir t;
  const std::string config = write_all_formats(t, 8000);
  const RunResult r = run_cli({"data", "stats", config, "--json", "--verify"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  const auto& total = j["labeled"]["total"];
  EXPECT_EQ(total["Neutral"], 3);    // affwild2, ferplus, csv
  EXPECT_EQ(total["Anger"], 3);      // affwild2, affectnet, fer2013
  EXPECT_EQ(total["Disgust"], 1);    // fer2013
  EXPECT_EQ(total["Fear"], 1);       // rafdb
  EXPECT_EQ(total["Happiness"], 3);  // affectnet, expw, folder
  EXPECT_EQ(total["Sadness"], 2);    // expw, folder
  EXPECT_EQ(total["Surprise"], 1);   // rafdb
  EXPECT_EQ(total["Other"], 1);      // csv
  EXPECT_EQ(j["labeled"]["sources"].size(), 8u);
  EXPECT_EQ(j["labeled"]["sources"][0]["format"], "affwild2");
  EXPECT_EQ(j["labeled"]["sources"][0]["unlabeled"], 1);  // the -1 frame
  // 2 folder images + 3 RecordIO images + 1 unannotated frame.
  EXPECT_EQ(j["unlabeled"]["total"], 6);
  EXPECT_EQ(j["validation"]["total"]["Sadness"], 1);
  EXPECT_EQ(j["validation"]["total"]["Surprise"], 1);
  EXPECT_EQ(j["validation"]["total"]["Neutral"], 0);
  const auto& skipped = j["skipped"];
  EXPECT_EQ(skipped["missing_frame"], 1);
  EXPECT_EQ(skipped["dropped_contempt"], 1);
  EXPECT_EQ(skipped["ferplus_tie"], 1);
}

TEST(DataCli, LeftoversOfBalancedSelectionJoinTheUnlabeledPool) {
  TempDir t;
  const RunResult r =
      run_cli({"data", "stats", write_all_formats(t, 2), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["labeled"]["total"]["Neutral"], 2);
  EXPECT_EQ(j["labeled"]["total"]["Happiness"], 2);
  EXPECT_EQ(j["labeled"]["read"]["Happiness"], 3);
  EXPECT_EQ(j["unlabeled"]["from_leftovers"], 3);
  EXPECT_EQ(j["unlabeled"]["total"], 9);
}

TEST(DataCli, TextTableAndErrors) {
  TempDir t;
  const std::string config = write_all_formats(t, 8000);
  RunResult r = run_cli({"data", "stats", config});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("labeled sources"), std::string::npos);
  EXPECT_NE(r.out.find("missing_frame"), std::string::npos);

  const std::string bad =
      write_text_file(t.file("bad.yaml"),
                      "labeled:\n  - {format: folder, root: x, colour: red}\n");
  r = run_cli({"data", "stats", bad});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("bad.yaml:2: unknown key 'colour'"), std::string::npos)
      << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;

  const std::string missing =
      write_text_file(t.file("missing.yaml"),
                      "labeled:\n  - {format: folder, root: nowhere}\n");
  r = run_cli({"data", "stats", missing});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("nowhere"), std::string::npos) << r.err;

  r = run_cli({"data", "stats", t.file("none.yaml")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("none.yaml"), std::string::npos);
}

TEST(DataCli, SynthWritesAReadableDataSet) {
  TempDir t;
  RunResult r = run_cli(
      {"data", "synth", t.file("syn"), "--scale", "0.2", "--size", "32"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = run_cli({"data", "stats", t.file("syn/data.yaml"), "--json", "--verify"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_GT(j["labeled"]["n"].get<int>(), 0);
  EXPECT_GT(j["unlabeled"]["total"].get<int>(), 0);
  EXPECT_EQ(j["validation"]["n"], 8 * 4);
  EXPECT_FALSE(j["skipped"].contains("decode_error"));

  // The knobs reach the data set.
  r = run_cli({"data",
               "synth",
               t.file("knobs"),
               "--size",
               "32",
               "--labeled",
               "5",
               "4",
               "3",
               "2",
               "1",
               "1",
               "1",
               "1",
               "--unlabeled",
               "7",
               "--validation",
               "2",
               "--label-noise",
               "0.5",
               "--min-intensity",
               "0.5",
               "--unlabeled-mix",
               "1",
               "0",
               "0",
               "0",
               "0",
               "0",
               "0",
               "0",
               "--unlabeled-min-wildness",
               "0"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  int neutral = 0;
  for (const auto& e : std::filesystem::directory_iterator(
           t.path() / "knobs" / "labeled" / "neutral")) {
    neutral += e.is_regular_file();
  }
  EXPECT_EQ(neutral, 5);
  r = run_cli({"data", "stats", t.file("knobs/data.yaml"), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto k = nlohmann::json::parse(r.out);
  EXPECT_EQ(k["validation"]["n"], 8 * 2);
  EXPECT_EQ(k["unlabeled"]["sources"][0]["unlabeled"], 7);
  // A count of 0 writes no image of that class.
  r = run_cli({"data",
               "synth",
               t.file("zero"),
               "--size",
               "32",
               "--labeled",
               "0",
               "1",
               "1",
               "1",
               "1",
               "1",
               "1",
               "1",
               "--unlabeled",
               "2",
               "--validation",
               "1",
               "--videos",
               "1",
               "--frames",
               "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(std::filesystem::is_empty(t.path() / "zero/labeled/neutral"));
  r = run_cli({"data", "synth", t.file("bad"), "--labeled", "1", "2"});
  EXPECT_NE(r.exit_code, 0);
}

TEST(DataCli, VerifySaysHowManyImagesItDecoded) {
  TempDir t;
  RunResult r = run_cli(
      {"data", "synth", t.file("syn"), "--scale", "0.2", "--size", "32"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // "wrote N images to ...": every image the data set holds.
  ASSERT_EQ(r.out.rfind("wrote ", 0), 0u) << r.out;
  const int64_t images = std::stoll(r.out.substr(6));
  ASSERT_GT(images, 0) << r.out;
  const std::string config = t.file("syn/data.yaml");

  r = run_cli({"data", "stats", config, "--verify"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string all =
      "verified: " + std::to_string(images) + " images decoded, 0 failed (";
  EXPECT_NE(r.out.find(all), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(", validation 32)"), std::string::npos) << r.out;

  r = run_cli({"data", "stats", config, "--json", "--verify"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  const auto& v = j["verified"];
  EXPECT_EQ(v["decoded"].get<int64_t>(), images);
  EXPECT_EQ(v["failed"], 0);
  EXPECT_EQ(v["labeled"]["decoded"].get<int64_t>() +
                v["unlabeled"]["decoded"].get<int64_t>() +
                v["validation"]["decoded"].get<int64_t>(),
            images);
  EXPECT_EQ(v["validation"]["decoded"], 8 * 4);

  // A file that does not decode is counted as failed, in its pool.
  write_text_file(t.file("syn/labeled/neutral/broken.jpg"), "not a JPEG");
  r = run_cli({"data", "stats", config, "--verify"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("verified: " + std::to_string(images) +
                       " images decoded, 1 failed (labeled "),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find(" and 1 failed, unlabeled "), std::string::npos)
      << r.out;
  // Without --verify nothing was decoded, and nothing says so.
  r = run_cli({"data", "stats", config});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.find("verified:"), std::string::npos) << r.out;
  r = run_cli({"data", "stats", config, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(nlohmann::json::parse(r.out).contains("verified"));
}

TEST(DataCli, EveryCommandHasHelpWithAnExample) {
  for (const auto& args :
       std::vector<std::vector<std::string>>{{"data", "stats", "--help"},
                                             {"data", "synth", "--help"},
                                             {"train", "--help"}}) {
    const RunResult r = run_cli(args);
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_NE(r.out.find("Example"), std::string::npos) << r.out;
  }
  EXPECT_NE(run_cli({"--version"}).out.find("0.1.0"), std::string::npos);
  EXPECT_NE(run_cli({}).exit_code, 0);
}

}  // namespace semifer::test
