#include "semifer/models/weights.h"

#include <torch/torch.h>

#include <set>
#include <sstream>

#include "semifer/util/error.h"

namespace semifer::models {

namespace {

std::string shape_of(const at::Tensor& t) {
  std::ostringstream out;
  out << t.sizes();
  return out.str();
}

void collect(const torch::nn::Module& module, const std::string& prefix,
             io::StateDict& out) {
  for (const auto& p : module.named_parameters(/*recurse=*/false)) {
    out.insert(prefix + p.key(), p.value().detach().to(torch::kCPU));
  }
  for (const auto& b : module.named_buffers(/*recurse=*/false)) {
    out.insert(prefix + b.key(), b.value().detach().to(torch::kCPU));
  }
  for (const auto& child : module.named_children()) {
    collect(*child.value(), prefix + child.key() + ".", out);
  }
}

std::string list(const std::vector<std::string>& names, size_t most = 3) {
  std::string s;
  for (size_t i = 0; i < names.size() && i < most; ++i)
    s += (i ? ", " : "") + names[i];
  if (names.size() > most) s += ", ...";
  return s;
}

}  // namespace

std::string LoadReport::summary() const {
  std::ostringstream out;
  out << "loaded " << loaded.size() << ", replaced " << replaced.size();
  if (!replaced.empty()) out << " (" << list(replaced) << ")";
  out << ", missing " << missing.size();
  if (!missing.empty()) out << " (" << list(missing) << ")";
  out << ", unexpected " << unexpected.size();
  if (!unexpected.empty()) out << " (" << list(unexpected) << ")";
  return out.str();
}

LoadReport load_weights(ClassifierImpl& model, const io::StateDict& state,
                        const std::string& source, const LoadOptions& options) {
  // Map file keys (without a DataParallel prefix) to tensors.
  std::map<std::string, const at::Tensor*> file;
  for (size_t i = 0; i < state.size(); ++i) {
    std::string key = state.keys[i];
    if (options.strip_module_prefix && key.rfind("module.", 0) == 0)
      key = key.substr(7);
    file[key] = &state.tensors[i];
  }
  LoadReport report;
  std::set<std::string> used;
  const std::string head = model.head_prefix();
  torch::NoGradGuard no_grad;
  auto copy_into = [&](const std::string& key, at::Tensor& target) {
    auto it = file.find(key);
    if (it == file.end()) {
      report.missing.push_back(key);
      return;
    }
    used.insert(key);
    const at::Tensor& src = *it->second;
    if (src.sizes() != target.sizes()) {
      SEMIFER_CHECK(key.rfind(head, 0) == 0, source, ": tensor '", key,
                    "' has shape ", shape_of(src), " but ", model.arch(),
                    " expects ", shape_of(target));
      report.replaced.push_back(key);  // keep the fresh initialisation
      return;
    }
    target.copy_(src.to(target.device(), target.scalar_type()));
    report.loaded.push_back(key);
  };
  for (auto& p : model.named_parameters()) copy_into(p.key(), p.value());
  for (auto& b : model.named_buffers()) copy_into(b.key(), b.value());
  for (const auto& [key, tensor] : file) {
    if (!used.count(key)) report.unexpected.push_back(key);
  }
  if (options.strict) {
    SEMIFER_CHECK(report.missing.empty(), source, ": ", report.missing.size(),
                  " tensors of ", model.arch(), " are not in the file (",
                  list(report.missing), "); is it another architecture?");
    SEMIFER_CHECK(report.unexpected.empty(), source, ": ",
                  report.unexpected.size(), " tensors in the file are not in ",
                  model.arch(), " (", list(report.unexpected),
                  "); is it another architecture?");
  }
  return report;
}

LoadReport import_weights(ClassifierImpl& model, const std::string& path,
                          const LoadOptions& options) {
  return load_weights(model, io::load_state_dict(path), path, options);
}

io::StateDict state_dict(const torch::nn::Module& model) {
  io::StateDict out;
  collect(model, "", out);
  return out;
}

void export_weights(const torch::nn::Module& model, const std::string& path) {
  io::save_state_dict(path, state_dict(model));
}

}  // namespace semifer::models
