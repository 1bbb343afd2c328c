#include "semifer/data/config.h"

#include <filesystem>
#include <map>

#include "semifer/util/error.h"
#include "semifer/util/strings.h"
#include "semifer/util/yaml.h"

namespace fs = std::filesystem;

namespace semifer::data {

namespace {

struct FormatKeys {
  Format format;
  const char* name;
  std::vector<std::string> required;
  std::vector<std::string> optional;
};

const std::vector<FormatKeys>& format_keys() {
  static const std::vector<FormatKeys> keys = {
      {Format::kAffWild2,
       "affwild2",
       {"annotations", "images"},
       {"unannotated_to_unlabeled"}},
      {Format::kAffectNet, "affectnet", {"csv", "images"}, {"crop_face"}},
      {Format::kExpW, "expw", {"list", "images"}, {}},
      {Format::kRafDb, "rafdb", {"list", "images"}, {"split"}},
      {Format::kFer2013Csv, "fer2013_csv", {"csv"}, {"usage"}},
      {Format::kFerPlus, "ferplus", {"csv", "images"}, {}},
      {Format::kFolder, "folder", {"root"}, {"layout"}},
      {Format::kCsv, "csv", {"csv"}, {"root"}},
      {Format::kRecordIO, "recordio", {"rec", "idx"}, {}},
  };
  return keys;
}

OnError parse_policy(const YAML::Node& node, const std::string& file) {
  const std::string v = util::yaml_as<std::string>(node, file, "on_error");
  if (v == "fail") return OnError::kFail;
  if (v == "skip") return OnError::kSkip;
  fail(util::yaml_where(node, file),
       ": on_error must be 'fail' or 'skip', got '", v, "'");
}

SourceConfig parse_source(const YAML::Node& node, Role role, size_t index,
                          const std::string& file,
                          const std::string& base_dir) {
  const std::string what = str(role_name(role), " source ", index + 1);
  SEMIFER_CHECK(node.IsMap(), util::yaml_where(node, file), ": ", what,
                " must be a map such as {format: folder, root: PATH}");
  SEMIFER_CHECK(node["format"], util::yaml_where(node, file), ": ", what,
                " has no 'format'");
  const std::string format =
      util::yaml_as<std::string>(node["format"], file, "format");
  const FormatKeys* keys = nullptr;
  std::string known_formats;
  for (const auto& k : format_keys()) {
    if (format == k.name) keys = &k;
    known_formats += (known_formats.empty() ? "" : ", ") + std::string(k.name);
  }
  SEMIFER_CHECK(keys, util::yaml_where(node["format"], file),
                ": unknown format '", format, "' (known: ", known_formats, ")");
  SourceConfig src;
  src.format = keys->format;
  src.role = role;
  src.name = str(keys->name, "#", index + 1);

  std::vector<std::string> allowed = {"format", "name", "on_error", "subset"};
  if (role == Role::kLabeled) allowed.push_back("leftovers_to_unlabeled");
  allowed.insert(allowed.end(), keys->required.begin(), keys->required.end());
  allowed.insert(allowed.end(), keys->optional.begin(), keys->optional.end());
  util::yaml_check_keys(node, allowed, file,
                        str(what, " (format ", format, ")"));
  for (const auto& key : keys->required) {
    SEMIFER_CHECK(node[key], util::yaml_where(node, file), ": ", what,
                  " (format ", format, ") needs '", key, "'");
  }

  std::map<std::string, std::string*> paths = {
      {"annotations", &src.annotations},
      {"images", &src.images},
      {"csv", &src.csv},
      {"list", &src.list},
      {"root", &src.root},
      {"rec", &src.rec},
      {"idx", &src.idx}};
  for (auto& [key, field] : paths) {
    if (!node[key]) continue;
    const std::string value = util::yaml_as<std::string>(node[key], file, key);
    SEMIFER_CHECK(!value.empty(), util::yaml_where(node[key], file), ": '", key,
                  "' is empty");
    *field = util::join_path(base_dir, value);
  }
  if (node["name"])
    src.name = util::yaml_as<std::string>(node["name"], file, "name");
  if (node["usage"])
    src.usage = util::yaml_as<std::string>(node["usage"], file, "usage");
  if (node["split"])
    src.split = util::yaml_as<std::string>(node["split"], file, "split");
  if (node["layout"])
    src.layout = util::yaml_as<std::string>(node["layout"], file, "layout");
  if (node["crop_face"])
    src.crop_face = util::yaml_as<bool>(node["crop_face"], file, "crop_face");
  if (node["unannotated_to_unlabeled"]) {
    src.unannotated_to_unlabeled = util::yaml_as<bool>(
        node["unannotated_to_unlabeled"], file, "unannotated_to_unlabeled");
  }
  if (node["leftovers_to_unlabeled"]) {
    src.leftovers_to_unlabeled =
        util::yaml_as<bool>(node["leftovers_to_unlabeled"], file,
                            "leftovers_to_unlabeled")
            ? 1
            : 0;
  }
  if (const YAML::Node policy = node["on_error"]) {
    if (policy.IsMap()) {
      util::yaml_check_keys(policy, {"annotations", "images"}, file,
                            str(what, " on_error"));
      if (policy["annotations"])
        src.on_annotation_error = parse_policy(policy["annotations"], file);
      if (policy["images"])
        src.on_image_error = parse_policy(policy["images"], file);
    } else {
      src.on_annotation_error = src.on_image_error = parse_policy(policy, file);
    }
  }
  if (const YAML::Node subset = node["subset"]) {
    util::yaml_check_keys(subset, {"from", "to", "seed"}, file,
                          str(what, " subset"));
    if (subset["from"])
      src.subset.from = util::yaml_as<double>(subset["from"], file, "from");
    if (subset["to"])
      src.subset.to = util::yaml_as<double>(subset["to"], file, "to");
    if (subset["seed"])
      src.subset.seed = util::yaml_as<uint64_t>(subset["seed"], file, "seed");
    SEMIFER_CHECK(src.subset.from >= 0 && src.subset.from < src.subset.to &&
                      src.subset.to <= 1,
                  util::yaml_where(subset, file),
                  ": subset needs 0 <= from < to <= 1");
  }
  return src;
}

std::vector<SourceConfig> parse_sources(const YAML::Node& node, Role role,
                                        const std::string& file,
                                        const std::string& base_dir) {
  std::vector<SourceConfig> out;
  if (!node || node.IsNull()) return out;
  SEMIFER_CHECK(node.IsSequence(), util::yaml_where(node, file), ": '",
                role_name(role), "' must be a list of sources");
  for (size_t i = 0; i < node.size(); ++i) {
    out.push_back(parse_source(node[i], role, i, file, base_dir));
  }
  return out;
}

}  // namespace

void SamplingConfig::validate() const {
  SEMIFER_CHECK(per_class > 0, "sampling.per_class must be positive, got ",
                per_class);
}

LabelSpace DataConfig::label_space() const {
  return LabelSpace::from_names(classes);
}

void DataConfig::validate() const {
  sampling.validate();
  label_space();
  SEMIFER_CHECK(!labeled.empty() || !unlabeled.empty() || !validation.empty(),
                "the data config lists no sources");
}

DataConfig parse_data_config(const YAML::Node& node, const std::string& file,
                             const std::string& base_dir) {
  util::yaml_check_keys(
      node, {"classes", "sampling", "labeled", "unlabeled", "validation"}, file,
      "the data config");
  DataConfig config;
  if (const YAML::Node classes = node["classes"]) {
    SEMIFER_CHECK(classes.IsSequence(), util::yaml_where(classes, file),
                  ": 'classes' must be a list of class names");
    config.classes.clear();
    for (const auto& c : classes) {
      const std::string name = util::yaml_as<std::string>(c, file, "classes");
      SEMIFER_CHECK(parse_expression(name), util::yaml_where(c, file),
                    ": unknown class '", name, "'");
      config.classes.push_back(name);
    }
  }
  if (const YAML::Node s = node["sampling"]) {
    util::yaml_check_keys(s, {"per_class", "leftovers_to_unlabeled", "seed"},
                          file, "sampling");
    if (s["per_class"]) {
      config.sampling.per_class =
          util::yaml_as<int64_t>(s["per_class"], file, "per_class");
      SEMIFER_CHECK(config.sampling.per_class > 0,
                    util::yaml_where(s["per_class"], file),
                    ": per_class must be positive");
    }
    if (s["leftovers_to_unlabeled"]) {
      config.sampling.leftovers_to_unlabeled = util::yaml_as<bool>(
          s["leftovers_to_unlabeled"], file, "leftovers_to_unlabeled");
    }
    if (s["seed"])
      config.sampling.seed = util::yaml_as<uint64_t>(s["seed"], file, "seed");
  }
  config.labeled =
      parse_sources(node["labeled"], Role::kLabeled, file, base_dir);
  config.unlabeled =
      parse_sources(node["unlabeled"], Role::kUnlabeled, file, base_dir);
  config.validation =
      parse_sources(node["validation"], Role::kValidation, file, base_dir);
  try {
    config.validate();
  } catch (const Error& e) {
    fail(file, ": ", e.what());
  }
  return config;
}

DataConfig load_data_config(const std::string& path) {
  std::error_code ec;
  SEMIFER_CHECK(fs::is_regular_file(path, ec), "data config ", path,
                " does not exist or is not a file");
  const std::vector<uint8_t> bytes = util::read_file(path);
  const std::string text(bytes.begin(), bytes.end());
  const YAML::Node node = util::yaml_parse(text, path);
  SEMIFER_CHECK(node.IsMap(), path, ": a data config must be a YAML map");
  const std::string base = fs::absolute(path).parent_path().string();
  return parse_data_config(node, path, base);
}

}  // namespace semifer::data
