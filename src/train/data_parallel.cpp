#include "semifer/train/data_parallel.h"

#include <torch/torch.h>

#include <utility>
#include <vector>

#include "semifer/train/distributed.h"
#include "semifer/train/gradient_reducer.h"
#include "semifer/train/state.h"
#include "semifer/train/step.h"
#include "semifer/train/validation.h"

namespace semifer::train {

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
