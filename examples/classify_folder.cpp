// Classifies every face crop in a folder with semifer::Recognizer and prints
// a CSV (path, label, then one probability per class), as an application
// that embeds semifer would.
//   classify_folder MODEL FOLDER
// MODEL: a `semifer train` checkpoint, or a .pth exported by `semifer
// weights export` with its model card (.json) beside it.
#include <algorithm>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "semifer/infer/recognizer.h"

int main(int argc, char** argv) try {
  if (argc != 3) {
    std::cerr << "usage: classify_folder MODEL FOLDER\n";
    return 2;
  }
  std::vector<std::string> files;
  for (const auto& entry :
       std::filesystem::recursive_directory_iterator(argv[2])) {
    const std::string ext = entry.path().extension().string();
    if (entry.is_regular_file() &&
        (ext == ".jpg" || ext == ".jpeg" || ext == ".png"))
      files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());

  const semifer::Recognizer recognizer(argv[1]);
  std::cout << "path,label";
  for (const auto& name : recognizer.classes()) std::cout << "," << name;
  std::cout << "\n";
  const std::vector<semifer::Prediction> predictions =
      recognizer.predict(files);
  for (size_t i = 0; i < files.size(); ++i) {
    std::cout << files[i] << "," << predictions[i].name;
    for (float p : predictions[i].probabilities) std::cout << "," << p;
    std::cout << "\n";
  }
  return 0;
} catch (const std::exception& e) {
  std::cerr << "classify_folder: " << e.what() << std::endl;
  return 1;
}
