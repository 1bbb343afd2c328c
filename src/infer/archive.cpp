#include "semifer/infer/archive.h"

#include <torch/torch.h>

#include <filesystem>

#include "semifer/io/zip_check.h"
#include "semifer/util/atomic_file.h"
#include "semifer/util/error.h"
#include "semifer/util/strings.h"

namespace semifer::infer {

torch::serialize::InputArchive read_archive(const std::string& path,
                                            const c10::Device& device) {
  std::error_code ec;
  SEMIFER_CHECK(std::filesystem::is_regular_file(path, ec), "checkpoint ", path,
                " does not exist or is not a file");
  const std::vector<uint8_t> bytes = util::read_file(path);
  auto not_checkpoint = [&](const std::string& why) {
    fail(path, " is not a checkpoint written by semifer train (", why,
         "; an exported .pth needs its model card ", model_card_path(path),
         " beside it)");
  };
  if (!io::is_zip(bytes.data(), bytes.size()))
    not_checkpoint("not a zip archive: another kind of file, or cut short");
  io::verify_zip(bytes.data(), bytes.size(), path);
  io::check_torch_zip(bytes.data(), bytes.size(), path);
  torch::serialize::InputArchive archive;
  try {
    archive.load_from(reinterpret_cast<const char*>(bytes.data()), bytes.size(),
                      device);
  } catch (const c10::Error& e) {
    not_checkpoint("not a LibTorch archive: " + torch_error_line(e));
  } catch (const std::exception& e) {
    // Damaged TorchScript code in the archive: torch::jit::ErrorReport,
    // which is no c10::Error, with the source excerpt on later lines.
    std::string what = e.what();
    const size_t start = what.find_first_not_of('\n');
    what = start == std::string::npos ? "" : what.substr(start);
    not_checkpoint("not a LibTorch archive: " +
                   what.substr(0, what.find('\n')));
  }
  return archive;
}

void write_archive(torch::serialize::OutputArchive& archive,
                   const std::string& path) {
  util::AtomicFile file(path);
  // LibTorch's zip writer must not see a failure: an exception thrown
  // through it, or a short write, makes its destructor throw while
  // unwinding (std::terminate). So a failed write is remembered, the rest
  // of the archive is swallowed, and the error is raised afterwards.
  std::string failure;
  try {
    archive.save_to([&](const void* data, size_t size) -> size_t {
      if (failure.empty()) {
        try {
          file.write(data, size);
        } catch (const Error& e) {
          failure = e.what();
        }
      }
      return size;
    });
  } catch (const c10::Error& e) {
    fail("cannot write ", path, ": ", torch_error_line(e));
  }
  if (!failure.empty()) throw Error(failure);
  file.commit();
}

void write_text(torch::serialize::OutputArchive& archive, const char* key,
                const std::string& text) {
  archive.write(key,
                torch::tensor(std::vector<uint8_t>(text.begin(), text.end()),
                              torch::kUInt8));
}

bool read_text(torch::serialize::InputArchive& archive, const char* key,
               std::string& text) {
  at::Tensor t;
  if (!archive.try_read(key, t)) return false;
  const at::Tensor bytes = t.to(torch::kCPU, torch::kUInt8).contiguous();
  const auto* p = bytes.data_ptr<uint8_t>();
  text.assign(p, p + bytes.numel());
  return true;
}

}  // namespace semifer::infer
