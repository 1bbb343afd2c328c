// Trains a recognizer from a YAML training config (docs/config.md) with the
// installed library, as another project would.
//   train_from_config CONFIG RUN_DIR
#include <exception>
#include <iostream>

#include "semifer/train/config.h"
#include "semifer/train/trainer.h"

int main(int argc, char** argv) try {
  if (argc != 3) {
    std::cerr << "usage: train_from_config CONFIG RUN_DIR\n";
    return 2;
  }
  const semifer::train::TrainConfig config =
      semifer::train::load_train_config(argv[1]);
  semifer::train::RunOptions options;
  options.run_dir = argv[2];
  options.progress = false;
  const semifer::train::RunSummary summary =
      semifer::train::run_training(config, options);
  std::cout << "trained " << summary.steps << " steps; best validation macro "
            << "F1 (EMA teacher) " << summary.best_f1 << "; last checkpoint "
            << summary.last_checkpoint << std::endl;
  return 0;
} catch (const std::exception& e) {
  std::cerr << "train_from_config: " << e.what() << std::endl;
  return 1;
}
