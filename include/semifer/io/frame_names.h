#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

namespace semifer::io {

/// The largest frame number of a video (10^6: 9 hours at 30 frames per
/// second): per-video buffers and ABAW files have a line per frame up to
/// the last, so a larger one is refused where it is read. (data::kMaxFrame
/// is the same number for the data sets.)
inline constexpr int64_t kMaxFrameNumber = 1'000'000;

/// The frame number an image file's name stands for ("00001.jpg" -> 1:
/// its stem is 1 to 9 digits), or 0 when it is not such a name.
int64_t frame_number(const std::filesystem::path& path);

/// A folder's name as a video's id: "cropped_aligned/video3/" -> "video3"
/// (the last component of its canonical path, so "." and trailing slashes
/// name the folder itself).
std::string folder_name(const std::filesystem::path& dir);

}  // namespace semifer::io
