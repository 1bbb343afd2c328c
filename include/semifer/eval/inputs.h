#pragma once

#include <string>
#include <vector>

#include "semifer/eval/predict.h"

namespace semifer::eval {

/// The images named on a command line, for `semifer predict`:
/// - a file is one image (whatever its extension; decoding decides);
/// - a folder contributes every .jpg, .jpeg and .png below it, recursively,
///   in sorted path order;
/// - a folder whose images are all named by a frame number >= 1 (digits
///   only: 00001.jpg, 00002.jpg, ...) is an Aff-Wild2 frame folder: a video
///   named after the folder, frame n being the image numbered n. Its length
///   is its largest frame number (frames after the last image are unknown).
/// Items come in the order of `inputs`. Throws semifer::Error naming the
/// path when an input does not exist or a folder holds no image, and naming
/// both files when one frame number appears twice in a folder.
ImageSet find_images(const std::vector<std::string>& inputs);

}  // namespace semifer::eval
