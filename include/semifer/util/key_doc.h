#pragma once

#include <string>

namespace semifer::util {

/// One config key as docs/config.md documents it; the config parsers list
/// theirs (`train::train_config_keys()`) and a test holds the docs tables
/// equal to the list.
struct KeyDoc {
  /// Dotted from the top of its config: "train.lr", "data.sampling.seed";
  /// a source's key is "data.source.name" and a format's own key
  /// "data.source.affwild2.images".
  std::string key;
  /// The struct's default as to_yaml writes it ("0.0005", "strong",
  /// "[0.485, 0.456, 0.406]"); "" for a required key, a section, or a key
  /// left unset by default (the value then comes from elsewhere).
  std::string default_value;
  std::string doc;  ///< one line
  bool required = false;
};

}  // namespace semifer::util
