#include "semifer/data/config.h"

#include <filesystem>
#include <tuple>

#include "semifer/util/error.h"
#include "semifer/util/strings.h"
#include "semifer/util/yaml_fields.h"

namespace fs = std::filesystem;

namespace semifer::data {

namespace {

using util::Field;
using util::FieldContext;
using util::Section;
using util::value;
using Src = SourceConfig;

// A format and the keys of its own (docs/config.md, "Keys per format").
struct FormatSpec {
  Format format;
  std::vector<Field<Src>> keys;
};

Field<Src> required_path(const char* key, std::string Src::*member,
                         const char* doc) {
  return util::path<Src>(key, member, doc, true);
}

const std::vector<FormatSpec>& formats() {
  using util::omit_when;
  static const std::vector<FormatSpec> specs = {
      {Format::kAffWild2,
       {required_path("annotations", &Src::annotations,
                      "Folder of `<video>.txt` annotation files."),
        required_path("images", &Src::images, "The `cropped_aligned` folder."),
        value("unannotated_to_unlabeled", &Src::unannotated_to_unlabeled,
              "In `labeled`, frames annotated -1 go to the unlabeled pool; "
              "elsewhere they are dropped (`unannotated`).")}},
      {Format::kAffectNet,
       {required_path("csv", &Src::csv, "`training.csv` or `validation.csv`."),
        required_path("images", &Src::images,
                      "The folder the csv's image paths are relative to."),
        value("crop_face", &Src::crop_face,
              "Crop the face box of the csv; the official images are already "
              "face crops.")}},
      {Format::kExpW,
       {required_path("list", &Src::list, "`label.lst`."),
        required_path("images", &Src::images, "The `origin` folder.")}},
      {Format::kRafDb,
       {required_path("list", &Src::list, "`list_patition_label.txt`."),
        required_path("images", &Src::images, "The `aligned` folder."),
        omit_when(value("split", &Src::split,
                        "`train`, `test` or `all`, by the file name prefix."),
                  [](const Src& s) { return s.split.empty(); })}},
      {Format::kFer2013Csv,
       {required_path("csv", &Src::csv,
                      "`fer2013.csv`: one 48x48 image per row."),
        value("usage", &Src::usage,
              "`Training`, `PublicTest`, `PrivateTest` or `all`.")}},
      {Format::kFerPlus,
       {required_path("csv", &Src::csv, "`label.csv`."),
        required_path("images", &Src::images,
                      "The `FER2013Train`, ... folder.")}},
      {Format::kFolder,
       {required_path("root", &Src::root, "The image folder."),
        omit_when(value("layout", &Src::layout,
                        "`classes` (`<root>/<class>/...`) or `flat` (every "
                        "image below `root`, no labels)."),
                  [](const Src& s) { return s.layout.empty(); })}},
      {Format::kCsv,
       {required_path("csv", &Src::csv, "Lines `path,label`."),
        util::path<Src>("root", &Src::root,
                        "The folder the csv's paths are relative to.")}},
      {Format::kRecordIO,
       {required_path("rec", &Src::rec, "`train.rec`."),
        required_path("idx", &Src::idx, "`train.idx`.")}},
  };
  return specs;
}

std::string known_formats() {
  std::string list;
  for (const auto& spec : formats()) {
    list += (list.empty() ? "" : ", ") + std::string(format_name(spec.format));
  }
  return list;
}

const FormatSpec& spec_of(Format format) {
  for (const auto& spec : formats()) {
    if (spec.format == format) return spec;
  }
  fail("internal error: format ", static_cast<int>(format), " has no keys");
}

OnError parse_policy(const YAML::Node& node, const FieldContext& ctx) {
  const std::string v =
      util::yaml_as<std::string>(node, ctx.src.file, "on_error");
  if (v == "fail") return OnError::kFail;
  if (v == "skip") return OnError::kSkip;
  fail(util::yaml_where(node, ctx.src.file),
       ": on_error must be 'fail' or 'skip', got '", v, "'");
}

const char* policy_name(OnError policy) {
  return policy == OnError::kFail ? "fail" : "skip";
}

const Section<Subset>& subset_section() {
  static const Section<Subset> s =
      Section<Subset>(
          "", "subset",
          {value("from", &Subset::from,
                 "Start of the kept slice, a fraction of each class's count."),
           value("to", &Subset::to, "End of the kept slice (excluded)."),
           value("seed", &Subset::seed, "Seed of the shuffle within classes.")})
          .invariant([](const Subset& s) {
            return s.from >= 0 && s.from < s.to && s.to <= 1
                       ? std::string()
                       : str("subset needs 0 <= from < to <= 1, got from ",
                             s.from, ", to ", s.to);
          })
          .flow();
  return s;
}

Field<Src> format_key() {
  Field<Src> f = util::custom<Src>(
      "format",
      "`affwild2`, `affectnet`, `expw`, `rafdb`, `fer2013_csv`, `ferplus`, "
      "`folder`, `csv` or `recordio`.",
      [](Src& s, const YAML::Node& node, const FieldContext& ctx) {
        const auto name =
            util::yaml_as<std::string>(node, ctx.src.file, "format");
        for (const auto& spec : formats()) {
          if (name != format_name(spec.format)) continue;
          s.format = spec.format;
          return;
        }
        fail(util::yaml_where(node, ctx.src.file), ": unknown format '", name,
             "' (known: ", known_formats(), ")");
      },
      [](const Src& s) -> std::optional<YAML::Node> {
        return YAML::Node(format_name(s.format));
      });
  f.required = true;
  return f;
}

// The keys every source takes; `leftovers_to_unlabeled` only in `labeled`.
std::vector<Field<Src>> common_keys(bool labeled) {
  std::vector<Field<Src>> keys = {
      format_key(),
      value("name", &Src::name, "Name in reports."),
  };
  keys.push_back(util::custom<Src>(
      "on_error",
      "`fail` or `skip` for both, or a map `{annotations: fail|skip, images: "
      "fail|skip}`.",
      [](Src& s, const YAML::Node& node, const FieldContext& ctx) {
        if (!node.IsMap()) {
          s.on_annotation_error = s.on_image_error = parse_policy(node, ctx);
          return;
        }
        util::yaml_check_keys(node, {"annotations", "images"}, ctx.src.file,
                              str(ctx.section, " on_error"));
        if (node["annotations"])
          s.on_annotation_error = parse_policy(node["annotations"], ctx);
        if (node["images"])
          s.on_image_error = parse_policy(node["images"], ctx);
      },
      [](const Src& s) -> std::optional<YAML::Node> {
        YAML::Node map(YAML::NodeType::Map);
        map.SetStyle(YAML::EmitterStyle::Flow);
        map["annotations"] = policy_name(s.on_annotation_error);
        map["images"] = policy_name(s.on_image_error);
        return map;
      }));
  keys.push_back(util::nested<Src>(
      "subset", subset_section(), [](auto& s) -> auto& { return s.subset; }));
  if (labeled) {
    keys.push_back(util::custom<Src>(
        "leftovers_to_unlabeled",
        "Labeled sources only: overrides `sampling.leftovers_to_unlabeled` "
        "for this source.",
        [](Src& s, const YAML::Node& node, const FieldContext& ctx) {
          s.leftovers_to_unlabeled =
              util::yaml_as<bool>(node, ctx.src.file, ctx.name) ? 1 : 0;
        },
        [](const Src& s) -> std::optional<YAML::Node> {
          // -1 (inherit the global switch) reads back when the key is absent.
          if (s.leftovers_to_unlabeled < 0) return std::nullopt;
          return YAML::Node(s.leftovers_to_unlabeled == 1);
        }));
  }
  return keys;
}

// The table of a source of one format in one list.
Section<Src> source_section(Format format, Role role, std::string what) {
  std::vector<Field<Src>> fields = common_keys(role == Role::kLabeled);
  const auto& own = spec_of(format).keys;
  // format and name first, then the format's own keys, then the rest.
  fields.insert(fields.begin() + 2, own.begin(), own.end());
  return Section<Src>(std::move(what), "", std::move(fields));
}

Src parse_source(const YAML::Node& node, Role role, size_t index,
                 const util::YamlSource& src) {
  const std::string what = str(role_name(role), " source ", index + 1);
  SEMIFER_CHECK(node.IsMap(), util::yaml_where(node, src.file), ": ", what,
                " must be a map such as {format: folder, root: PATH}");
  SEMIFER_CHECK(node["format"], util::yaml_where(node, src.file), ": ", what,
                " has no 'format'");
  Src s;
  s.role = role;
  // The format decides which keys the source takes.
  format_key().read(s, node["format"], {src, "format", what});
  s.name = str(format_name(s.format), "#", index + 1);
  source_section(s.format, role,
                 str(what, " (format ", format_name(s.format), ")"))
      .read(node, s, src);
  return s;
}

std::vector<Src> parse_sources(const YAML::Node& node, Role role,
                               const util::YamlSource& src) {
  std::vector<Src> out;
  if (!node || node.IsNull()) return out;
  SEMIFER_CHECK(node.IsSequence(), util::yaml_where(node, src.file), ": '",
                role_name(role), "' must be a list of sources");
  for (size_t i = 0; i < node.size(); ++i) {
    out.push_back(parse_source(node[i], role, i, src));
  }
  return out;
}

Field<DataConfig> sources(const char* key, Role role,
                          std::vector<Src> DataConfig::*member,
                          const char* doc) {
  return util::custom<DataConfig>(
      key, doc,
      [=](DataConfig& c, const YAML::Node& node, const FieldContext& ctx) {
        c.*member = parse_sources(node, role, ctx.src);
      },
      [=](const DataConfig& c) -> std::optional<YAML::Node> {
        YAML::Node list(YAML::NodeType::Sequence);
        if ((c.*member).empty()) list.SetStyle(YAML::EmitterStyle::Flow);
        for (const auto& s : c.*member)
          list.push_back(source_section(s.format, role, "").emit(s));
        return list;
      });
}

const Section<SamplingConfig>& sampling_section() {
  using C = SamplingConfig;
  static const Section<C> s =
      Section<C>(
          "sampling", "sampling",
          {value("per_class", &C::per_class,
                 "Labeled samples per class per epoch, and the size of the "
                 "fixed class-balanced selection (at most 10^7).",
                 util::within<int64_t>(1, kMaxPerClass)),
           value("leftovers_to_unlabeled", &C::leftovers_to_unlabeled,
                 "The labeled samples the selection does not keep go to the "
                 "unlabeled pool (labels kept as hidden labels)."),
           value("seed", &C::seed,
                 "Seed of the selection and of every epoch's draw.")})
          .flow();
  return s;
}

const Section<DataConfig>& data_section() {
  static const Section<DataConfig> s(
      "the data config", "",
      {util::custom<DataConfig>(
           "classes",
           "The classes a model is trained on, in model output order.",
           [](DataConfig& c, const YAML::Node& node, const FieldContext& ctx) {
             SEMIFER_CHECK(node.IsSequence(),
                           util::yaml_where(node, ctx.src.file),
                           ": 'classes' must be a list of class names");
             c.classes.clear();
             for (const auto& item : node) {
               const auto name =
                   util::yaml_as<std::string>(item, ctx.src.file, "classes");
               SEMIFER_CHECK(parse_expression(name),
                             util::yaml_where(item, ctx.src.file),
                             ": unknown class '", name, "'");
               c.classes.push_back(name);
             }
           },
           [](const DataConfig& c) -> std::optional<YAML::Node> {
             YAML::Node list(YAML::NodeType::Sequence);
             list.SetStyle(YAML::EmitterStyle::Flow);
             for (const auto& name : c.classes) list.push_back(name);
             return list;
           }),
       util::nested<DataConfig>(
           "sampling", sampling_section(),
           [](auto& c) -> auto& { return c.sampling; }),
       sources("labeled", Role::kLabeled, &DataConfig::labeled,
               "Sources of labeled samples."),
       sources("unlabeled", Role::kUnlabeled, &DataConfig::unlabeled,
               "Sources of unlabeled samples."),
       sources("validation", Role::kValidation, &DataConfig::validation,
               "Sources of validation samples.")});
  return s;
}

}  // namespace

void SamplingConfig::validate() const { sampling_section().check(*this); }

LabelSpace DataConfig::label_space() const {
  return LabelSpace::from_names(classes);
}

void DataConfig::validate() const {
  data_section().check(*this);
  label_space();
  for (const auto* list : {&labeled, &unlabeled, &validation}) {
    for (const auto& s : *list) {
      const std::string problem =
          source_section(s.format, s.role, "").problem(s);
      SEMIFER_CHECK(problem.empty(), "source ", s.name, ": ", problem);
    }
  }
  SEMIFER_CHECK(!labeled.empty() || !unlabeled.empty() || !validation.empty(),
                "the data config lists no sources");
}

bool operator==(const Subset& a, const Subset& b) {
  return std::tie(a.from, a.to, a.seed) == std::tie(b.from, b.to, b.seed);
}

bool operator==(const SourceConfig& a, const SourceConfig& b) {
  auto tie = [](const SourceConfig& s) {
    return std::tie(s.format, s.role, s.name, s.annotations, s.images, s.csv,
                    s.list, s.root, s.rec, s.idx, s.usage, s.split, s.crop_face,
                    s.unannotated_to_unlabeled, s.layout,
                    s.leftovers_to_unlabeled, s.on_annotation_error,
                    s.on_image_error, s.subset);
  };
  return tie(a) == tie(b);
}

bool operator==(const SamplingConfig& a, const SamplingConfig& b) {
  return std::tie(a.per_class, a.leftovers_to_unlabeled, a.seed) ==
         std::tie(b.per_class, b.leftovers_to_unlabeled, b.seed);
}

bool operator==(const DataConfig& a, const DataConfig& b) {
  return std::tie(a.classes, a.sampling, a.labeled, a.unlabeled,
                  a.validation) ==
         std::tie(b.classes, b.sampling, b.labeled, b.unlabeled, b.validation);
}

DataConfig parse_data_config(const YAML::Node& node, const std::string& file,
                             const std::string& base_dir) {
  DataConfig config;
  data_section().read(node, config, {file, base_dir});
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
  const std::vector<uint8_t> bytes =
      util::read_file(path, util::kMaxConfigBytes);
  const std::string text(bytes.begin(), bytes.end());
  const YAML::Node node = util::yaml_parse(text, path);
  SEMIFER_CHECK(node.IsMap(), path, ": a data config must be a YAML map");
  const std::string base = fs::absolute(path).parent_path().string();
  return parse_data_config(node, path, base);
}

YAML::Node to_yaml_node(const DataConfig& config) {
  return data_section().emit(config);
}

std::string to_yaml(const DataConfig& config) {
  YAML::Emitter out;
  out << to_yaml_node(config);
  return std::string(out.c_str()) + "\n";
}

std::vector<util::KeyDoc> data_config_keys() {
  std::vector<util::KeyDoc> keys = data_section().docs("");
  auto append = [&](const Section<Src>& section, const std::string& prefix) {
    for (auto& k : section.docs(prefix)) keys.push_back(std::move(k));
  };
  append(Section<Src>("", "", common_keys(true)), "source");
  for (const auto& spec : formats()) {
    append(Section<Src>("", "", spec.keys),
           str("source.", format_name(spec.format)));
  }
  return keys;
}

}  // namespace semifer::data
