// Did-you-mean for mistyped command words.
#include <algorithm>
#include <vector>

#include "commands.h"

namespace semifer::app {

namespace {

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1,
                         diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

}  // namespace

std::optional<std::string> unknown_subcommand(const CLI::App& app, int argc,
                                              char** argv) {
  const CLI::App* level = &app;
  std::string path = "semifer";
  for (int i = 1; i < argc; ++i) {
    const std::string word = argv[i];
    if (word.empty() || word[0] == '-') return std::nullopt;
    const auto subs =
        level->get_subcommands([](const CLI::App*) { return true; });
    if (subs.empty()) return std::nullopt;
    const CLI::App* next = nullptr;
    std::string best;
    size_t best_distance = 3;  // suggest only close names
    std::string names;
    for (const CLI::App* sub : subs) {
      if (sub->get_name() == word) next = sub;
      const size_t d = edit_distance(word, sub->get_name());
      if (d < best_distance) {
        best_distance = d;
        best = sub->get_name();
      }
      names += (names.empty() ? "" : ", ") + sub->get_name();
    }
    if (next == nullptr) {
      std::string msg = "unknown command '" + path + " " + word + "'";
      msg += best.empty() ? "; the commands are " + names
                          : "; did you mean '" + path + " " + best + "'?";
      return msg;
    }
    level = next;
    path += " " + word;
  }
  return std::nullopt;
}

}  // namespace semifer::app
