#include "semifer/train/data_parallel.h"

#include <torch/torch.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "semifer/data/dataset.h"
#include "semifer/train/config.h"
#include "semifer/train/distributed.h"
#include "semifer/train/gradient_reducer.h"
#include "semifer/train/state.h"
#include "semifer/train/step.h"
#include "semifer/train/validation.h"
#include "semifer/util/error.h"
#include "semifer/util/strings.h"

namespace semifer::train {

namespace {

// Between a rank's config and its pools (pools_of) in what it compares.
constexpr std::string_view kPools = "\n---pools---\n";
// Between a pool's name and its digest.
constexpr std::string_view kDigest = "'s images ";

// One line per pool: its size, and per class where labels are known.
std::string pool_sizes(const data::Dataset& d) {
  auto per_class = [&](const std::vector<data::PoolItem>& pool) {
    const std::vector<int64_t> n = d.class_counts(pool);
    std::string out = str(pool.size(), " (");
    for (size_t c = 0; c < n.size(); ++c)
      out += str(c ? " " : "", d.classes.names()[c], " ", n[c]);
    return out + ")";
  };
  return str("labeled pool ", per_class(d.labeled), "\nunlabeled pool ",
             d.unlabeled.size(), "\nvalidation pool ", per_class(d.validation),
             "\n");
}

// A digest of what a pool holds, in its order: each item's source, file
// name and the folder holding it (not the whole path: a data set may be
// mounted elsewhere), video, record or line, frame, face box and label.
// Same sizes with another digest: other images or annotations, or another
// order, which would shift the batches all the same.
std::string pool_digest(const data::Dataset& d,
                        const std::vector<data::PoolItem>& pool) {
  uint64_t h = 14695981039346656037ull;  // FNV-1a, 64 bits
  auto mix = [&h](std::string_view bytes) {
    for (unsigned char c : bytes) h = (h ^ c) * 1099511628211ull;
    h = (h ^ 0xff) * 1099511628211ull;  // a separator between fields
  };
  for (const data::PoolItem& item : pool) {
    const data::SampleTable& table = *d.tables.at(item.source);
    const data::Sample& s = table.samples.at(item.index);
    mix(table.source);
    if (s.path >= 0) {
      // The file and its folder (a class, or an Aff-Wild2 video's frames).
      const std::filesystem::path path =
          table.paths.at(static_cast<size_t>(s.path));
      mix(path.parent_path().filename().string());
      mix(path.filename().string());
    }
    if (s.video >= 0) mix(table.videos.at(static_cast<size_t>(s.video)));
    mix(str(s.offset, " ", s.key, " ", s.frame, " ", s.box.x, " ", s.box.y, " ",
            s.box.w, " ", s.box.h, " ", item.label));
  }
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  return hex;
}

// What each rank compares with rank 0: the pools' sizes per class, then
// their digests.
std::string pools_of(const data::Dataset& d) {
  return str(pool_sizes(d), "labeled pool", kDigest, pool_digest(d, d.labeled),
             "\nunlabeled pool", kDigest, pool_digest(d, d.unlabeled),
             "\nvalidation pool", kDigest, pool_digest(d, d.validation), "\n");
}

bool may_differ(const ConfigChange& c) {
  if (c.key == "train.device" || c.key == "train.threads" ||
      c.key == "train.torch_threads")
    return true;
  // Paths (written absolute): a data set mounted elsewhere is the same data
  // set; what it holds is compared by pools_of.
  return !c.before.empty() && !c.after.empty() && c.before[0] == '/' &&
         c.after[0] == '/';
}

// What differs from rank 0's run (`theirs`: its config, kPools, its
// pools_of) in this rank's `config` and `pools`: "" when nothing does.
std::string difference(const std::string& theirs, const TrainConfig& config,
                       const std::string& pools) {
  const size_t cut = theirs.find(kPools);
  TORCH_INTERNAL_ASSERT(cut != std::string::npos);
  TrainConfig rank0;
  try {
    rank0 = parse_train_config(theirs.substr(0, cut), "rank 0's config");
  } catch (const Error& e) {
    return e.what();
  }
  for (const ConfigChange& c : config_changes(rank0, config)) {
    if (!may_differ(c))
      return str("its config has ", c.key, " ",
                 c.after.empty() ? "unset" : c.after, " where rank 0's has ",
                 c.before.empty() ? "it unset" : c.before);
  }
  const std::string pools0 = theirs.substr(cut + kPools.size());
  const auto lines0 = util::split(pools0, '\n');
  const auto lines = util::split(pools, '\n');
  for (size_t i = 0; i < lines0.size() && i < lines.size(); ++i) {
    if (lines0[i] == lines[i]) continue;
    const size_t digest = lines[i].find(kDigest);
    if (digest != std::string::npos)
      return str("its data differ: its ", lines[i].substr(0, digest),
                 " holds other images or annotations (labels, boxes) than "
                 "rank 0's, or the same in another order (the same counts; "
                 "digest ",
                 lines[i].substr(digest + kDigest.size()), " where rank 0 has ",
                 lines0[i].substr(digest + kDigest.size()), ")");
    return str("its data differ: ", lines[i], " where rank 0 has ", lines0[i]);
  }
  return "";
}

}  // namespace

DataParallelRank::DataParallelRank(std::shared_ptr<Group> group,
                                   TrainState& state, EpochEvaluator& evaluator,
                                   StepOptions& step, double bucket_mb)
    : group_(std::move(group)) {
  state.world_size = group_->size();
  evaluator.set_group(group_);
  PseudoLabeler::RankSync sync;
  sync.world_size = group_->size();
  sync.mean = [g = group_.get()](at::Tensor& t) {
    std::vector<at::Tensor> v = {t};
    g->all_reduce_sum(v);
    t.div_(g->size());
  };
  sync.gather = [g = group_.get()](const at::Tensor& t) {
    return g->all_gather(t);
  };
  state.labeler.set_rank_sync(std::move(sync));
  reducer_ = std::make_unique<GradientReducer>(
      group_, state.student->parameters(), bucket_mb);
  GradientReducer* reducer = reducer_.get();
  step.after_backward = [reducer,
                         user = std::move(step.after_backward)](TrainState& s) {
    reducer->finish();
    if (user) user(s);
  };
}

DataParallelRank::~DataParallelRank() = default;

void DataParallelRank::check_same_run(const TrainConfig& config,
                                      const data::Dataset& dataset) {
  const bool root = group_->rank() == 0;
  const std::string pools = pools_of(dataset);
  // Rank 0's run goes to every rank; each compares its own with it.
  const std::string theirs = group_->broadcast_bytes(
      root ? to_yaml(config) + std::string(kPools) + pools : "", 0);
  const std::string why = root ? "" : difference(theirs, config, pools);
  if (!group_->any(!why.empty())) return;
  // Every rank learns the first rank that differs, and why.
  for (int r = 1; r < group_->size(); ++r) {
    const std::string reason =
        group_->broadcast_bytes(group_->rank() == r ? why : "", r);
    if (!reason.empty())
      fail("distributed: rank ", r, " does not run rank 0's job: ", reason,
           " (every rank must run the same config on the same data; paths, "
           "train.device, train.threads and train.torch_threads may differ)");
  }
  fail("distributed: the ranks do not run the same job");
}

void DataParallelRank::broadcast_networks(TrainState& state) {
  std::vector<at::Tensor> t;
  for (auto* net : {&state.student, &state.teacher}) {
    for (auto& p : (*net)->parameters()) t.push_back(p.data());
    for (auto& b : (*net)->buffers()) t.push_back(b);
  }
  group_->broadcast(t);
}

void DataParallelRank::broadcast_buffers(TrainState& state) {
  std::vector<at::Tensor> t;
  for (auto& b : state.student->buffers()) t.push_back(b);
  for (auto& b : state.teacher->buffers()) t.push_back(b);
  group_->broadcast(t);
}

}  // namespace semifer::train
