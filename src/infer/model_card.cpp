#include "semifer/infer/model_card.h"

#include <filesystem>
#include <iomanip>
#include <nlohmann/json.hpp>
#include <sstream>

#include "semifer/util/atomic_file.h"
#include "semifer/util/error.h"
#include "semifer/util/strings.h"

namespace semifer::infer {

std::string to_json(const ModelCard& c) {
  nlohmann::ordered_json j = {{"model", c.model},     {"dropout", c.dropout},
                              {"classes", c.classes}, {"size", c.input.size},
                              {"mean", c.input.mean}, {"std", c.input.std},
                              {"step", c.step}};
  if (c.validation_step >= 0) {
    nlohmann::ordered_json f1 = nlohmann::ordered_json::object();
    if (c.validation_f1_a >= 0) f1["A"] = c.validation_f1_a;
    if (c.validation_f1_b >= 0) f1["B"] = c.validation_f1_b;
    j["validation"] = {{"step", c.validation_step}, {"macro_f1", f1}};
  }
  if (!c.selected_network.empty()) j["selected_network"] = c.selected_network;
  return j.dump();
}

std::string preferred_network(const ModelCard& card) {
  if (!card.selected_network.empty()) return card.selected_network;
  if (card.validation_f1_a > card.validation_f1_b) return "A";
  return "B";
}

std::string near_chance_warning(const ModelCard& card,
                                const std::string& network) {
  const double f1 =
      network == "A" ? card.validation_f1_a : card.validation_f1_b;
  const double classes = static_cast<double>(card.classes.size());
  if (f1 < 0 || classes < 2 || f1 >= 1.2 / classes) return "";
  std::ostringstream o;
  o << std::fixed << std::setprecision(3) << "network " << network
    << "'s recorded validation macro F1 is " << f1 << " (step "
    << card.validation_step << "), near chance for " << card.classes.size()
    << " classes (1/" << card.classes.size() << " = " << 1.0 / classes
    << "): the model may predict one class for nearly every face; train "
       "longer or use the other network";
  return o.str();
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
    if (j.contains("validation")) {
      const auto& v = j.at("validation");
      c.validation_step = v.at("step").get<int64_t>();
      const auto& f1 = v.at("macro_f1");
      c.validation_f1_a = f1.value("A", -1.0);
      c.validation_f1_b = f1.value("B", -1.0);
    }
    c.selected_network = j.value("selected_network", std::string());
  } catch (const nlohmann::json::exception& e) {
    fail(file, ": unreadable model card: ", e.what());
  }
  SEMIFER_CHECK(!c.classes.empty(), file, ": the model card lists no class");
  SEMIFER_CHECK(c.selected_network.empty() || c.selected_network == "A" ||
                    c.selected_network == "B",
                file, ": the model card's selected_network is '",
                c.selected_network, "', not A or B");
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
  util::write_file_atomically(path, to_json(card) + "\n");
}

ModelCard read_model_card(const std::string& path) {
  std::error_code ec;
  SEMIFER_CHECK(std::filesystem::is_regular_file(path, ec), "model card ", path,
                " does not exist");
  const auto bytes = util::read_file(path);
  return parse_model_card(std::string(bytes.begin(), bytes.end()), path);
}

}  // namespace semifer::infer
