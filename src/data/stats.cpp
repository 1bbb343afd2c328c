#include "semifer/data/stats.h"

#include <iomanip>
#include <nlohmann/json.hpp>
#include <sstream>

namespace semifer::data {

namespace {

using json = nlohmann::ordered_json;

json per_class(const LabelSpace& classes,
               const std::array<int64_t, kNumExpressions>& counts) {
  json out = json::object();
  for (int i = 0; i < classes.size(); ++i) {
    out[expression_name(classes.canonical(i))] = counts[classes.canonical(i)];
  }
  return out;
}

json skips_json(const Skips& skips) {
  json out = json::object();
  for (const auto& [reason, n] : skips.counts) out[reason] = n;
  return out;
}

json source_json(const Dataset& ds, size_t i) {
  const SourceReport& r = ds.reports[i];
  json out = {{"name", r.name},
              {"format", format_name(r.format)},
              {"role", role_name(r.role)}};
  if (r.role != Role::kUnlabeled) {
    out["read"] = per_class(ds.classes, r.read);
    out["labeled"] = per_class(ds.classes, r.labeled);
  }
  out["unlabeled"] = r.unlabeled;
  out["leftovers_to_unlabeled"] = r.leftovers;
  out["skipped"] = skips_json(r.skips);
  json examples = json::object();
  for (const auto& [reason, list] : r.skips.examples) examples[reason] = list;
  out["skipped_examples"] = examples;
  return out;
}

struct Totals {
  std::array<int64_t, kNumExpressions> labeled{}, read{}, validation{};
  int64_t unlabeled = 0, leftovers = 0;
  Skips skips;
};

Totals totals(const Dataset& ds) {
  Totals t;
  for (const auto& r : ds.reports) {
    for (int c = 0; c < kNumExpressions; ++c) {
      if (r.role == Role::kLabeled) {
        t.labeled[c] += r.labeled[c];
        t.read[c] += r.read[c];
      } else if (r.role == Role::kValidation) {
        t.validation[c] += r.labeled[c];
      }
    }
    t.unlabeled += r.unlabeled;
    t.leftovers += r.leftovers;
    t.skips.merge(r.skips);
  }
  return t;
}

}  // namespace

std::string stats_json(const Dataset& ds) {
  const Totals t = totals(ds);
  json labeled_sources = json::array(), unlabeled_sources = json::array(),
       validation_sources = json::array();
  for (size_t i = 0; i < ds.reports.size(); ++i) {
    auto& list = ds.reports[i].role == Role::kLabeled     ? labeled_sources
                 : ds.reports[i].role == Role::kUnlabeled ? unlabeled_sources
                                                          : validation_sources;
    list.push_back(source_json(ds, i));
  }
  json out = {
      {"classes", ds.classes.names()},
      {"sampling",
       {{"per_class", ds.sampling.per_class},
        {"leftovers_to_unlabeled", ds.sampling.leftovers_to_unlabeled},
        {"seed", ds.sampling.seed}}},
      {"labeled",
       {{"total", per_class(ds.classes, t.labeled)},
        {"read", per_class(ds.classes, t.read)},
        {"n", ds.labeled.size()},
        {"sources", labeled_sources}}},
      {"unlabeled",
       {{"total", ds.unlabeled.size()},
        {"from_leftovers", t.leftovers},
        {"sources", unlabeled_sources}}},
      {"validation",
       {{"total", per_class(ds.classes, t.validation)},
        {"n", ds.validation.size()},
        {"sources", validation_sources}}},
      {"skipped", skips_json(t.skips)},
  };
  if (ds.verified) {
    auto counts = [](const DecodeCounts& c) {
      return json{{"decoded", c.decoded}, {"failed", c.failed}};
    };
    const Verification& v = *ds.verified;
    json verified = counts(v.total());
    verified["labeled"] = counts(v.labeled);
    verified["unlabeled"] = counts(v.unlabeled);
    verified["validation"] = counts(v.validation);
    out["verified"] = verified;
  }
  // File names need not be UTF-8: invalid bytes become U+FFFD instead of
  // a json type_error.
  return out.dump(2, ' ', false, json::error_handler_t::replace);
}

std::string stats_text(const Dataset& ds) {
  std::ostringstream out;
  const auto names = ds.classes.names();
  const int w = 10;
  auto header = [&] {
    out << std::left << std::setw(28) << "source";
    for (const auto& n : names)
      out << std::right << std::setw(w) << n.substr(0, w - 1);
    out << std::setw(w) << "total" << std::setw(w + 2) << "unlabeled"
        << "\n";
  };
  auto row = [&](const std::string& label,
                 const std::array<int64_t, kNumExpressions>& counts,
                 int64_t unlabeled) {
    int64_t total = 0;
    out << std::left << std::setw(28) << label.substr(0, 27);
    for (int i = 0; i < ds.classes.size(); ++i) {
      const int64_t n = counts[ds.classes.canonical(i)];
      total += n;
      out << std::right << std::setw(w) << n;
    }
    out << std::setw(w) << total << std::setw(w + 2) << unlabeled << "\n";
  };
  const Totals t = totals(ds);
  for (Role role : {Role::kLabeled, Role::kUnlabeled, Role::kValidation}) {
    bool any = false;
    for (const auto& r : ds.reports) any |= r.role == role;
    if (!any) continue;
    out << role_name(role) << " sources\n";
    header();
    for (const auto& r : ds.reports) {
      if (r.role != role) continue;
      row(r.name + " (" + format_name(r.format) + ")", r.labeled, r.unlabeled);
      for (const auto& [reason, n] : r.skips.counts) {
        out << "    skipped " << reason << ": " << n;
        auto it = r.skips.examples.find(reason);
        if (it != r.skips.examples.end() && !it->second.empty()) {
          out << "  (e.g. " << it->second.front() << ")";
        }
        out << "\n";
      }
    }
    if (role == Role::kLabeled) {
      row("total labeled (selected)", t.labeled, t.leftovers);
      row("total labeled (as read)", t.read, 0);
    } else if (role == Role::kValidation) {
      row("total validation", t.validation, 0);
    }
    out << "\n";
  }
  out << "labeled pool " << ds.labeled.size() << ", unlabeled pool "
      << ds.unlabeled.size() << " (" << t.leftovers
      << " leftovers of class-balanced selection), validation "
      << ds.validation.size() << "\n";
  out << "per epoch: " << ds.sampling.per_class << " per class, seed "
      << ds.sampling.seed << "\n";
  if (ds.verified) {
    const Verification& v = *ds.verified;
    auto pool = [](const char* name, const DecodeCounts& c) {
      std::string s = std::string(name) + " " + std::to_string(c.decoded);
      if (c.failed) s += " and " + std::to_string(c.failed) + " failed";
      return s;
    };
    out << "verified: " << v.total().decoded << " images decoded, "
        << v.total().failed << " failed (" << pool("labeled", v.labeled) << ", "
        << pool("unlabeled", v.unlabeled) << ", "
        << pool("validation", v.validation) << ")\n";
  }
  if (t.skips.total() > 0) {
    out << "skipped or dropped:";
    for (const auto& [reason, n] : t.skips.counts)
      out << " " << reason << "=" << n;
    out << "\n";
  }
  return out.str();
}

}  // namespace semifer::data
