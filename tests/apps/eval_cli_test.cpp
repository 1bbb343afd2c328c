// `semifer eval` and `semifer predict` end to end with a small model trained
// for a few steps on synthetic faces.
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <numeric>

#include "semifer/util/strings.h"
#include "support/support.h"

namespace semifer::test {

namespace fs = std::filesystem;

namespace {

const char* kClasses =
    "classes: [Neutral, Anger, Disgust, Fear, Happiness, Sadness, Surprise, "
    "Other]\n";
const char* kAbawHeader =
    "image_location,Neutral,Anger,Disgust,Fear,Happiness,Sadness,Surprise,"
    "Other";

// One synthetic data set and one checkpoint for every test of this file.
class EvalCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    RunResult r = run_cli({"data", "synth", dir_->file("data"), "--size", "32",
                           "--scale", "0.3"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const std::string config = write_text_file(
        dir_->file("train.yaml"),
        "data: data/data.yaml\naugment: {size: 32}\nmodel: {name: smallnet}\n"
        "train: {epochs: 1, steps_per_epoch: 3, batch_labeled: 8, "
        "batch_unlabeled: 8}\nssl: {dtm_per_class: 10}\n");
    r = run_cli({"train", config, "--out", dir_->file("run"), "--quiet"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    // Validation on the Aff-Wild2 videos, for smoothing.
    write_text_file(data("videos.yaml"),
                    std::string(kClasses) +
                        "validation:\n  - {format: affwild2, annotations: "
                        "affwild2/annotations, images: "
                        "affwild2/cropped_aligned}\n");
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }

  static std::string data(const std::string& rel) {
    return dir_->file("data/" + rel);
  }
  static std::string checkpoint() {
    return dir_->file("run/checkpoint_last.pt");
  }
  static nlohmann::json eval_json(std::vector<std::string> extra) {
    std::vector<std::string> args = {"eval", "--checkpoint", checkpoint(),
                                     "--json", "--quiet"};
    args.insert(args.end(), extra.begin(), extra.end());
    const RunResult r = run_cli(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return nlohmann::json::parse(r.out);
  }

  static TempDir* dir_;
};

TempDir* EvalCli::dir_ = nullptr;

int64_t confusion_total(const nlohmann::json& confusion) {
  int64_t n = 0;
  for (const auto& row : confusion)
    for (const auto& x : row) n += x.get<int64_t>();
  return n;
}

// Checks the score keys of an eval JSON object (top level or "smoothed").
void expect_scores(const nlohmann::json& j, int64_t n) {
  for (const char* k : {"n", "accuracy", "macro_f1", "per_class_f1",
                        "precision", "recall", "support", "confusion"}) {
    ASSERT_TRUE(j.contains(k)) << k;
  }
  EXPECT_EQ(j["n"].get<int64_t>(), n);
  EXPECT_EQ(confusion_total(j["confusion"]), n);
  ASSERT_EQ(j["per_class_f1"].size(), 8u);
  double sum = 0;
  for (const auto& [name, f1] : j["per_class_f1"].items()) {
    EXPECT_GE(f1.get<double>(), 0.0) << name;
    EXPECT_LE(f1.get<double>(), 1.0) << name;
    sum += f1.get<double>();
  }
  EXPECT_NEAR(j["macro_f1"].get<double>(), sum / 8, 1e-12);
  EXPECT_GE(j["accuracy"].get<double>(), 0.0);
  EXPECT_LE(j["accuracy"].get<double>(), 1.0);
}

// The last line of stderr: the error message.
std::string error_line(const RunResult& r) {
  std::vector<std::string> lines;
  std::string line;
  for (char c : r.err) {
    if (c == '\n') {
      lines.push_back(line);
      line.clear();
    } else {
      line += c;
    }
  }
  if (!line.empty()) lines.push_back(line);
  return lines.empty() ? "" : lines.back();
}

void expect_cli_error(const RunResult& r, std::vector<std::string> parts) {
  EXPECT_EQ(r.exit_code, 1) << r.out;
  const std::string line = error_line(r);
  EXPECT_EQ(line.rfind("semifer: error: ", 0), 0u) << r.err;
  for (const auto& p : parts)
    EXPECT_NE(line.find(p), std::string::npos) << "'" << p << "' in " << r.err;
}

std::vector<std::string> split_csv(const std::string& line) {
  std::vector<std::string> out(1);
  for (char c : line) {
    if (c == ',') {
      out.emplace_back();
    } else {
      out.back() += c;
    }
  }
  return out;
}

// Lines of a text file, without a trailing empty one.
std::vector<std::string> lines_of(const std::string& path) {
  auto lines = util::read_lines(path);
  if (!lines.empty() && lines.back().empty()) lines.pop_back();
  return lines;
}

}  // namespace

TEST_F(EvalCli, PrintsScoresAndConfusion) {
  const RunResult r = run_cli({"eval", "--checkpoint", checkpoint(), "--data",
                               data("data.yaml"), "--network", "B", "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* s : {"network B (EMA teacher)", "split validation: 48",
                        "macro F1", "mean of the 8 per-class F1",
                        "confusion matrix", "Surprise", "precision"}) {
    EXPECT_NE(r.out.find(s), std::string::npos) << s << " in\n" << r.out;
  }
  EXPECT_EQ(r.out.find("smoothing"), std::string::npos);
}

TEST_F(EvalCli, JsonHasScoresThatAddUp) {
  // validation/list.csv: 6 images per class at --scale 0.3.
  const int64_t n =
      static_cast<int64_t>(lines_of(data("validation/list.csv")).size()) - 1;
  ASSERT_EQ(n, 48);
  const auto j = eval_json({"--data", data("data.yaml"), "--network", "B"});
  expect_scores(j, n);
  EXPECT_EQ(j["network"], "B");
  EXPECT_EQ(j["split"], "validation");
  EXPECT_FALSE(j.contains("smoothed"));
  // Network A is another model: same count, its own scores.
  const auto a = eval_json({"--data", data("data.yaml"), "--network", "A"});
  expect_scores(a, n);
  EXPECT_EQ(a["network"], "A");
  // The labeled split is scored too.
  const auto l = eval_json({"--data", data("data.yaml"), "--split", "labeled"});
  EXPECT_GT(l["n"].get<int64_t>(), 0);
  expect_scores(l, l["n"].get<int64_t>());
}

TEST_F(EvalCli, SmoothingScoresVideoFrames) {
  const auto j = eval_json({"--data", data("videos.yaml"), "--smooth", "9",
                            "--smooth-mode", "block"});
  const int64_t n = j["n"].get<int64_t>();
  ASSERT_GT(n, 0);
  expect_scores(j, n);
  ASSERT_TRUE(j.contains("smoothed"));
  const auto& s = j["smoothed"];
  expect_scores(s, n);
  EXPECT_EQ(s["window"], 9);
  EXPECT_EQ(s["mode"], "block");
  EXPECT_EQ(s["videos"], 3);
  EXPECT_EQ(s["video_samples"], n);  // every Aff-Wild2 sample is a frame
  // A window of one frame changes nothing.
  const auto one = eval_json({"--data", data("videos.yaml"), "--smooth", "1"});
  EXPECT_EQ(one["smoothed"]["confusion"], one["confusion"]);
  // Samples outside videos (the CSV list) keep their prediction.
  const auto csv = eval_json({"--data", data("data.yaml"), "--smooth", "350"});
  EXPECT_EQ(csv["smoothed"]["video_samples"], 0);
  EXPECT_EQ(csv["smoothed"]["confusion"], csv["confusion"]);
}

TEST_F(EvalCli, PredictWritesCsvWithProbabilities) {
  const std::string out = dir_->file("preds.csv");
  const RunResult r = run_cli({"predict", "--checkpoint", checkpoint(),
                               data("validation/images"), "--out", out,
                               "--batch", "7", "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("predicted 48 images (0 videos)"), std::string::npos)
      << r.out;
  const auto lines = lines_of(out);
  ASSERT_EQ(lines.size(), 49u);
  EXPECT_EQ(lines[0],
            "path,label,Neutral,Anger,Disgust,Fear,Happiness,Sadness,"
            "Surprise,Other");
  const auto header = split_csv(lines[0]);
  std::string previous;
  for (size_t i = 1; i < lines.size(); ++i) {
    const auto row = split_csv(lines[i]);
    ASSERT_EQ(row.size(), 10u) << lines[i];
    EXPECT_TRUE(fs::exists(row[0])) << row[0];
    EXPECT_LT(previous, row[0]) << "rows are sorted by path";
    previous = row[0];
    double sum = 0, best = -1;
    std::string argmax;
    for (size_t c = 2; c < row.size(); ++c) {
      const double p = *util::parse_double(row[c]);
      EXPECT_GE(p, 0.0);
      sum += p;
      if (p > best) best = p, argmax = header[c];
    }
    EXPECT_NEAR(sum, 1.0, 1e-4) << lines[i];
    EXPECT_EQ(row[1], argmax) << lines[i];
  }
  // --out -: the same CSV on standard output, the summary on stderr.
  const RunResult piped =
      run_cli({"predict", "--checkpoint", checkpoint(),
               data("validation/images"), "--out", "-", "--quiet"});
  ASSERT_EQ(piped.exit_code, 0) << piped.err;
  const auto bytes = util::read_file(out);
  EXPECT_EQ(piped.out, std::string(bytes.begin(), bytes.end()));
  EXPECT_NE(piped.err.find("predicted 48 images"), std::string::npos)
      << piped.err;
}

TEST_F(EvalCli, AbawFilesListEveryFrameOfAFrameFolder) {
  // Frame 3 has no image (no face detected); 00006.png ends the video.
  // A loose image beside the video folder is predicted but is no frame.
  TempDir t;
  for (const char* f : {"frames/vidA/00001.jpg", "frames/vidA/00002.jpg",
                        "frames/vidA/00004.jpg", "frames/vidA/00005.jpg",
                        "frames/vidA/00006.png", "frames/loose.jpg"})
    write_pattern(t.file(f), 32, 32, static_cast<int>(std::string(f).size()));
  for (const char* smooth : {"0", "3"}) {
    const std::string sub = t.file(std::string("sub") + smooth);
    std::vector<std::string> args = {
        "predict", "--checkpoint",  checkpoint(), t.file("frames"),
        "--out",   t.file("p.csv"), "--abaw",     sub,
        "--quiet"};
    if (std::string(smooth) != "0") {
      args.push_back("--smooth");
      args.push_back(smooth);
    }
    const RunResult r = run_cli(args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("predicted 6 images (1 videos)"), std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("1 images outside videos"), std::string::npos)
        << r.out;
    const auto lines = lines_of(sub + "/vidA.txt");
    ASSERT_EQ(lines.size(), 7u) << smooth;
    EXPECT_EQ(lines[0], kAbawHeader);
    for (int f = 1; f <= 6; ++f) {
      const auto row = split_csv(lines[f]);
      ASSERT_EQ(row.size(), 2u) << lines[f];
      char name[32];
      std::snprintf(name, sizeof name, "vidA/%05d.jpg", f);
      EXPECT_EQ(row[0], name);
      const auto id = util::parse_int(row[1]);
      ASSERT_TRUE(id) << lines[f];
      EXPECT_GE(*id, 0);
      EXPECT_LE(*id, 7);
    }
    // Without smoothing the missing frame 3 takes frame 2's label (nearest,
    // earlier on a tie).
    if (std::string(smooth) == "0") {
      EXPECT_EQ(split_csv(lines[3])[1], split_csv(lines[2])[1]);
    }
    EXPECT_EQ(lines_of(t.file("p.csv")).size(), 7u);
  }
}

TEST_F(EvalCli, AbawFromADataConfigUsesAnnotatedLengths) {
  TempDir t;
  const RunResult r =
      run_cli({"predict", "--checkpoint", checkpoint(), "--data",
               data("videos.yaml"), "--abaw", t.file("sub"), "--smooth", "350",
               "--smooth-mode", "mean", "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("wrote 3 ABAW files"), std::string::npos) << r.out;
  for (const char* video : {"video0", "video1", "video1_right"}) {
    const auto ann =
        lines_of(data(std::string("affwild2/annotations/") + video + ".txt"));
    const auto sub = lines_of(t.file(std::string("sub/") + video + ".txt"));
    ASSERT_EQ(sub.size(), ann.size()) << video;  // header + every frame
    EXPECT_EQ(sub[0], kAbawHeader);
    char last[64];
    std::snprintf(last, sizeof last, "%s/%05zu.jpg,", video, ann.size() - 1);
    EXPECT_EQ(sub.back().rfind(last, 0), 0u) << sub.back();
  }
}

TEST_F(EvalCli, CheckpointAndConfigErrorsNameTheFile) {
  TempDir t;
  // A checkpoint that does not exist.
  RunResult r = run_cli(
      {"eval", "--checkpoint", t.file("nope.pt"), "--data", data("data.yaml")});
  expect_cli_error(r, {"nope.pt", "does not exist"});
  // A file that is no checkpoint.
  const std::string text = write_text_file(t.file("notes.pt"), "hello\n");
  r = run_cli({"eval", "--checkpoint", text, "--data", data("data.yaml")});
  expect_cli_error(r, {"notes.pt", "not a checkpoint"});
  r = run_cli({"predict", "--checkpoint", text, data("validation/images"),
               "--out", t.file("p.csv")});
  expect_cli_error(r, {"notes.pt", "not a checkpoint"});
  // A data config with other classes than the model's.
  const std::string seven = write_text_file(
      data("seven.yaml"),
      "classes: [Neutral, Anger, Disgust, Fear, Happiness, Sadness, "
      "Surprise]\nvalidation:\n  - {format: csv, csv: validation/list.csv, "
      "root: validation}\n");
  r = run_cli({"eval", "--checkpoint", checkpoint(), "--data", seven});
  expect_cli_error(r, {"seven.yaml", "differ", "checkpoint_last.pt"});
  r = run_cli({"predict", "--checkpoint", checkpoint(), "--data", seven,
               "--out", t.file("p.csv")});
  expect_cli_error(r, {"seven.yaml", "differ"});
}

TEST_F(EvalCli, InputErrorsNameTheFile) {
  TempDir t;
  // An image that does not decode.
  RunResult r;
  write_text_file(t.file("bad/broken.jpg"), "not a jpeg");
  r = run_cli({"predict", "--checkpoint", checkpoint(), t.file("bad"), "--out",
               t.file("p.csv")});
  expect_cli_error(r, {"broken.jpg"});
  EXPECT_FALSE(fs::exists(t.file("p.csv")));
  // Inputs that do not exist or hold no image; no video for --abaw.
  r = run_cli({"predict", "--checkpoint", checkpoint(), t.file("missing"),
               "--out", t.file("p.csv")});
  expect_cli_error(r, {"missing", "does not exist"});
  fs::create_directories(t.file("empty"));
  r = run_cli({"predict", "--checkpoint", checkpoint(), t.file("empty"),
               "--out", t.file("p.csv")});
  expect_cli_error(r, {"empty", "holds no images"});
  r = run_cli({"predict", "--checkpoint", checkpoint(),
               data("validation/images"), "--abaw", t.file("sub")});
  expect_cli_error(r, {"no video"});
  // Two frame folders of one name would write one ABAW file: refused
  // before anything is written.
  write_pattern(t.file("two/a/v/00001.jpg"));
  write_pattern(t.file("two/b/v/00001.jpg"));
  r = run_cli({"predict", "--checkpoint", checkpoint(), t.file("two"), "--out",
               t.file("p.csv"), "--abaw", t.file("sub")});
  expect_cli_error(r, {"two videos are named v", "a/v/00001.jpg"});
  EXPECT_FALSE(fs::exists(t.file("p.csv")));
  // Neither inputs nor --data; an unknown mode is refused by the parser.
  r = run_cli(
      {"predict", "--checkpoint", checkpoint(), "--out", t.file("p.csv")});
  expect_cli_error(r, {"INPUT", "--data"});
  r = run_cli({"eval", "--checkpoint", checkpoint(), "--data",
               data("data.yaml"), "--smooth", "5", "--smooth-mode", "median"});
  EXPECT_NE(r.exit_code, 0);
}

TEST_F(EvalCli, OnErrorSkipLeavesOutAndListsUndecodableImages) {
  TempDir t;
  write_pattern(t.file("in/a.jpg"));
  write_pattern(t.file("in/b.jpg"));
  write_text_file(t.file("in/broken.jpg"), "not a jpeg");
  // The default stops at the broken file and writes nothing.
  RunResult r = run_cli({"predict", "--checkpoint", checkpoint(), t.file("in"),
                         "--out", t.file("p.csv"), "--quiet"});
  expect_cli_error(r, {"broken.jpg"});
  EXPECT_FALSE(fs::exists(t.file("p.csv")));
  r = run_cli({"predict", "--checkpoint", checkpoint(), t.file("in"), "--out",
               t.file("p.csv"), "--quiet", "--on-error", "skip"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("predicted 2 images"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("skipped 1 images that cannot be decoded"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("broken.jpg"), std::string::npos) << r.err;
  const auto rows = lines_of(t.file("p.csv"));
  ASSERT_EQ(rows.size(), 3u);  // header + a.jpg + b.jpg
  EXPECT_EQ(std::string(rows[1]).find("broken"), std::string::npos);
  EXPECT_EQ(std::string(rows[2]).find("broken"), std::string::npos);

  // eval: a validation list with one broken image scores the others.
  fs::create_directories(t.file("v/images"));
  fs::copy_file(t.file("in/a.jpg"), t.file("v/images/a.jpg"));
  fs::copy_file(t.file("in/broken.jpg"), t.file("v/images/broken.jpg"));
  write_text_file(t.file("v/list.csv"),
                  "path,label\nimages/a.jpg,Happiness\nimages/broken.jpg,"
                  "Anger\n");
  const std::string config = write_text_file(
      t.file("v.yaml"), std::string(kClasses) +
                            "validation:\n  - {format: csv, csv: v/list.csv, "
                            "root: v}\n");
  r = run_cli({"eval", "--checkpoint", checkpoint(), "--data", config,
               "--quiet", "--json"});
  expect_cli_error(r, {"broken.jpg"});
  r = run_cli({"eval", "--checkpoint", checkpoint(), "--data", config,
               "--quiet", "--json", "--on-error", "skip"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["n"], 1);
  ASSERT_EQ(j["skipped"].size(), 1u);
  EXPECT_NE(j["skipped"][0].get<std::string>().find("broken.jpg"),
            std::string::npos);
}

TEST_F(EvalCli, AutoNetworkFollowsTheCheckpointAndDegenerateModelsWarn) {
  // checkpoint_best.pt names the network it was chosen by; auto uses it.
  const std::string best = dir_->file("run/checkpoint_best.pt");
  ASSERT_TRUE(fs::exists(best));
  RunResult r = run_cli({"weights", "inspect", best});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string chosen =
      r.out.find("chosen by network A") != std::string::npos ? "A" : "B";
  ASSERT_NE(r.out.find("chosen by network " + chosen), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("validation macro F1 at step"), std::string::npos);
  r = run_cli({"eval", "--checkpoint", best, "--data", data("data.yaml"),
               "--quiet", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["network"], chosen);

  // A warning, on stderr and in the JSON, exactly when one class takes 90%
  // of the predictions (a 3-step teacher often does).
  r = run_cli({"eval", "--checkpoint", checkpoint(), "--data",
               data("data.yaml"), "--quiet", "--json", "--network", "B"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  std::vector<int64_t> predicted(j["confusion"].size(), 0);
  for (const auto& row : j["confusion"])
    for (size_t c = 0; c < row.size(); ++c)
      predicted[c] += row[c].get<int64_t>();
  const int64_t top = *std::max_element(predicted.begin(), predicted.end());
  const bool one_class = top >= 0.9 * j["n"].get<double>();
  EXPECT_EQ(r.err.find("it looks degenerate") != std::string::npos, one_class)
      << r.err;
  EXPECT_EQ(j["warnings"].size() > 0,
            r.err.find("semifer: warning:") != std::string::npos);
}

TEST_F(EvalCli, HelpShowsExamples) {
  for (const char* cmd : {"eval", "predict"}) {
    const RunResult r = run_cli({cmd, "--help"});
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_NE(r.out.find("Example"), std::string::npos) << cmd;
    EXPECT_NE(r.out.find("--smooth-mode"), std::string::npos) << cmd;
  }
}

}  // namespace semifer::test
