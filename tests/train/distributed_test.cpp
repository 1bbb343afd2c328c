// Data-parallel training (issue 13) on the CPU with Gloo over loopback: the
// launch environment, the collectives, the bucketed gradient average, and
// two ranks (threads of this process, each with its own Group) against one
// process with twice the batch.
#include "semifer/train/distributed.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <torch/torch.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <mutex>
#include <thread>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include "semifer/data/dataset.h"
#include "semifer/data/loader.h"
#include "semifer/data/synthetic.h"
#include "semifer/io/metrics_log.h"
#include "semifer/models/classifier.h"
#include "semifer/train/gradient_reducer.h"
#include "semifer/train/optimizer.h"
#include "semifer/train/state.h"
#include "semifer/train/step.h"
#include "semifer/train/trainer.h"
#include "support/support.h"

namespace semifer::test {

namespace {

int free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

train::LaunchEnv rank_env(int rank, int world, int port) {
  train::LaunchEnv env;
  env.present = true;
  env.rank = rank;
  env.world_size = world;
  env.local_rank = rank;
  env.local_world_size = world;
  env.master_port = port;
  return env;
}

// Runs fn(rank, group) on `world` threads, one group each; rethrows the
// first failure.
void on_ranks(int world, const std::function<void(int, train::Group&)>& fn,
              double timeout_s = 60,
              const std::function<void(train::LaunchEnv&)>& tweak = {}) {
  const int port = free_port();
  train::DistributedConfig dc;
  dc.timeout_s = timeout_s;
  std::vector<std::thread> threads;
  std::vector<std::exception_ptr> errors(static_cast<size_t>(world));
  for (int r = 0; r < world; ++r) {
    threads.emplace_back([&, r] {
      try {
        train::LaunchEnv env = rank_env(r, world, port);
        if (tweak) tweak(env);
        auto g = train::Group::join(env, dc, c10::Device(c10::kCPU));
        fn(r, *g);
      } catch (...) {
        errors[r] = std::current_exception();
      }
    });
  }
  for (auto& t : threads) t.join();
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
}

// A rendezvous store served on `port` of 127.0.0.1 by this process (as
// torchrun's agent, or a previous start's rank 0, serves one).
c10::intrusive_ptr<c10d::TCPStore> serve_store(int port) {
  c10d::TCPStoreOptions o;
  o.port = static_cast<uint16_t>(port);
  o.isServer = true;
  o.waitWorkers = false;
  return c10::make_intrusive<c10d::TCPStore>("127.0.0.1", o);
}

train::EnvReader vars(std::map<std::string, std::string> m) {
  return [m](const std::string& k) -> std::optional<std::string> {
    auto it = m.find(k);
    if (it == m.end()) return std::nullopt;
    return it->second;
  };
}

at::Tensor flat(const std::vector<at::Tensor>& ts) {
  std::vector<at::Tensor> parts;
  for (const auto& t : ts) parts.push_back(t.detach().flatten());
  return torch::cat(parts);
}

}  // namespace

TEST(LaunchEnv, ReadsTorchrunsVariables) {
  EXPECT_FALSE(train::read_launch_env(vars({})).present);
  const auto env =
      train::read_launch_env(vars({{"RANK", "3"},
                                   {"WORLD_SIZE", "4"},
                                   {"LOCAL_RANK", "1"},
                                   {"LOCAL_WORLD_SIZE", "2"},
                                   {"MASTER_ADDR", "10.0.0.7"},
                                   {"MASTER_PORT", "29400"},
                                   {"TORCHELASTIC_USE_AGENT_STORE", "True"},
                                   {"TORCHELASTIC_RESTART_COUNT", "2"},
                                   {"TORCHELASTIC_MAX_RESTARTS", "5"},
                                   {"GLOO_SOCKET_IFNAME", "eth1"}}));
  EXPECT_TRUE(env.present);
  EXPECT_EQ(env.rank, 3);
  EXPECT_EQ(env.world_size, 4);
  EXPECT_EQ(env.local_rank, 1);
  EXPECT_EQ(env.local_world_size, 2);
  EXPECT_EQ(env.master_addr, "10.0.0.7");
  EXPECT_EQ(env.master_port, 29400);
  EXPECT_TRUE(env.agent_store);
  EXPECT_EQ(env.restart_count, 2);
  EXPECT_EQ(env.max_restarts, 5);
  EXPECT_EQ(env.socket_ifname, "eth1");
}

TEST(LaunchEnv, RefusesBadSettingsInOneLine) {
  const std::map<std::string, std::string> ok = {
      {"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "127.0.0.1"}};
  auto with = [&](const std::string& k, const std::string& v) {
    auto m = ok;
    m[k] = v;
    return vars(m);
  };
  expect_error([&] { train::read_launch_env(with("WORLD_SIZE", "0")); },
               {"WORLD_SIZE=0", "[1,"});
  expect_error([&] { train::read_launch_env(with("RANK", "2")); },
               {"RANK=2", "[0, 1]"});
  expect_error([&] { train::read_launch_env(with("RANK", "one")); },
               {"RANK='one'", "not an integer"});
  expect_error([&] { train::read_launch_env(with("MASTER_PORT", "70000")); },
               {"MASTER_PORT=70000"});
  expect_error(
      [&] {
        train::read_launch_env(vars({{"RANK", "0"}}));
      },
      {"RANK and WORLD_SIZE"});
  expect_error(
      [&] {
        train::read_launch_env(vars({{"RANK", "0"}, {"WORLD_SIZE", "2"}}));
      },
      {"MASTER_ADDR"});
}

TEST(Group, RefusesAPortInUse) {
  // Rank 0 serves the store; another job's rank 0 on the same port is
  // refused in one line.
  const int port = free_port();
  train::DistributedConfig dc;
  dc.timeout_s = 5;
  const auto first =
      train::Group::join(rank_env(0, 1, port), dc, c10::Device(c10::kCPU));
  expect_error(
      [&] {
        train::Group::join(rank_env(0, 2, port), dc, c10::Device(c10::kCPU));
      },
      {"rank 0 cannot serve the store", std::to_string(port)});
}

TEST(Group, NoStoreToReachIsAOneLineErrorWithinTheTimeout) {
  train::DistributedConfig dc;
  dc.timeout_s = 2;
  const auto start = std::chrono::steady_clock::now();
  expect_error(
      [&] {
        train::Group::join(rank_env(1, 2, free_port()), dc,
                           c10::Device(c10::kCPU));
      },
      {"rank 1 cannot reach the store at 127.0.0.1:", "within 2 s"});
  EXPECT_LT(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count(),
      20);
}

TEST(Group, JoinsTorchrunsAgentStore) {
  // Recent torchrun serves the store in its agent: every rank, 0 included,
  // connects as a client under /worker/attempt_<restart count>.
  const int port = free_port();
  auto agent = serve_store(port);
  train::DistributedConfig dc;
  dc.timeout_s = 20;
  std::vector<std::thread> threads;
  std::vector<float> sums(2, 0);
  for (int r = 0; r < 2; ++r) {
    threads.emplace_back([&, r] {
      auto env = rank_env(r, 2, port);
      env.agent_store = true;
      env.restart_count = 1;
      auto g = train::Group::join(env, dc, c10::Device(c10::kCPU));
      std::vector<at::Tensor> t = {torch::full({1}, r + 1.0f)};
      g->all_reduce_sum(t);
      sums[r] = t[0].item<float>();
      EXPECT_TRUE(g->any(r == 1));  // both alive until here
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(sums, (std::vector<float>{3, 3}));
  // The ranks' keys live under the attempt's prefix, in the agent's store.
  EXPECT_TRUE(agent->check({"/worker/attempt_1/semifer/beat/0"}));
  EXPECT_TRUE(agent->check({"/worker/attempt_1/semifer/beat/1"}));
}

// A restarted start (TORCHELASTIC_RESTART_COUNT 1) on several machines: its
// rank 1 may reach the previous start's store, still served by a rank 0
// winding down elsewhere (holding a stale key). When that store goes away
// the rank tries again, and meets the new rank 0 on the same port.
TEST(Group, ARestartedRankWaitsOutThePreviousStartsStore) {
  const int port = free_port();
  auto previous = serve_store(port);
  previous->set("semifer/gloo/0", std::vector<uint8_t>{1, 2, 3});  // stale
  train::DistributedConfig dc;
  dc.timeout_s = 30;
  std::vector<float> sums(2, 0);
  auto rank = [&](int r) {
    try {
      auto env = rank_env(r, 2, port);
      env.restart_count = 1;
      auto g = train::Group::join(env, dc, c10::Device(c10::kCPU));
      std::vector<at::Tensor> t = {torch::full({1}, r + 1.0f)};
      g->all_reduce_sum(t);
      sums[r] = t[0].item<float>();
      EXPECT_TRUE(g->any(r == 1));
    } catch (const std::exception& e) {
      ADD_FAILURE() << "rank " << r << ": " << e.what();
    }
  };
  std::thread one([&] { rank(1); });
  // Rank 1 reaches the previous store (a key beside the stale one) and
  // waits there for this start's rank 0.
  for (int i = 0; i < 500 && previous->getNumKeys() < 2; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_GE(previous->getNumKeys(), 2) << "rank 1 never reached the store";
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  previous.reset();  // the previous rank 0 exits
  std::thread zero([&] { rank(0); });
  one.join();
  zero.join();
  EXPECT_EQ(sums, (std::vector<float>{3, 3}));
}

// Where Gloo binds: 127.0.0.1 for a loopback master, GLOO_SOCKET_IFNAME's
// interface when set, else the address on the route to MASTER_ADDR (here
// this machine's own non-loopback address: its host name resolves to
// 127.0.0.1 on the development VM, which other machines could not reach).
TEST(Group, GlooBindsTheAddressOnTheRouteToTheMaster) {
  std::string own;
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) == 0) {
    for (ifaddrs* i = list; i && own.empty(); i = i->ifa_next) {
      if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET ||
          (i->ifa_flags & IFF_LOOPBACK) || !(i->ifa_flags & IFF_UP))
        continue;
      char text[INET_ADDRSTRLEN] = {0};
      inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(i->ifa_addr)->sin_addr,
                text, sizeof(text));
      own = text;
    }
    freeifaddrs(list);
  }
  on_ranks(2, [&](int, train::Group& g) {
    EXPECT_EQ(g.gloo_address(), "127.0.0.1");
  });
  on_ranks(
      2, [&](int, train::Group& g) { EXPECT_EQ(g.gloo_address(), "lo"); }, 60,
      [](train::LaunchEnv& env) { env.socket_ifname = "lo"; });
  if (own.empty()) GTEST_SKIP() << "no non-loopback IPv4 address here";
  std::vector<float> sums(2, 0);
  on_ranks(
      2,
      [&](int r, train::Group& g) {
        EXPECT_EQ(g.gloo_address(), own);
        std::vector<at::Tensor> t = {torch::full({1}, r + 1.0f)};
        g.all_reduce_sum(t);
        sums[r] = t[0].item<float>();
      },
      60, [&](train::LaunchEnv& env) { env.master_addr = own; });
  EXPECT_EQ(sums, (std::vector<float>{3, 3}));
}

TEST(Group, CollectivesAgreeAcrossRanks) {
  std::vector<std::vector<float>> seen(3);
  on_ranks(3, [&](int r, train::Group& g) {
    std::vector<at::Tensor> t = {torch::full({2}, r + 1.0f),
                                 torch::full({3}, int64_t{r}, torch::kInt64)};
    g.all_reduce_sum(t);
    EXPECT_TRUE(torch::equal(t[0], torch::full({2}, 6.0f)));
    EXPECT_TRUE(torch::equal(t[1], torch::full({3}, int64_t{3})));
    std::vector<at::Tensor> m = {torch::tensor({float(r), -float(r)})};
    g.all_reduce_max(m);
    EXPECT_TRUE(torch::equal(m[0], torch::tensor({2.0f, 0.0f})));
    std::vector<at::Tensor> b = {torch::full({4}, float(r))};
    g.broadcast(b, 1);
    EXPECT_TRUE(torch::equal(b[0], torch::full({4}, 1.0f)));
    const auto all = g.all_gather(torch::tensor({r * 10, r * 10 + 1}));
    EXPECT_TRUE(torch::equal(all, torch::tensor({0, 1, 10, 11, 20, 21})));
    EXPECT_TRUE(g.any(r == 2));
    EXPECT_FALSE(g.any(false));
    EXPECT_EQ(g.broadcast_bytes(r == 0 ? std::string("abc\0d", 5) : ""),
              std::string("abc\0d", 5));
  });
}

TEST(GradientReducer, AveragesRanksIntoTheWholeBatchsGradient) {
  // A linear model without BatchNorm: the mean of the ranks' gradients of
  // their batch means is the gradient of the whole batch's mean, to float
  // precision, identical on every rank, over several buckets.
  torch::manual_seed(7);
  const auto x = torch::randn({12, 20});
  const auto y = torch::randint(0, 5, {12}, torch::kInt64);
  torch::nn::Linear ref(20, 5);
  torch::nn::functional::cross_entropy(ref(x), y).backward();
  const at::Tensor want = flat({ref->weight.grad(), ref->bias.grad()});
  std::vector<at::Tensor> got(3);
  on_ranks(3, [&](int r, train::Group& g) {
    torch::nn::Linear net(20, 5);
    {
      torch::NoGradGuard no_grad;
      net->weight.copy_(ref->weight);
      net->bias.copy_(ref->bias);
    }
    // 0.00001 MB (10 bytes): bias and weight land in buckets of their own.
    train::GradientReducer reducer(
        std::shared_ptr<train::Group>(&g, [](train::Group*) {}),
        net->parameters(), 0.00001);
    EXPECT_EQ(reducer.bucket_sizes(), (std::vector<int64_t>{1, 1}));
    for (int repeat = 0; repeat < 2; ++repeat) {
      net->zero_grad();
      torch::nn::functional::cross_entropy(net(x.narrow(0, 4 * r, 4)),
                                           y.narrow(0, 4 * r, 4))
          .backward();
      reducer.finish();
    }
    got[r] = flat({net->weight.grad(), net->bias.grad()});
  });
  EXPECT_TRUE(torch::allclose(got[0], want, 1e-5, 1e-6));
  EXPECT_TRUE(torch::equal(got[0], got[1]));
  EXPECT_TRUE(torch::equal(got[0], got[2]));
}

namespace {

// A classifier without BatchNorm or dropout: a linear map of the pixels.
class TinyNetImpl : public models::ClassifierImpl {
 public:
  explicit TinyNetImpl(int64_t classes, int64_t size)
      : classes_(classes), size_(size) {
    fc_ = register_module("fc", torch::nn::Linear(3 * size * size, classes));
  }
  at::Tensor forward(const at::Tensor& x) override { return fc_(x.flatten(1)); }
  at::Tensor forward_features(const at::Tensor& x) override {
    return x.flatten(1);
  }
  int64_t num_features() const override { return 3 * size_ * size_; }
  int64_t num_classes() const override { return classes_; }
  std::string arch() const override { return "tiny"; }
  std::string head_prefix() const override { return "fc."; }

 protected:
  std::shared_ptr<models::ClassifierImpl> make_like() const override {
    return std::make_shared<TinyNetImpl>(classes_, size_);
  }

 private:
  int64_t classes_, size_;
  torch::nn::Linear fc_{nullptr};
};

struct Synthetic {
  TempDir dir;
  std::shared_ptr<data::Dataset> dataset;
  train::TrainConfig config;
};

void synthetic_run(Synthetic& s) {
  data::SyntheticConfig sc;
  sc.out_dir = s.dir.file("data");
  sc.size = 32;
  sc.scale = 0.3;
  sc.videos = 1;
  sc.frames = 10;
  const auto data = data::write_synthetic_dataset(sc);
  const std::string cfg = write_text_file(
      s.dir.file("train.yaml"),
      "data: " + data.config_path +
          "\naugment: {size: 32}\nmodel: {name: smallnet, dropout: 0}\n"
          "train: {epochs: 2, steps_per_epoch: 10, batch_labeled: 8, "
          "batch_unlabeled: 8, log_every: 5, threads: 1, device: cpu, "
          "deterministic: true}\n"
          "ssl: {dtm_per_class: 10, tau: 0.3, alignment: labeled}\n"
          "eval: {max_samples: 40}\n");
  s.config = train::load_train_config(cfg);
  s.dataset =
      std::make_shared<data::Dataset>(data::build_dataset(s.config.data));
}

// 10 semi-supervised steps of TinyNet with SGD; `group` null: one process.
// (Longer, the pseudo-label masks start to flip on float-level differences
// and the runs part for that reason: 20 steps give 1e-4.)
at::Tensor tiny_steps(const Synthetic& s, int64_t batch, train::Group* group) {
  const int classes = static_cast<int>(s.dataset->classes.names().size());
  train::TrainState st;
  {
    // The ranks are threads sharing torch's generator: one at a time, and
    // the clone inside the lock too (it builds a network, which draws
    // initial weights, before copying the student's over them).
    static std::mutex init;
    std::lock_guard<std::mutex> lock(init);
    torch::manual_seed(3);
    st.student = std::make_shared<TinyNetImpl>(classes, 32);
    st.teacher = st.student->clone_classifier();
  }
  train::LoopConfig loop = s.config.train;
  loop.optimizer = train::OptimizerKind::kSgd;
  loop.lr = 0.05;
  st.optimizer = train::make_optimizer(loop, st.student->parameters());
  st.thresholds = train::DynamicThresholds(classes, 0.3, 0.9, false);
  std::vector<double> prior(static_cast<size_t>(classes), 1.0 / classes);
  st.labeler = train::PseudoLabeler(
      s.config.ssl, classes, static_cast<int64_t>(s.dataset->unlabeled.size()),
      prior, c10::Device(c10::kCPU));
  st.thresholds_changed();
  st.window = train::MetricWindow(classes, c10::Device(c10::kCPU));
  data::LoaderConfig lc;
  lc.batch_labeled = batch;
  lc.batch_unlabeled = batch;
  lc.threads = 1;
  std::unique_ptr<train::GradientReducer> reducer;
  train::StepOptions so;
  so.ssl = s.config.ssl;
  if (group) {
    lc.rank = group->rank();
    lc.world_size = group->size();
    auto shared = std::shared_ptr<train::Group>(group, [](train::Group*) {});
    reducer = std::make_unique<train::GradientReducer>(
        shared, st.student->parameters(), 0.01);
    so.after_backward = [&](train::TrainState&) { reducer->finish(); };
    train::PseudoLabeler::RankSync sync;
    sync.world_size = group->size();
    sync.mean = [group](at::Tensor& t) {
      std::vector<at::Tensor> v = {t};
      group->all_reduce_sum(v);
      t.div_(group->size());
    };
    sync.gather = [group](const at::Tensor& t) { return group->all_gather(t); };
    st.labeler.set_rank_sync(sync);
    // Rank 0's start, as the Trainer broadcasts it.
    std::vector<at::Tensor> start;
    for (auto& p : st.student->parameters()) start.push_back(p.data());
    for (auto& p : st.teacher->parameters()) start.push_back(p.data());
    group->broadcast(start);
  }
  data::Loader loader(s.dataset, s.config.augment, lc);
  st.student->train();
  for (int i = 0; i < 10; ++i) {
    train::semi_supervised_step(st, loader.next(), so);
    ++st.step;
  }
  return flat(st.student->parameters());
}

}  // namespace

TEST(DataParallel, RanksDrawDisjointSharesOfTheWholeStep) {
  Synthetic s;
  synthetic_run(s);
  auto loader = [&](int64_t batch, int rank, int world) {
    data::LoaderConfig lc;
    lc.batch_labeled = batch;
    lc.batch_unlabeled = batch;
    lc.threads = 1;
    lc.rank = rank;
    lc.world_size = world;
    return std::make_unique<data::Loader>(s.dataset, s.config.augment, lc, 3);
  };
  auto whole = loader(12, 0, 1);
  auto r0 = loader(4, 0, 3), r1 = loader(4, 1, 3), r2 = loader(4, 2, 3);
  for (int step = 3; step < 6; ++step) {
    const auto w = whole->next();
    const auto a = r0->next(), b = r1->next(), c = r2->next();
    EXPECT_TRUE(torch::equal(
        w.labeled.x_weak,
        torch::cat({a.labeled.x_weak, b.labeled.x_weak, c.labeled.x_weak})));
    EXPECT_TRUE(torch::equal(
        w.labeled.y, torch::cat({a.labeled.y, b.labeled.y, c.labeled.y})));
    EXPECT_TRUE(torch::equal(
        w.unlabeled.index,
        torch::cat({a.unlabeled.index, b.unlabeled.index, c.unlabeled.index})));
    EXPECT_TRUE(
        torch::equal(w.unlabeled.x_strong,
                     torch::cat({a.unlabeled.x_strong, b.unlabeled.x_strong,
                                 c.unlabeled.x_strong})));
  }
}

TEST(DataParallel, TwoRanksWithoutBatchNormStepLikeOneWithTwiceTheBatch) {
  Synthetic s;
  synthetic_run(s);
  const at::Tensor one = tiny_steps(s, 16, nullptr);
  std::vector<at::Tensor> ranks(2);
  on_ranks(2, [&](int r, train::Group& g) { ranks[r] = tiny_steps(s, 8, &g); });
  EXPECT_TRUE(torch::equal(ranks[0], ranks[1]));
  // Float precision: the same sums in another order (per-rank batch means,
  // then their mean), over 10 steps of SGD.
  const double diff = (ranks[0] - one).abs().max().item<double>();
  EXPECT_LT(diff, 1e-5) << "largest difference " << diff;
  EXPECT_GT((one - tiny_steps(s, 8, nullptr)).abs().max().item<double>(),
            100 * diff)
      << "half the batch must differ by far more";
}

TEST(DataParallel, TwoTrainersAgreeEveryStepAndStayNearOneWithTwiceTheBatch) {
  Synthetic s;
  synthetic_run(s);
  // Both runs start from the same weights: the ranks here are threads that
  // share torch's generator, which the networks' initialisation draws from.
  {
    train::TrainConfig init = s.config;
    init.train.epochs = 1;
    init.train.steps_per_epoch = 1;
    init.ssl.enabled = false;
    train::RunOptions o;
    o.run_dir = s.dir.file("init");
    o.progress = false;
    train::run_training(init, o);
    s.config.model.weights = s.dir.file("init/checkpoint_last.pt");
  }
  // SGD: Adam moves every weight by about lr per step whatever its
  // gradient's size, so weights with tiny gradients would part by noise.
  s.config.train.optimizer = train::OptimizerKind::kSgd;
  s.config.train.lr = 0.02;
  // One process with the whole batch.
  train::TrainConfig whole = s.config;
  whole.train.batch_labeled = 16;
  whole.train.batch_unlabeled = 16;
  train::RunOptions one;
  one.run_dir = s.dir.file("one");
  one.progress = false;
  at::Tensor start;  // the weights before the first step
  one.after_backward = [&](train::TrainState& st) {
    if (!start.defined())
      start = flat(st.student->parameters()).to(torch::kFloat64).clone();
  };
  train::Trainer single(whole, one);
  single.run();
  const at::Tensor one_w =
      flat(single.state().student->parameters()).to(torch::kFloat64);

  std::vector<std::vector<at::Tensor>> grads(2);  // per step, after the mean
  std::vector<std::vector<io::MetricsLine>> lines(2);
  std::vector<at::Tensor> last(2), buffers(2);
  on_ranks(2, [&](int r, train::Group& g) {
    train::RunOptions o;
    o.run_dir = s.dir.file(r == 0 ? "two" : "two-rank1");
    o.progress = false;
    o.group = std::shared_ptr<train::Group>(&g, [](train::Group*) {});
    o.after_backward = [&, r](train::TrainState& st) {
      std::vector<at::Tensor> gs;
      for (const auto& p : st.student->parameters()) gs.push_back(p.grad());
      grads[r].push_back(flat(gs).clone());
    };
    o.on_metrics = [&, r](const io::MetricsLine& l) { lines[r].push_back(l); };
    train::Trainer trainer(s.config, o);
    trainer.run();
    last[r] = flat(trainer.state().student->parameters()).to(torch::kFloat64);
    buffers[r] = flat(trainer.state().student->buffers()).to(torch::kFloat64);
  });
  ASSERT_EQ(grads[0].size(), 20u);
  for (size_t i = 0; i < grads[0].size(); ++i)
    EXPECT_TRUE(torch::equal(grads[0][i], grads[1][i])) << "step " << i + 1;
  ASSERT_EQ(lines[0].size(), lines[1].size());
  for (size_t i = 0; i < lines[0].size(); ++i) {
    EXPECT_EQ(lines[0][i].tau, lines[1][i].tau) << "line " << i;
    EXPECT_EQ(lines[0][i].loss_labeled, lines[1][i].loss_labeled);
    if (lines[0][i].validation_b) {
      EXPECT_EQ(lines[0][i].validation_b->macro_f1,
                lines[1][i].validation_b->macro_f1);
    }
  }
  EXPECT_TRUE(torch::equal(last[0], last[1]));
  EXPECT_TRUE(torch::equal(buffers[0], buffers[1]));
  // Rank 0 alone wrote the run.
  EXPECT_TRUE(std::filesystem::exists(s.dir.file("two/metrics.jsonl")));
  EXPECT_FALSE(std::filesystem::exists(s.dir.file("two-rank1")));
  EXPECT_EQ(io::read_metrics(s.dir.file("two/metrics.jsonl")).size(),
            io::read_metrics(s.dir.file("one/metrics.jsonl")).size());

  // Against one process with the whole batch: BatchNorm normalises each
  // rank's third of [labeled; weak; strong] on its own, so the runs part
  // (the test without BatchNorm above agrees to float precision). The
  // tolerance: the two ranks must end nearer the run they stand for than a
  // process with one rank's batch does.
  train::TrainConfig half_cfg = s.config;
  train::RunOptions half;
  half.run_dir = s.dir.file("half");
  half.progress = false;
  train::Trainer halved(half_cfg, half);
  halved.run();
  const at::Tensor half_w =
      flat(halved.state().student->parameters()).to(torch::kFloat64);
  const double apart = (last[0] - one_w).norm().item<double>();
  const double control = (half_w - one_w).norm().item<double>();
  const double moved = (one_w - start).norm().item<double>();
  EXPECT_LT(apart, control)
      << "apart " << apart << ", half batch " << control << ", moved " << moved;
}

}  // namespace semifer::test
