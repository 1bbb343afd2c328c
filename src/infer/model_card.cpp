#include "semifer/infer/model_card.h"

#include <filesystem>
#include <nlohmann/json.hpp>

#include "semifer/io/atomic_file.h"
#include "semifer/util/error.h"
#include "semifer/util/strings.h"

namespace semifer::infer {

std::string to_json(const ModelCard& c) {
  const nlohmann::ordered_json j = {
      {"model", c.model},     {"dropout", c.dropout}, {"classes", c.classes},
      {"size", c.input.size}, {"mean", c.input.mean}, {"std", c.input.std},
      {"step", c.step}};
  return j.dump();
}

ModelCard parse_model_card(const std::string& text, const std::string& file) {
  ModelCard c;
  try {
    const auto j = nlohmann::json::parse(text);
    c.model = j.at("model").get<std::string>();
    c.dropout = j.at("dropout").get<double>();
    c.classes = j.at("classes").get<std::vector<std::string>>();
    c.input.size = j.at("size").get<int>();
    c.input.mean = j.at("mean").get<std::array<float, 3>>();
    c.input.std = j.at("std").get<std::array<float, 3>>();
    c.step = j.value("step", int64_t{0});
  } catch (const nlohmann::json::exception& e) {
    fail(file, ": unreadable model card: ", e.what());
  }
  SEMIFER_CHECK(!c.classes.empty(), file, ": the model card lists no class");
  try {
    c.input.validate();
  } catch (const Error& e) {
    fail(file, ": ", e.what());
  }
  return c;
}

std::string model_card_path(const std::string& weights_path) {
  return std::filesystem::path(weights_path).replace_extension(".json");
}

void write_model_card(const std::string& path, const ModelCard& card) {
  io::write_file_atomically(path, to_json(card) + "\n");
}

ModelCard read_model_card(const std::string& path) {
  std::error_code ec;
  SEMIFER_CHECK(std::filesystem::is_regular_file(path, ec), "model card ", path,
                " does not exist");
  const auto bytes = util::read_file(path);
  return parse_model_card(std::string(bytes.begin(), bytes.end()), path);
}

}  // namespace semifer::infer
