// Did-you-mean for mistyped command words.
#include <algorithm>
#include <vector>

#include "commands.h"
#include "semifer/util/strings.h"

namespace semifer::app {

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
    std::vector<std::string> all;
    std::string names;
    for (const CLI::App* sub : subs) {
      if (sub->get_name() == word) next = sub;
      all.push_back(sub->get_name());
      names += (names.empty() ? "" : ", ") + sub->get_name();
    }
    const std::string best = util::closest(word, all);
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
