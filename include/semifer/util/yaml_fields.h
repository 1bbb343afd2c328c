#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "semifer/util/error.h"
#include "semifer/util/key_doc.h"
#include "semifer/util/strings.h"
#include "semifer/util/yaml.h"

/// One declaration per config key. A `Field<S>` names a key of a YAML map,
/// reads it into a struct S, writes it back, checks its value and documents
/// it; a `Section<S>` is the table of fields of one map. The config parsers,
/// `to_yaml` and the documented key lists (docs/config.md, held equal to them
/// by tests/train/config_test.cpp) all come from these tables, so a key added
/// to a table is parsed, emitted and listed at once.
namespace semifer::util {

/// Where a config is read from: the file that errors name, and the folder
/// that relative paths are resolved against.
struct YamlSource {
  std::string file;
  std::string base_dir;
};

/// What a field's reader gets besides the node.
struct FieldContext {
  const YamlSource& src;
  std::string name;     ///< the dotted key, for messages: "train.lr"
  std::string section;  ///< the map in messages: "train", "labeled source 2"
};

/// "prefix.key", or "key" when the prefix is empty.
std::string dotted(const std::string& prefix, const std::string& key);

/// The shortest decimal text that reads back as exactly `v`: "0.0005",
/// "0.95", "1" (".inf", "-.inf", ".nan" for the non-finite).
std::string shortest(double v);
std::string shortest(float v);

/// A node as one line of YAML: a scalar as it is, a list or map in flow
/// style ("[Neutral, Anger]", "{annotations: fail, images: skip}").
std::string yaml_text(const YAML::Node& node);

/// One key of a map that is read into a struct S.
template <typename S>
struct Field {
  std::string key;  ///< as written in YAML: "epochs"
  /// One line for the key list; empty for a nested section, whose own keys
  /// are listed instead.
  std::string doc;
  bool required = false;
  /// Reads the key's (present) node into `s`; throws naming file:line.
  std::function<void(S& s, const YAML::Node& node, const FieldContext& ctx)>
      read;
  /// The value as YAML; std::nullopt leaves the key out, for an optional key
  /// that is unset (it reads back as unset).
  std::function<std::optional<YAML::Node>(const S& s)> emit;
  /// "" when the value is valid, else the message naming `name` (the dotted
  /// key). Looks at this key's value only: checks across keys are a
  /// Section's invariants or live in the struct's validate().
  std::function<std::string(const S& s, const std::string& name)> check;
  /// The keys below this one (a nested section), dotted under `prefix`.
  std::function<std::vector<KeyDoc>(const std::string& prefix)> subkeys;
};

/// The fields of one YAML map.
template <typename S>
class Section {
 public:
  /// A check across the keys of the section: "" when fine, else a message.
  using Invariant = std::function<std::string(const S&)>;

  /// `what` names the map in errors ("train", "the data config"); empty: the
  /// enclosing map's name and the key ("labeled source 2 subset"). `prefix`
  /// is the dotted path in messages ("train" gives "train.lr").
  Section(std::string what, std::string prefix, std::vector<Field<S>> fields)
      : what_(std::move(what)),
        prefix_(std::move(prefix)),
        fields_(std::move(fields)) {}

  /// Adds a check across keys, run after reading and by problem().
  Section&& invariant(Invariant check) && {
    invariants_.push_back(std::move(check));
    return std::move(*this);
  }
  /// Emits the map in flow style (`{from: 0, to: 1, seed: 0}`).
  Section&& flow() && {
    flow_ = true;
    return std::move(*this);
  }

  /// The table, in the order keys are written and listed.
  const std::vector<Field<S>>& fields() const { return fields_; }

  /// Reads a map into `out`: an unknown key (the error lists the known ones)
  /// or a missing required key throws naming file:line, and so does a value
  /// its check or an invariant refuses. Absent keys keep `out`'s values.
  void read(const YAML::Node& node, S& out, const YamlSource& src,
            const std::string& what_if_unnamed = "") const {
    const std::string what = what_.empty() ? what_if_unnamed : what_;
    std::vector<std::string> known;
    for (const auto& f : fields_) known.push_back(f.key);
    yaml_check_keys(node, known, src.file, what);
    for (const auto& f : fields_) {
      SEMIFER_CHECK(!f.required || node[f.key], yaml_where(node, src.file),
                    ": ", what, " needs '", f.key, "'");
    }
    for (const auto& f : fields_) {
      const YAML::Node value = node[f.key];
      if (!value) continue;
      const FieldContext ctx{src, dotted(prefix_, f.key), what};
      f.read(out, value, ctx);
      if (!f.check) continue;
      const std::string problem = f.check(out, ctx.name);
      SEMIFER_CHECK(problem.empty(), yaml_where(value, src.file), ": ",
                    problem);
    }
    for (const auto& check : invariants_) {
      const std::string problem = check(out);
      SEMIFER_CHECK(problem.empty(), yaml_where(node, src.file), ": ", problem);
    }
  }

  /// Every key that has a value, in table order.
  YAML::Node emit(const S& s) const {
    YAML::Node map(YAML::NodeType::Map);
    if (flow_) map.SetStyle(YAML::EmitterStyle::Flow);
    for (const auto& f : fields_) {
      if (auto value = f.emit(s)) map[f.key] = *value;
    }
    return map;
  }

  /// The first problem the checks and invariants find, or "".
  std::string problem(const S& s) const {
    for (const auto& f : fields_) {
      if (!f.check) continue;
      std::string p = f.check(s, dotted(prefix_, f.key));
      if (!p.empty()) return p;
    }
    for (const auto& check : invariants_) {
      std::string p = check(s);
      if (!p.empty()) return p;
    }
    return "";
  }

  /// Throws semifer::Error with the first problem.
  void check(const S& s) const {
    const std::string p = problem(s);
    SEMIFER_CHECK(p.empty(), p);
  }

  /// The documented keys, dotted under `prefix`, with the defaults of S{}.
  std::vector<KeyDoc> docs(const std::string& prefix) const {
    const S defaults{};
    std::vector<KeyDoc> out;
    for (const auto& f : fields_) {
      const std::string name = dotted(prefix, f.key);
      if (!f.doc.empty()) {
        KeyDoc d{name, "", f.doc, f.required};
        if (!f.required && !f.subkeys) {
          if (auto v = f.emit(defaults)) d.default_value = yaml_text(*v);
        }
        out.push_back(std::move(d));
      }
      if (f.subkeys) {
        for (auto& d : f.subkeys(name)) out.push_back(std::move(d));
      }
    }
    return out;
  }

 private:
  std::string what_;
  std::string prefix_;
  std::vector<Field<S>> fields_;
  std::vector<Invariant> invariants_;
  bool flow_ = false;
};

/// A condition on one value, with the words for its failure.
template <typename T>
struct Rule {
  std::function<bool(const T&)> ok;
  std::string text;  ///< "must be positive"
};

namespace detail {

// Keeps a parameter out of template argument deduction.
template <typename T>
struct SameAs {
  using type = T;
};
template <typename T>
using Same = typename SameAs<T>::type;

// Streams a uint8_t as a number, not a character.
template <typename T>
auto printable(const T& v) {
  if constexpr (std::is_arithmetic_v<T>) {
    return +v;
  } else {
    return v;
  }
}

template <typename T>
YAML::Node scalar_node(const T& v) {
  if constexpr (std::is_floating_point_v<T>) {
    return YAML::Node(shortest(v));
  } else if constexpr (std::is_same_v<T, uint8_t>) {
    return YAML::Node(static_cast<int>(v));
  } else {
    return YAML::Node(v);
  }
}

template <typename T>
T read_scalar(const YAML::Node& node, const FieldContext& ctx) {
  if constexpr (std::is_same_v<T, uint8_t>) {
    const int x = yaml_as<int>(node, ctx.src.file, ctx.name);
    SEMIFER_CHECK(x >= 0 && x <= 255, yaml_where(node, ctx.src.file), ": '",
                  ctx.name, "' must lie in 0..255");
    return static_cast<uint8_t>(x);
  } else {
    return yaml_as<T>(node, ctx.src.file, ctx.name);
  }
}

template <typename S, typename T>
std::function<std::string(const S&, const std::string&)> check_member(
    T S::*member, std::optional<Rule<T>> rule) {
  if (!rule) return nullptr;
  return [member, r = *rule](const S& s, const std::string& name) {
    const T& v = s.*member;
    return r.ok(v) ? std::string()
                   : str(name, " ", r.text, ", got ", printable(v));
  };
}

}  // namespace detail

/// v > 0.
template <typename T>
Rule<T> positive() {
  return {[](const T& v) { return v > 0; }, "must be positive"};
}
/// v >= lo.
template <typename T>
Rule<T> at_least(T lo) {
  return {[lo](const T& v) { return v >= lo; },
          str("must be >= ", detail::printable(lo))};
}
/// lo <= v <= hi.
template <typename T>
Rule<T> within(T lo, T hi) {
  return {[lo, hi](const T& v) { return v >= lo && v <= hi; },
          str("must lie in [", detail::printable(lo), ", ",
              detail::printable(hi), "]")};
}

/// A key with its own reader and writer (a value kept in two members, a
/// value of several shapes).
template <typename S>
Field<S> custom(
    std::string key, std::string doc,
    std::function<void(S&, const YAML::Node&, const FieldContext&)> read,
    std::function<std::optional<YAML::Node>(const S&)> emit) {
  Field<S> f;
  f.key = std::move(key);
  f.doc = std::move(doc);
  f.read = std::move(read);
  f.emit = std::move(emit);
  return f;
}

/// A scalar kept in `member`: bool, an integer, a float (written with the
/// fewest digits that read back exactly), a string, or a uint8_t (0..255).
template <typename S, typename T>
Field<S> value(std::string key, T S::*member, std::string doc,
               std::optional<Rule<detail::Same<T>>> rule = std::nullopt) {
  Field<S> f = custom<S>(
      std::move(key), std::move(doc),
      [member](S& s, const YAML::Node& node, const FieldContext& ctx) {
        s.*member = detail::read_scalar<T>(node, ctx);
      },
      [member](const S& s) -> std::optional<YAML::Node> {
        return detail::scalar_node(s.*member);
      });
  f.check = detail::check_member(member, std::move(rule));
  return f;
}

/// One of a few named values: `choice("target", &SslConfig::target,
/// {{"strong", kStrong}, {"weak", kWeak}}, doc)`.
template <typename S, typename T>
Field<S> choice(std::string key, T S::*member,
                std::vector<std::pair<std::string, T>> names, std::string doc) {
  std::string alternatives;
  for (size_t i = 0; i < names.size(); ++i) {
    alternatives += i == 0 ? "" : i + 1 == names.size() ? " or " : ", ";
    alternatives += "'" + names[i].first + "'";
  }
  return custom<S>(
      std::move(key), std::move(doc),
      [member, names, alternatives](S& s, const YAML::Node& node,
                                    const FieldContext& ctx) {
        const auto v = yaml_as<std::string>(node, ctx.src.file, ctx.name);
        for (const auto& [name, value] : names) {
          if (v != name) continue;
          s.*member = value;
          return;
        }
        fail(yaml_where(node, ctx.src.file), ": ", ctx.name, " must be ",
             alternatives, ", got '", v, "'");
      },
      [member, names](const S& s) -> std::optional<YAML::Node> {
        for (const auto& [name, value] : names) {
          if (s.*member == value) return YAML::Node(name);
        }
        fail("internal error: a value of '", names.front().first,
             "' without a name");
      });
}

/// A file or folder: relative paths are resolved against the config's
/// folder when read (so what is written back is absolute); an empty string
/// is an error; an unset optional path is left out.
template <typename S>
Field<S> path(std::string key, std::string S::*member, std::string doc,
              bool required = false) {
  Field<S> f = custom<S>(
      std::move(key), std::move(doc),
      [member](S& s, const YAML::Node& node, const FieldContext& ctx) {
        const auto v = yaml_as<std::string>(node, ctx.src.file, ctx.name);
        SEMIFER_CHECK(!v.empty(), yaml_where(node, ctx.src.file), ": '",
                      ctx.name, "' is empty");
        s.*member = join_path(ctx.src.base_dir, v);
      },
      [member](const S& s) -> std::optional<YAML::Node> {
        if ((s.*member).empty()) return std::nullopt;
        return YAML::Node(s.*member);
      });
  f.required = required;
  return f;
}

/// A nested map read with its own section; `get` gives the part of S it
/// fills (`[](auto& s) -> auto& { return s.sampling; }`).
template <typename S, typename T, typename Get>
Field<S> nested(std::string key, const Section<T>& sub, Get get,
                std::string doc = "") {
  Field<S> f = custom<S>(
      key, std::move(doc),
      [&sub, get, key](S& s, const YAML::Node& node, const FieldContext& ctx) {
        sub.read(node, get(s), ctx.src, ctx.section + " " + key);
      },
      [&sub, get](const S& s) -> std::optional<YAML::Node> {
        return sub.emit(get(s));
      });
  f.check = [&sub, get](const S& s, const std::string&) {
    return sub.problem(get(s));
  };
  f.subkeys = [&sub](const std::string& prefix) { return sub.docs(prefix); };
  return f;
}

/// Leaves a key out of what is written while `unset` holds (an optional
/// string left to its default reads back the same when absent).
template <typename S>
Field<S> omit_when(Field<S> f,
                   std::function<bool(const detail::Same<S>&)> unset) {
  auto emit = std::move(f.emit);
  f.emit = [emit, unset](const S& s) -> std::optional<YAML::Node> {
    if (unset(s)) return std::nullopt;
    return emit(s);
  };
  return f;
}

}  // namespace semifer::util
