#pragma once

#include <string>

#include "semifer/data/dataset.h"

namespace semifer::data {

/// `semifer data stats --json`: one JSON object with the class list, labeled
/// counts per class in total and per source, the unlabeled and validation
/// counts, skipped/dropped counts by reason, and, for a data set built with
/// `BuildOptions::verify`, "verified": {decoded, failed, and the same per
/// pool} (docs/data.md shows it).
std::string stats_json(const Dataset& dataset);

/// The same as a human-readable table; a verified data set ends with
/// "verified: N images decoded, M failed (labeled .., unlabeled ..,
/// validation ..)".
std::string stats_text(const Dataset& dataset);

}  // namespace semifer::data
