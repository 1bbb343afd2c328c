#include <CLI/CLI.hpp>
#include <iostream>

#include "commands.h"
#include "semifer/version.h"

int main(int argc, char** argv) try {
  CLI::App app{
      "semifer: facial-expression recognition from a small labeled set and a "
      "large pool of unlabeled faces (Yu et al., ABAW5 2023)"};
  app.set_version_flag("--version", semifer::kVersion);
  app.require_subcommand(1);
  app.footer(
      "Run 'semifer <command> --help' for a command's flags and an example.");
  semifer::app::add_data_commands(app);
  semifer::app::add_augment_commands(app);
  semifer::app::add_weights_commands(app);
  semifer::app::add_bench_commands(app);
  CLI11_PARSE(app, argc, argv);
  return 0;
} catch (const std::exception& e) {
  std::cerr << "semifer: error: " << e.what() << "\n";
  return 1;
}
