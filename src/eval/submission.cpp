#include "semifer/eval/submission.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>

#include "semifer/data/labels.h"
#include "semifer/util/csv.h"
#include "semifer/util/error.h"
#include "semifer/util/strings.h"

namespace fs = std::filesystem;

namespace semifer::eval {

const char* const kAbawHeader =
    "image_location,Neutral,Anger,Disgust,Fear,Happiness,Sadness,Surprise,"
    "Other";

using util::csv_field;

void write_predictions_csv(const Predictions& p, const std::string& path) {
  util::write_text(path, predictions_csv(p));
}

std::string predictions_csv(const Predictions& p) {
  const size_t c_count = p.classes.size();
  SEMIFER_CHECK(p.probs.size() == p.paths.size() * c_count &&
                    p.labels.size() == p.paths.size(),
                "predictions: inconsistent sizes");
  std::string text = "path,label";
  for (const auto& name : p.classes) text += "," + csv_field(name);
  text += "\n";
  char buf[32];
  for (size_t i = 0; i < p.paths.size(); ++i) {
    text += csv_field(p.paths[i]);
    text += ",";
    text += p.classes.at(static_cast<size_t>(p.labels[i]));
    for (size_t c = 0; c < c_count; ++c) {
      std::snprintf(buf, sizeof buf, ",%.6f", p.probs[i * c_count + c]);
      text += buf;
    }
    text += "\n";
  }
  return text;
}

void check_abaw_videos(const std::vector<VideoItems>& videos,
                       const std::vector<std::string>& paths) {
  SEMIFER_CHECK(!videos.empty(),
                "no video among the inputs: ABAW files are written for "
                "Aff-Wild2 frame folders (images named 00001.jpg, ...) or "
                "the Aff-Wild2 sources of a data config");
  std::map<std::string, size_t> seen;
  for (size_t v = 0; v < videos.size(); ++v) {
    // The name is a file name and the start of every line of its file.
    const std::string& name = videos[v].name;
    const bool bad_char = std::any_of(name.begin(), name.end(), [](char c) {
      return c == ',' || c == '/' || c == '"' ||
             static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
    });
    SEMIFER_CHECK(!name.empty() && name != "." && name != ".." && !bad_char,
                  "video '", util::excerpt(name), "' (",
                  util::excerpt(paths.at(videos[v].rows.front())),
                  ") cannot name an ABAW file: a name must not be empty or "
                  "hold a comma, quote, slash or control character");
    const auto [it, fresh] = seen.emplace(videos[v].name, v);
    SEMIFER_CHECK(fresh, "two videos are named ", videos[v].name, " (",
                  paths.at(videos[it->second].rows.front()), " and ",
                  paths.at(videos[v].rows.front()),
                  "); their ABAW files would overwrite each other");
  }
}

int write_abaw_submission(const Predictions& p, const std::string& dir) {
  check_abaw_videos(p.videos, p.paths);
  SEMIFER_CHECK(p.video_labels.size() == p.videos.size(),
                "predictions: inconsistent video labels");
  const data::LabelSpace space = data::LabelSpace::from_names(p.classes);
  std::error_code ec;
  fs::create_directories(dir, ec);
  SEMIFER_CHECK(!ec, "cannot create ", dir, ": ", ec.message());
  char buf[64];
  for (size_t v = 0; v < p.videos.size(); ++v) {
    const VideoItems& video = p.videos[v];
    std::string text = kAbawHeader;
    text += "\n";
    const std::vector<int>& labels = p.video_labels[v];
    for (size_t f = 0; f < labels.size(); ++f) {
      std::snprintf(buf, sizeof buf, "/%05zu.jpg,%d\n", f + 1,
                    space.canonical(labels[f]));
      text += video.name;
      text += buf;
    }
    util::write_text(util::join_path(dir, video.name + ".txt"), text);
  }
  return static_cast<int>(p.videos.size());
}

}  // namespace semifer::eval
