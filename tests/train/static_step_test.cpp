// What lets a training step be captured once as a CUDA graph and replayed
// for every later step (train.cuda_graph, graph.h), checked on the CPU
// (item 5 of the GPU-speed issue; the capture itself needs a GPU):
// - the step reads nothing back to the host and makes no tensor whose
//   shape depends on values (a capture fails on either);
// - every step issues the same operations with the same host arguments
//   (sizes, numbers): a replay repeats the captured arguments, so a value
//   that changes from step to step must live in a device tensor (the
//   unlabeled weight's ramp, tau after a DTM update, the learning rate);
// - the tensors the step keeps between steps are updated in place;
// - random numbers come from the default generator (on CUDA the device's,
//   which the capture registers), none from a generator passed in.
// The optimizer's step is not observed: on CUDA it is the fused kernel with
// the learning rate and step count on the device
// (MultiTensorAdam.CountsCapturedAndReplayedSteps), on the CPU the foreach
// path whose bias corrections are host numbers.
#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <functional>
#include <set>
#include <string>
#include <vector>

#include "semifer/models/registry.h"
#include "semifer/train/losses.h"
#include "semifer/train/optimizer.h"
#include "semifer/train/state.h"
#include "semifer/train/step.h"
#include "support/op_observer.h"

namespace semifer::test {

namespace {

// Operations that wait for the device (a value read on the host) or whose
// output shape depends on values, on CUDA.
const std::set<std::string> kSynchronising = {"aten::_local_scalar_dense",
                                              "aten::item",
                                              "aten::is_nonzero",
                                              "aten::nonzero",
                                              "aten::nonzero_numpy",
                                              "aten::masked_select",
                                              "aten::unique_dim",
                                              "aten::_unique",
                                              "aten::_unique2",
                                              "aten::unique_consecutive",
                                              "aten::equal",
                                              "aten::allclose",
                                              "aten::bincount",
                                              "aten::repeat_interleave"};

// `inner`, its step unobserved.
class Unobserved : public torch::optim::Optimizer {
 public:
  explicit Unobserved(std::unique_ptr<torch::optim::Optimizer> inner)
      : Optimizer(inner->param_groups(),
                  std::make_unique<torch::optim::AdamOptions>()),
        inner_(std::move(inner)) {}
  at::Tensor step(LossClosure closure) override {
    at::DisableRecordFunctionGuard off;
    return inner_->step(std::move(closure));
  }

 private:
  std::unique_ptr<torch::optim::Optimizer> inner_;
};

constexpr int kClasses = 3;
constexpr int64_t kPool = 16;  // unlabeled pool (FlexMatch's memory)

train::TrainState make_state(const train::SslConfig& ssl) {
  torch::manual_seed(3);
  train::TrainState s;
  s.student = models::create_model("smallnet", models::ModelOptions{kClasses});
  s.teacher = s.student->clone_classifier();
  train::LoopConfig loop;
  s.optimizer = std::make_unique<Unobserved>(
      train::make_optimizer(loop, s.student->parameters()));
  s.thresholds = train::DynamicThresholds(kClasses, 0.5);
  s.thresholds_changed();
  s.labeler =
      train::PseudoLabeler(ssl, kClasses, kPool, {0.5, 0.3, 0.2}, torch::kCPU);
  return s;
}

// Step `step`'s batch: other values, the same shapes.
data::Step batch_of(int64_t step) {
  torch::manual_seed(100 + step);
  data::Step b;
  b.labeled.x_weak = torch::randn({4, 3, 48, 48});
  b.labeled.y = torch::randint(kClasses, {4}, torch::kInt64);
  b.unlabeled.x_weak = torch::randn({5, 3, 48, 48});
  b.unlabeled.x_strong = torch::randn({5, 3, 48, 48});
  b.unlabeled.index = torch::randperm(kPool, torch::kInt64).narrow(0, 0, 5);
  b.unlabeled.hidden_label = torch::randint(-1, kClasses, {5}, torch::kInt64);
  return b;
}

// Which ATen kernels run inside an operation differs between the CPU and
// CUDA (and between LibTorch versions): what a captured graph repeats is
// what the step's own code calls, with its arguments.
std::string listing(const std::vector<OpCall>& calls) {
  std::string out;
  for (const OpCall& c : calls) {
    if (c.depth == 0) out += c.name + "(" + c.arguments + ")\n";
  }
  return out;
}

// The calls that would wait for the device. Inside an operation only where
// it would on CUDA too: the CPU kernels of these full reductions read their
// mean on the host, CUDA's are one reduction kernel.
std::vector<std::string> host_reads(const std::vector<OpCall>& calls) {
  static const std::set<std::string> kCpuReadsOnly = {"aten::var", "aten::std"};
  std::vector<std::string> out;
  std::string caller;
  for (const OpCall& c : calls) {
    if (c.depth == 0) caller = c.name;
    if (kSynchronising.count(c.name) &&
        (c.depth == 0 || !kCpuReadsOnly.count(caller)))
      out.push_back(c.name + "(" + c.arguments + ") in " + caller);
  }
  return out;
}

// The first line where two listings differ, with its neighbours.
std::string first_difference(const std::string& a, const std::string& b) {
  size_t at = 0;
  while (at < a.size() && at < b.size() && a[at] == b[at]) ++at;
  const size_t line = a.rfind('\n', at == 0 ? 0 : at - 1);
  const size_t from = line == std::string::npos ? 0 : line + 1;
  return "step 1: " + a.substr(from, 300) +
         "\n...later step: " + b.substr(from, 300);
}

bool given_a_generator(const std::vector<OpCall>& calls) {
  for (const OpCall& c : calls) {
    if (c.generator) return true;
  }
  return false;
}

struct Recipe {
  std::string name;
  bool semi = true;
  std::function<void(train::SslConfig&)> ssl;  // may be empty
  double clip = 0;
};

}  // namespace

TEST(StaticStep, EveryStepIsTheSameDeviceWorkWithoutAHostRead) {
  using train::Alignment;
  using train::PseudoSource;
  using train::ThresholdPolicy;
  const std::vector<Recipe> recipes = {
      {"the paper's (DTM, mean of views, strong target)"},
      {"supervised stage", false},
      {"clipped gradients", true, {}, 0.5},
      {"FixMatch on the weak view, weak target", true,
       [](train::SslConfig& s) {
         s.pseudo_labels = PseudoSource::kWeak;
         s.target = train::PseudoTarget::kWeak;
       }},
      {"the teacher's pseudo-labels", true,
       [](train::SslConfig& s) { s.pseudo_labels = PseudoSource::kTeacher; }},
      {"FlexMatch", true,
       [](train::SslConfig& s) { s.thresholds = ThresholdPolicy::kFlexMatch; }},
      {"FreeMatch, aligned to the labeled prior", true,
       [](train::SslConfig& s) {
         s.thresholds = ThresholdPolicy::kFreeMatch;
         s.alignment = Alignment::kLabeled;
       }},
      {"SoftMatch, uniform alignment", true,
       [](train::SslConfig& s) {
         s.weighting = train::Weighting::kSoft;
         s.alignment = Alignment::kUniform;
       }},
  };
  for (const Recipe& r : recipes) {
    SCOPED_TRACE(r.name);
    train::SslConfig ssl;
    ssl.unlabeled_warmup = 10;  // the weight changes every step
    if (r.ssl) r.ssl(ssl);
    train::TrainState state = make_state(ssl);
    train::StepBuffers buffers;
    train::StepOptions options;
    options.ssl = ssl;
    options.clip_grad_norm = r.clip;
    options.buffers = &buffers;
    options.lambda_unlabeled = torch::zeros({});
    const void* tau_at = state.tau().data_ptr();
    std::vector<std::string> steps;
    for (int64_t step = 0; step < 5; ++step) {
      state.step = step;
      options.lambda_unlabeled.fill_(train::unlabeled_weight(
          ssl.lambda_unlabeled, ssl.unlabeled_warmup, step));
      if (step == 3) {  // an epoch end's DTM update
        state.thresholds.set_tau({0.2, 0.4, 0.6});
        state.thresholds_changed();
      }
      // As GraphedStep stages them: outside the captured work.
      const train::StepInputs inputs = train::stage_step(
          batch_of(step), r.semi, torch::kCPU, &buffers, /*copy=*/true);
      OpObserver observer;
      const train::StepStats s =
          train::run_step(state, inputs, r.semi, options);
      for (const std::string& read : host_reads(observer.calls()))
        ADD_FAILURE() << "step " << step << " reads the device: " << read;
      // Random numbers from the device's default generator, which a capture
      // registers (dropout, stochastic depth): never one passed in.
      EXPECT_FALSE(given_a_generator(observer.calls())) << "step " << step;
      ASSERT_FALSE(observer.calls().empty());
      steps.push_back(listing(observer.calls()));
      EXPECT_TRUE(s.loss.defined());
    }
    // The generator check has something to see: smallnet's dropout.
    EXPECT_NE(steps[1].find("aten::dropout("), std::string::npos);
    EXPECT_EQ(state.tau().data_ptr(), tau_at) << "tau was replaced";
    EXPECT_FLOAT_EQ(state.tau()[2].item<float>(), 0.6f);
    // Step 0 may set things up; a capture comes after warm-up steps.
    for (size_t i = 2; i < steps.size(); ++i) {
      EXPECT_TRUE(steps[i] == steps[1])
          << "step " << i << " differs from step 1:\n"
          << first_difference(steps[1], steps[i]);
    }
  }
}

// The check itself sees what it must: host reads (also inside an
// operation, as boolean indexing's nonzero), none in var(), and a number
// that changes from step to step, as the unlabeled weight's ramp when it is
// passed from the host.
TEST(StaticStep, TheCheckSeesHostReadsAndChangingNumbers) {
  const at::Tensor x = torch::randn({4});
  std::string listings[2];
  for (int step = 0; step < 2; ++step) {
    OpObserver observer;
    const at::Tensor y = x.mul(0.5 + step).add(1.0);
    EXPECT_TRUE(host_reads(observer.calls()).empty());
    (void)y.var();
    EXPECT_TRUE(host_reads(observer.calls()).empty());
    (void)y.index({y.gt(0)});
    EXPECT_FALSE(host_reads(observer.calls()).empty());
    EXPECT_FALSE(given_a_generator(observer.calls()));
    at::Generator own = at::make_generator<at::CPUGeneratorImpl>(7);
    (void)at::empty({4}).bernoulli_(0.5, own);
    EXPECT_TRUE(given_a_generator(observer.calls()));
    listings[step] = listing(observer.calls());
  }
  EXPECT_NE(listings[0], listings[1]);
  EXPECT_NE(listings[0].find("0.5"), std::string::npos) << listings[0];

  train::SslConfig ssl;
  ssl.unlabeled_warmup = 10;
  train::TrainState state = make_state(ssl);
  train::StepOptions host_weight;
  host_weight.ssl = ssl;
  for (int64_t step = 0; step < 3; ++step) {  // step 0 may set things up
    state.step = step;
    OpObserver observer;
    train::run_step(state, batch_of(step), /*semi=*/true, host_weight);
    if (step > 0) listings[step - 1] = listing(observer.calls());
  }
  EXPECT_NE(listings[0], listings[1]);
}

}  // namespace semifer::test
