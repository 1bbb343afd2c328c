#pragma once

// Where every key of a training config is declared once (name, default
// through the struct, rule, docs row): read, validated, emitted and
// documented from these sections (config.cpp; docs/config.md, which a test
// holds equal to them).

#include "semifer/train/config.h"
#include "semifer/util/yaml_fields.h"

namespace semifer::train {

/// The whole training config: data, augment, model, train (with
/// train.best and train.distributed), ssl and eval.
const util::Section<TrainConfig>& train_section();

}  // namespace semifer::train
