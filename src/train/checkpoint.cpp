#include "semifer/train/checkpoint.h"

#include <torch/torch.h>

#include "semifer/util/error.h"

namespace semifer::train {

bool is_checkpoint(const std::string& path) {
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(path);
    torch::serialize::InputArchive teacher, student;
    return archive.try_read("teacher", teacher) &&
           archive.try_read("student", student);
  } catch (const std::exception&) {
    return false;
  }
}

void load_from_checkpoint(models::ClassifierImpl& model,
                          const std::string& path, Network which) {
  const char* key = which == Network::kTeacher ? "teacher" : "student";
  // Module::load replaces tensors whatever their shape, so check the shapes.
  std::vector<std::pair<std::string, std::vector<int64_t>>> expected;
  for (const auto& p : model.named_parameters())
    expected.emplace_back(p.key(), p.value().sizes().vec());
  try {
    torch::serialize::InputArchive archive, sub;
    archive.load_from(path);
    archive.read(key, sub);
    model.load(sub);
  } catch (const c10::Error& e) {
    // LibTorch's messages span lines and carry a C++ backtrace.
    std::string why = e.what_without_backtrace();
    why = why.substr(0, why.find('\n'));
    fail("cannot load network ", which == Network::kTeacher ? "B" : "A", " of ",
         model.arch(), " from ", path, ": ", why);
  }
  const auto params = model.named_parameters();
  for (const auto& [name, shape] : expected) {
    const auto got = params[name].sizes().vec();
    SEMIFER_CHECK(got == shape, path, ": tensor '", name, "' has shape ",
                  c10::IntArrayRef(got), " but ", model.arch(), " with ",
                  model.num_classes(), " classes expects ",
                  c10::IntArrayRef(shape));
  }
}

}  // namespace semifer::train
