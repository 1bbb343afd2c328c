#pragma once

#include <string>

#include "semifer/data/dataset.h"

namespace semifer::data {

/// `semifer data stats --json`: one JSON object with the class list, labeled
/// counts per class in total and per source, the unlabeled and validation
/// counts, and skipped/dropped counts by reason (docs/data.md shows it).
std::string stats_json(const Dataset& dataset);

/// The same as a human-readable table.
std::string stats_text(const Dataset& dataset);

}  // namespace semifer::data
