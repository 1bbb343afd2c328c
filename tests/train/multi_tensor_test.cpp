// The multi-tensor step (issue 14, item 4): Adam and AdamW through foreach
// (and, on CUDA, fused) kernels against LibTorch's per-parameter loop, their
// checkpoints interchangeable; the EMA teacher over persistent lists; the
// gradient clipping without a host read.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <sstream>

#include "semifer/models/registry.h"
#include "semifer/train/ema.h"
#include "semifer/train/optimizer.h"
#include "semifer/util/device.h"
#include "semifer/util/torch_compat.h"
#include "support/support.h"

namespace semifer::train {

namespace {

// Parameters of several shapes (a conv weight, a matrix, a bias, a scalar).
std::vector<at::Tensor> make_params(uint64_t seed, const c10::Device& device) {
  torch::manual_seed(seed);
  std::vector<at::Tensor> out;
  for (const auto& shape :
       std::vector<std::vector<int64_t>>{{8, 3, 3, 3}, {16, 8}, {16}, {}}) {
    out.push_back(torch::randn(shape).to(device).requires_grad_(true));
  }
  return out;
}

// Gradients that depend on the parameters and the step, so that two paths
// that drift apart see different gradients; parameter 2 has none on odd
// steps (its step count falls behind the others').
void set_gradients(const std::vector<at::Tensor>& params, int step) {
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < params.size(); ++i) {
    auto& p = params[i];
    if (i == 2 && step % 2 == 1) {
      p.mutable_grad() = at::Tensor();
      continue;
    }
    p.mutable_grad() = torch::sin(p * (1.0 + 0.1 * step)) + 0.01 * step;
  }
}

std::vector<at::Tensor> copies(const std::vector<at::Tensor>& params) {
  std::vector<at::Tensor> out;
  for (const auto& p : params)
    out.push_back(p.detach().clone().requires_grad_(true));
  return out;
}

LoopConfig adam(OptimizerKind kind, double weight_decay,
                OptimizerKernels kernels) {
  LoopConfig loop;
  loop.optimizer = kind;
  loop.lr = 0.01;
  loop.weight_decay = weight_decay;
  loop.optimizer_kernels = kernels;
  return loop;
}

double max_difference(const std::vector<at::Tensor>& a,
                      const std::vector<at::Tensor>& b) {
  double worst = 0;
  for (size_t i = 0; i < a.size(); ++i)
    worst = std::max(worst, (a[i] - b[i]).abs().max().item<double>());
  return worst;
}

// Steps both optimizers `steps` times over the same gradients and returns
// the largest parameter difference seen after any step.
double run_both(torch::optim::Optimizer& x, std::vector<at::Tensor>& px,
                torch::optim::Optimizer& y, std::vector<at::Tensor>& py,
                int first, int steps) {
  double worst = 0;
  for (int s = first; s < first + steps; ++s) {
    set_gradients(px, s);
    set_gradients(py, s);
    x.step();
    y.step();
    worst = std::max(worst, max_difference(px, py));
  }
  return worst;
}

std::string saved(const torch::optim::Optimizer& o) {
  torch::serialize::OutputArchive archive;
  o.save(archive);
  std::ostringstream out;
  archive.save_to(out);
  return out.str();
}

void load(torch::optim::Optimizer& o, const std::string& bytes) {
  std::istringstream in(bytes);
  torch::serialize::InputArchive archive;
  archive.load_from(in);
  o.load(archive);
}

}  // namespace

// On the CPU the foreach operations run the loop's own kernels in the same
// order, so the results agree bit for bit; 1e-6 leaves room for a
// LibTorch whose CPU foreach kernels vectorise differently.
TEST(MultiTensorAdam, MatchesLibTorchsPerParameterLoop) {
  const c10::Device cpu(c10::kCPU);
  for (auto kind : {OptimizerKind::kAdam, OptimizerKind::kAdamW}) {
    for (double wd : {0.0, 0.05}) {
      SCOPED_TRACE(testing::Message()
                   << "adamw " << (kind == OptimizerKind::kAdamW)
                   << " weight decay " << wd);
      auto pa = make_params(1, cpu);
      auto pb = copies(pa);
      auto looped = make_optimizer(adam(kind, wd, OptimizerKernels::kLoop), pa);
      auto multi =
          make_optimizer(adam(kind, wd, OptimizerKernels::kForeach), pb);
      EXPECT_LE(run_both(*looped, pa, *multi, pb, 0, 25), 1e-6);
      // It is the base class for the code that inspects it.
      if (kind == OptimizerKind::kAdam) {
        EXPECT_NE(dynamic_cast<torch::optim::Adam*>(multi.get()), nullptr);
      } else {
        EXPECT_NE(dynamic_cast<torch::optim::AdamW*>(multi.get()), nullptr);
      }
      // The parameters moved (the comparison is not of two idle runs).
      EXPECT_GT(max_difference(pa, make_params(1, cpu)), 0.05);
    }
  }
}

TEST(MultiTensorAdam, CheckpointsLoadIntoEitherPath) {
  const c10::Device cpu(c10::kCPU);
  const auto kind = OptimizerKind::kAdam;
  auto pa = make_params(2, cpu);
  auto pb = copies(pa);
  auto looped = make_optimizer(adam(kind, 0.01, OptimizerKernels::kLoop), pa);
  auto multi = make_optimizer(adam(kind, 0.01, OptimizerKernels::kForeach), pb);
  ASSERT_LE(run_both(*looped, pa, *multi, pb, 0, 5), 1e-6);
  // Swap the states: each continues from the other path's checkpoint.
  const std::string from_loop = saved(*looped);
  const std::string from_multi = saved(*multi);
  auto pc = copies(pa);
  auto pd = copies(pb);
  auto multi2 =
      make_optimizer(adam(kind, 0.01, OptimizerKernels::kForeach), pc);
  auto looped2 = make_optimizer(adam(kind, 0.01, OptimizerKernels::kLoop), pd);
  load(*multi2, from_loop);
  load(*looped2, from_multi);
  // Uninterrupted reference: the first pair goes on.
  auto ref = copies(pa);
  EXPECT_LE(run_both(*looped, pa, *multi2, pc, 5, 10), 1e-6);
  EXPECT_LE(run_both(*multi, pb, *looped2, pd, 5, 10), 1e-6);
  // A fresh optimizer without the state does differ (bias corrections and
  // moments start over), so the loaded state is what made them agree.
  auto fresh =
      make_optimizer(adam(kind, 0.01, OptimizerKernels::kForeach), ref);
  auto pe = copies(ref);
  auto loaded =
      make_optimizer(adam(kind, 0.01, OptimizerKernels::kForeach), pe);
  load(*loaded, saved(*looped));
  EXPECT_GT(run_both(*fresh, ref, *loaded, pe, 15, 3), 1e-4);
}

// A state of another layout than its parameter's (a run resumed with
// train.channels_last changed, or a CPU run's checkpoint on CUDA) takes the
// parameter's layout at the next step (CUDA's fused kernel refuses them
// apart), and the step's result does not change.
TEST(MultiTensorAdam, StateTakesItsParametersLayout) {
  const c10::Device cpu(c10::kCPU);
  auto pa = make_params(4, cpu);
  auto pb = copies(pa);
  auto a = make_optimizer(
      adam(OptimizerKind::kAdam, 0.0, OptimizerKernels::kForeach), pa);
  auto b = make_optimizer(
      adam(OptimizerKind::kAdam, 0.0, OptimizerKernels::kForeach), pb);
  run_both(*a, pa, *b, pb, 0, 3);
  // b's conv weight becomes NHWC; its state is still NCHW.
  {
    torch::NoGradGuard no_grad;
    pb[0].set_data(pb[0].data().contiguous(at::MemoryFormat::ChannelsLast));
  }
  auto& state = static_cast<torch::optim::AdamParamState&>(
      *compat::optimizer_state_slot(b->state(), pb[0]));
  ASSERT_NE(state.exp_avg().strides(), pb[0].strides());
  EXPECT_LE(run_both(*a, pa, *b, pb, 3, 3), 1e-6);
  auto& now = static_cast<torch::optim::AdamParamState&>(
      *compat::optimizer_state_slot(b->state(), pb[0]));
  EXPECT_EQ(now.exp_avg().strides(), pb[0].strides());
  EXPECT_EQ(now.exp_avg_sq().strides(), pb[0].strides());
}

TEST(MultiTensorAdam, KernelsResolveByDeviceAndRefuseWhatCannotRun) {
  const c10::Device cpu(c10::kCPU);
  EXPECT_EQ(resolve_kernels(OptimizerKernels::kAuto, OptimizerKind::kAdam, cpu),
            OptimizerKernels::kForeach);
  EXPECT_EQ(resolve_kernels(OptimizerKernels::kLoop, OptimizerKind::kAdam, cpu),
            OptimizerKernels::kLoop);
  const c10::Device cuda(c10::kCUDA, 0);
  EXPECT_EQ(
      resolve_kernels(OptimizerKernels::kAuto, OptimizerKind::kAdam, cuda),
      OptimizerKernels::kFused);
  EXPECT_EQ(resolve_kernels(OptimizerKernels::kAuto, OptimizerKind::kSgd, cuda),
            OptimizerKernels::kForeach);
  test::expect_error(
      [&] {
        resolve_kernels(OptimizerKernels::kFused, OptimizerKind::kAdam, cpu);
      },
      {"train.optimizer_kernels", "CUDA only", "cpu"});
  test::expect_error(
      [&] {
        resolve_kernels(OptimizerKernels::kFused, OptimizerKind::kSgd, cuda);
      },
      {"train.optimizer_kernels", "sgd"});
  auto w = torch::ones({3}, torch::requires_grad());
  test::expect_error(
      [&] {
        make_optimizer(adam(OptimizerKind::kAdam, 0, OptimizerKernels::kFused),
                       {w});
      },
      {"train.optimizer_kernels"});
}

// CUDA only (the GPU machine runs it): the fused kernel against foreach.
TEST(MultiTensorAdam, FusedMatchesForeachOnCuda) {
  if (!util::cuda_available()) GTEST_SKIP() << "no CUDA device";
  const c10::Device cuda(c10::kCUDA, 0);
  for (auto kind : {OptimizerKind::kAdam, OptimizerKind::kAdamW}) {
    auto pa = make_params(3, cuda);
    auto pb = copies(pa);
    auto foreach =
        make_optimizer(adam(kind, 0.05, OptimizerKernels::kForeach), pa);
    auto fused = make_optimizer(adam(kind, 0.05, OptimizerKernels::kAuto), pb);
    // The fused kernel computes in another order (and with fused multiply-
    // adds): within float32 rounding of the 0.01-sized steps.
    EXPECT_LE(run_both(*foreach, pa, *fused, pb, 0, 20), 1e-5);
    // After a state round trip the device step counts follow the host's.
    load(*fused, saved(*foreach));
    EXPECT_LE(run_both(*foreach, pa, *fused, pb, 20, 5), 1e-5);
  }
}

// What a step captured as a CUDA graph (graph.h) needs of the host's step
// counts: a discarded capture takes back what it counted, and each replay
// of a kept one counts again for the parameters the capture counted. (On
// the CPU the "captured" steps simply run; only the counts are checked.)
TEST(MultiTensorAdam, CountsCapturedAndReplayedSteps) {
  auto params = make_params(6, c10::Device(c10::kCPU));
  auto opt = make_optimizer(
      adam(OptimizerKind::kAdam, 0, OptimizerKernels::kForeach), params);
  GraphSafeOptimizer* g = graph_safe(*opt);
  ASSERT_NE(g, nullptr);
  EXPECT_FALSE(g->capturable());  // foreach kernels, and the CPU
  EXPECT_THROW(g->set_device_lr(at::zeros({})), c10::Error);
  auto counts = [&] {
    std::vector<int64_t> out;
    for (const auto& p : params) {
      auto& slot = compat::optimizer_state_slot(opt->state(), p);
      out.push_back(
          slot ? static_cast<torch::optim::AdamParamState&>(*slot).step() : 0);
    }
    return out;
  };
  set_gradients(params, 0);
  opt->step();
  set_gradients(params, 1);  // parameter 2 has no gradient
  g->begin_capture();
  opt->step();
  g->end_capture(/*kept=*/false);
  EXPECT_EQ(counts(), (std::vector<int64_t>{1, 1, 1, 1}));
  g->begin_capture();
  opt->step();
  g->end_capture(/*kept=*/true);
  EXPECT_EQ(counts(), (std::vector<int64_t>{2, 2, 1, 2}));
  g->count_replay();
  g->count_replay();
  EXPECT_EQ(counts(), (std::vector<int64_t>{4, 4, 1, 4}));
  // Steps outside a capture are not replays' business.
  opt->step();
  g->count_replay();
  EXPECT_EQ(counts(), (std::vector<int64_t>{6, 6, 1, 6}));

  LoopConfig sgd;
  sgd.optimizer = OptimizerKind::kSgd;
  EXPECT_EQ(graph_safe(*make_optimizer(sgd, params)), nullptr);
  EXPECT_EQ(
      graph_safe(*make_optimizer(
          adam(OptimizerKind::kAdam, 0, OptimizerKernels::kLoop), params)),
      nullptr);
}

TEST(MultiTensorAdam, ClearGradientsDropsThem) {
  auto params = make_params(4, c10::Device(c10::kCPU));
  auto opt = make_optimizer(
      adam(OptimizerKind::kAdam, 0, OptimizerKernels::kForeach), params);
  set_gradients(params, 0);
  clear_gradients(*opt);
  for (const auto& p : params) EXPECT_FALSE(p.grad().defined());
}

TEST(ClipGradientNorm, AgreesWithLibTorchsWithoutAHostRead) {
  for (double max_norm : {0.5, 1e6}) {
    auto pa = make_params(5, c10::Device(c10::kCPU));
    auto pb = copies(pa);
    set_gradients(pa, 0);
    set_gradients(pb, 0);
    const double expected = torch::nn::utils::clip_grad_norm_(pa, max_norm);
    const at::Tensor norm = clip_gradient_norm(pb, max_norm);
    EXPECT_EQ(norm.dim(), 0);
    EXPECT_NEAR(norm.item<double>(), expected, 1e-5 * expected);
    for (size_t i = 0; i < pa.size(); ++i)
      EXPECT_TRUE(torch::allclose(pa[i].grad(), pb[i].grad(), 1e-5, 1e-7));
    if (max_norm < 1) {
      double total = 0;
      for (const auto& p : pb) total += p.grad().pow(2).sum().item<double>();
      EXPECT_NEAR(std::sqrt(total), max_norm, 1e-4);
    }
  }
}

TEST(EmaTeacher, MatchesThePerTensorUpdateAndFollowsLoadedWeights) {
  torch::manual_seed(0);
  auto student = models::create_model("smallnet", models::ModelOptions{3});
  auto teacher = student->clone_classifier();
  auto reference = student->clone_classifier();
  EmaTeacher ema(*teacher, *student);
  for (int step = 0; step < 3; ++step) {
    {
      torch::NoGradGuard no_grad;
      for (auto& p : student->parameters()) p.add_(torch::randn_like(p));
      for (auto& b : student->buffers()) {
        if (b.is_floating_point())
          b.add_(0.5);
        else
          b.add_(1);
      }
      // The reference: the per-tensor formula.
      auto rp = reference->parameters();
      auto sp = student->parameters();
      for (size_t i = 0; i < rp.size(); ++i) rp[i].mul_(0.9).add_(sp[i], 0.1);
      auto rb = reference->buffers();
      auto sb = student->buffers();
      for (size_t i = 0; i < rb.size(); ++i) {
        if (rb[i].is_floating_point())
          rb[i].mul_(0.9).add_(sb[i], 0.1);
        else
          rb[i].copy_(sb[i]);
      }
    }
    ema.update(0.9);
  }
  auto tp = teacher->named_parameters();
  for (const auto& r : reference->named_parameters())
    EXPECT_TRUE(torch::equal(tp[r.key()], r.value())) << r.key();
  auto tb = teacher->named_buffers();
  for (const auto& r : reference->named_buffers())
    EXPECT_TRUE(torch::equal(tb[r.key()], r.value())) << r.key();
  // Weights loaded into the modules in place (a resume) are what the next
  // update reads and writes.
  auto other = models::create_model("smallnet", models::ModelOptions{3});
  std::stringstream bytes;
  {
    torch::serialize::OutputArchive archive;
    other->save(archive);
    archive.save_to(bytes);
  }
  {
    torch::serialize::InputArchive archive;
    archive.load_from(bytes);
    student->load(archive);
  }
  ema.update(0.0);
  auto op = other->named_parameters();
  for (const auto& t : teacher->named_parameters())
    EXPECT_TRUE(torch::equal(t.value(), op[t.key()])) << t.key();
  test::expect_error([&] { ema.update(-0.1); }, {"decay"});
}

}  // namespace semifer::train
