#pragma once

#include <string>

#include "semifer/eval/predict.h"

namespace semifer::eval {

/// Writes one CSV row per image: header `path,label,<class>...` (class
/// names in model order), then the image's path, its label's class name
/// (Predictions::labels, smoothed for video frames when smoothing was on)
/// and its class probabilities (6 decimals; each row sums to 1 up to
/// rounding). Paths holding a comma or a quote are quoted as RFC 4180 says.
/// Throws semifer::Error naming the file when it cannot be written.
void write_predictions_csv(const Predictions& predictions,
                           const std::string& path);
/// The text write_predictions_csv() writes.
std::string predictions_csv(const Predictions& predictions);

/// The header line of every ABAW expression submission file.
extern const char* const kAbawHeader;

/// Throws semifer::Error when there is no video, or when two videos share a
/// name (their ABAW files would overwrite each other), naming a frame of
/// each (`paths` are the items' paths, which VideoItems::rows index).
void check_abaw_videos(const std::vector<VideoItems>& videos,
                       const std::vector<std::string>& paths);

/// Writes the ABAW expression track's submission format: one file
/// `dir/<video>.txt` per video, the line kAbawHeader, then one line
/// `<video>/<frame as %05d>.jpg,<id>` for every frame 1..length, where <id>
/// is the canonical ABAW class id 0..7 (Neutral .. Other) of the frame's
/// label (Predictions::video_labels). Creates `dir`. Returns the number of
/// files written. Throws semifer::Error as check_abaw_videos does, or naming
/// the file that cannot be written.
int write_abaw_submission(const Predictions& predictions,
                          const std::string& dir);

}  // namespace semifer::eval
