#include "semifer/train/resume.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "semifer/train/distributed.h"
#include "semifer/train/run_folder.h"
#include "semifer/util/error.h"
#include "semifer/util/strings.h"

namespace semifer::train {

const std::vector<std::string>& resumable_keys() {
  static const std::vector<std::string> keys = {"train.lr",
                                                "train.epochs",
                                                "train.steps_per_epoch",
                                                "train.log_every",
                                                "train.checkpoint_every",
                                                "train.max_loss",
                                                "train.threads",
                                                "train.torch_threads",
                                                "train.device",
                                                "train.bf16",
                                                "train.channels_last",
                                                "train.optimizer_kernels",
                                                "train.views",
                                                "train.cudnn_benchmark",
                                                "train.tf32",
                                                "train.cuda_graph",
                                                "train.deterministic",
                                                "train.distributed.backend",
                                                "train.distributed.bucket_mb",
                                                "train.distributed.timeout_s",
                                                "eval.max_samples"};
  return keys;
}

ResumeCheck check_resume_changes(const TrainConfig& before,
                                 const TrainConfig& after) {
  ResumeCheck out;
  const auto& ok = resumable_keys();
  for (auto& change : config_changes(before, after)) {
    if (std::find(ok.begin(), ok.end(), change.key) != ok.end()) {
      out.allowed.push_back(std::move(change));
    } else {
      out.refused += str(out.refused.empty() ? "" : "; ", change.key, " was ",
                         change.before, ", now ", change.after);
    }
  }
  return out;
}

AutoResume decide_auto_resume(const RunFolder& folder, Group* group,
                              const std::string& config_yaml) {
  const bool root = !group || group->rank() == 0;
  std::string decided = root && folder.has_last_checkpoint() ? "resume" : "";
  if (group && group->size() > 1) decided = group->broadcast_bytes(decided);
  if (decided == "resume") return AutoResume::kResume;
  return root && folder.stopped_before_checkpoint(config_yaml)
             ? AutoResume::kStartAgain
             : AutoResume::kStart;
}

void load_on_every_rank(const std::string& path, Group* group,
                        const std::function<void(const std::string&)>& load) {
  if (!group || group->size() == 1) {
    load(path);
    return;
  }
  std::string bytes;
  if (group->rank() == 0) {
    const auto data = util::read_file(path);
    bytes.assign(data.begin(), data.end());
  }
  bytes = group->broadcast_bytes(bytes);
  if (group->rank() == 0) {
    load(path);
    return;
  }
  const std::string copy =
      (std::filesystem::temp_directory_path() /
       str("semifer-resume-", ::getpid(), "-rank", group->rank(), ".pt"))
          .string();
  util::write_file(copy, bytes.data(), bytes.size());
  std::error_code ec;
  try {
    load(copy);
  } catch (...) {
    std::filesystem::remove(copy, ec);
    throw;
  }
  std::filesystem::remove(copy, ec);
}

}  // namespace semifer::train
