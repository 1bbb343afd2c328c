#include "semifer/data/loader.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <chrono>
#include <map>
#include <thread>

#include "augment/batched_support.h"
#include "semifer/data/synthetic.h"
#include "semifer/util/error.h"
#include "semifer/util/strings.h"
#include "support/support.h"

namespace semifer::data {

using test::TempDir;

namespace {

// A labeled folder with uneven classes, an unlabeled flat folder, and
// optionally one undecodable image in each.
std::shared_ptr<const Dataset> make_dataset(const TempDir& tmp, bool broken,
                                            OnError policy) {
  static const char* kClasses[3] = {"happy", "sad", "neutral"};
  const int counts[3] = {12, 5, 3};
  int seed = 0;
  for (int c = 0; c < 3; ++c) {
    for (int i = 0; i < counts[c]; ++i) {
      util::Generator gen({static_cast<uint64_t>(++seed)});
      io::write_image(
          tmp.file(semifer::str("lab/", kClasses[c], "/", i, ".png")),
          render_face(kHappiness, 20, gen));
    }
  }
  for (int i = 0; i < 9; ++i) {
    util::Generator gen({static_cast<uint64_t>(++seed)});
    io::write_image(tmp.file(semifer::str("pool/", i, ".png")),
                    render_face(kSurprise, 20, gen));
  }
  if (broken) {
    test::write_text_file(tmp.file("lab/sad/broken.png"), "not a png");
    test::write_text_file(tmp.file("pool/broken.jpg"), "not a jpeg");
  }
  DataConfig config;
  config.sampling.per_class = 4;
  config.sampling.leftovers_to_unlabeled = false;
  SourceConfig lab;
  lab.format = Format::kFolder;
  lab.root = tmp.file("lab");
  lab.on_image_error = policy;
  SourceConfig pool = lab;
  pool.role = Role::kUnlabeled;
  pool.root = tmp.file("pool");
  config.labeled = {lab};
  config.unlabeled = {pool};
  return std::make_shared<const Dataset>(build_dataset(config));
}

augment::AugmentConfig small_views() {
  augment::AugmentConfig a;
  a.size = 16;
  return a;
}

LoaderConfig loader_config(int threads) {
  LoaderConfig c;
  c.batch_labeled = 5;
  c.batch_unlabeled = 4;
  c.threads = threads;
  c.prefetch = 3;
  c.seed = 11;
  return c;
}

void expect_same(const Step& a, const Step& b) {
  EXPECT_EQ(a.step, b.step);
  EXPECT_TRUE(torch::equal(a.labeled.x_weak, b.labeled.x_weak))
      << "step " << a.step;
  EXPECT_TRUE(torch::equal(a.labeled.y, b.labeled.y));
  EXPECT_TRUE(torch::equal(a.unlabeled.x_weak, b.unlabeled.x_weak));
  EXPECT_TRUE(torch::equal(a.unlabeled.x_strong, b.unlabeled.x_strong));
  EXPECT_TRUE(torch::equal(a.unlabeled.index, b.unlabeled.index));
}

}  // namespace

TEST(Loader, BatchesHaveTheDocumentedShapes) {
  TempDir tmp;
  auto ds = make_dataset(tmp, false, OnError::kSkip);
  Loader loader(ds, small_views(), loader_config(2));
  const Step s = loader.next();
  EXPECT_EQ(s.step, 0);
  EXPECT_EQ(s.labeled.x_weak.sizes(), (std::vector<int64_t>{5, 3, 16, 16}));
  EXPECT_EQ(s.labeled.x_weak.scalar_type(), torch::kFloat32);
  EXPECT_EQ(s.labeled.y.scalar_type(), torch::kInt64);
  EXPECT_EQ(s.unlabeled.x_strong.sizes(), (std::vector<int64_t>{4, 3, 16, 16}));
  for (int i = 0; i < 5; ++i) {
    const int64_t k = s.labeled.index[i].item<int64_t>();
    EXPECT_EQ(s.labeled.y[i].item<int64_t>(), ds->labeled[k].label);
  }
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(s.unlabeled.hidden_label[i].item<int64_t>(), -1);
    EXPECT_EQ(s.unlabeled.source[i].item<int64_t>(), 1);
  }
  // Normalised ImageNet-style: values around 0, not 0..255.
  EXPECT_LT(s.labeled.x_weak.abs().max().item<float>(), 3.0f);
  EXPECT_FALSE(torch::equal(s.unlabeled.x_weak, s.unlabeled.x_strong));
  EXPECT_EQ(loader.position(), 1);
}

TEST(Loader, DeviceViewsRenderedLaterEqualTheCpuViews) {
  TempDir tmp;
  auto ds = make_dataset(tmp, false, OnError::kSkip);
  augment::AugmentConfig views = small_views();
  views.size = 24;
  LoaderConfig deferred = loader_config(2);
  deferred.device_views = true;
  Loader cpu(ds, views, loader_config(2));
  Loader device(ds, views, deferred, 0);
  int geometric = 0;
  for (int s = 0; s < 5; ++s) {
    const Step want = cpu.next();
    Step got = device.next();
    EXPECT_FALSE(got.labeled.x_weak.defined());
    EXPECT_FALSE(got.unlabeled.x_strong.defined());
    ASSERT_EQ(got.labeled.images.sizes(), (std::vector<int64_t>{5, 24, 24, 3}));
    EXPECT_EQ(got.labeled.images.scalar_type(), torch::kUInt8);
    EXPECT_EQ(got.unlabeled.strong_plans.ops.size(0), 4);
    const auto strong_ops = got.unlabeled.strong_plans.ops.clone();
    render_step_views(got, views, torch::Device(torch::kCPU));
    EXPECT_FALSE(got.labeled.images.defined());
    EXPECT_FALSE(got.unlabeled.images.defined());
    // One tensor for the step: the views are slices of it.
    EXPECT_EQ(got.unlabeled.x_strong.data_ptr<float>(),
              got.labeled.x_weak.data_ptr<float>() + (5 + 4) * 3 * 24 * 24);
    // Same samples, same plans, same arithmetic: the same step, but for the
    // strong views with a geometric op, which stay within the bound.
    EXPECT_TRUE(torch::equal(want.labeled.x_weak, got.labeled.x_weak));
    EXPECT_TRUE(torch::equal(want.labeled.y, got.labeled.y));
    EXPECT_TRUE(torch::equal(want.unlabeled.x_weak, got.unlabeled.x_weak));
    EXPECT_TRUE(torch::equal(want.unlabeled.index, got.unlabeled.index));
    for (int64_t i = 0; i < 4; ++i) {
      const auto w = want.unlabeled.x_strong.narrow(0, i, 1);
      const auto g = got.unlabeled.x_strong.narrow(0, i, 1);
      const auto op = strong_ops[i];
      if ((op.ge(1) & op.le(5)).any().item<bool>()) {  // ShearX .. Rotate
        geometric += 1;
        augment::test_support::expect_geometric_bound(
            augment::test_support::compare(w, g, views), "strong view");
      } else {
        EXPECT_TRUE(torch::equal(w, g)) << "step " << s << " sample " << i;
      }
    }
    EXPECT_TRUE(torch::equal(want.labeled.index, got.labeled.index));
    EXPECT_TRUE(torch::equal(want.unlabeled.source, got.unlabeled.source));
    EXPECT_TRUE(
        torch::equal(want.unlabeled.hidden_label, got.unlabeled.hidden_label));
    // A step without images (the CPU path's) is left as it is.
    Step again = want;
    render_step_views(again, views, torch::Device(torch::kCPU));
    EXPECT_TRUE(again.labeled.x_weak.is_same(want.labeled.x_weak));
  }
  EXPECT_GT(geometric, 0) << "no strong view with a geometric op was tested";
}

TEST(Loader, SameStepsWhateverTheNumberOfThreads) {
  TempDir tmp;
  auto ds = make_dataset(tmp, false, OnError::kSkip);
  Loader one(ds, small_views(), loader_config(1));
  Loader three(ds, small_views(), loader_config(3));
  for (int s = 0; s < 6; ++s) expect_same(one.next(), three.next());
}

TEST(Loader, StartingAtAStepResumesTheSameStream) {
  TempDir tmp;
  auto ds = make_dataset(tmp, false, OnError::kSkip);
  Loader full(ds, small_views(), loader_config(2));
  for (int s = 0; s < 4; ++s) full.next();
  Loader resumed(ds, small_views(), loader_config(2), 4);
  for (int s = 0; s < 3; ++s) expect_same(full.next(), resumed.next());
}

TEST(Loader, EpochsAreClassBalanced) {
  TempDir tmp;
  auto ds = make_dataset(tmp, false, OnError::kSkip);
  LoaderConfig c = loader_config(2);
  c.batch_labeled = 4;  // epoch = 3 classes x 4 = 12 samples = 3 steps
  c.batch_unlabeled = 0;
  Loader loader(ds, small_views(), c);
  std::map<int64_t, int> per_class;
  for (int s = 0; s < 3; ++s) {
    const Step st = loader.next();
    EXPECT_FALSE(st.unlabeled.x_weak.defined());
    for (int i = 0; i < 4; ++i) ++per_class[st.labeled.y[i].item<int64_t>()];
  }
  ASSERT_EQ(per_class.size(), 3u);
  for (const auto& [label, n] : per_class) EXPECT_EQ(n, 4) << label;
}

TEST(Loader, WorkerErrorReachesTheConsumerNamingTheFile) {
  TempDir tmp;
  auto ds = make_dataset(tmp, true, OnError::kFail);
  LoaderConfig c = loader_config(2);
  c.batch_labeled = 16;  // the broken image is in every labeled epoch
  Loader loader(ds, small_views(), c);
  try {
    for (int s = 0; s < 4; ++s) loader.next();
    ADD_FAILURE() << "expected a decode error";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("broken"), std::string::npos)
        << e.what();
  }
  // The loader stays failed, and destroying it does not hang.
}

TEST(Loader, UndecodableImagesAreReplacedAndCountedUnderSkip) {
  TempDir tmp;
  auto ds = make_dataset(tmp, true, OnError::kSkip);
  LoaderConfig c = loader_config(2);
  c.batch_labeled = 16;
  Loader loader(ds, small_views(), c);
  for (int s = 0; s < 4; ++s) {
    const Step st = loader.next();
    for (int i = 0; i < 16; ++i) {
      const int64_t k = st.labeled.index[i].item<int64_t>();
      EXPECT_EQ(st.labeled.y[i].item<int64_t>(), ds->labeled[k].label);
    }
  }
  EXPECT_GT(loader.skipped_images(), 0);
  EXPECT_NE(loader.skipped_examples().at(0).find("broken"), std::string::npos);
}

TEST(Loader, ConsumerStoppingEarlyDoesNotDeadlock) {
  TempDir tmp;
  auto ds = make_dataset(tmp, false, OnError::kSkip);
  for (int threads : {1, 4}) {
    { Loader never_read(ds, small_views(), loader_config(threads)); }
    {
      LoaderConfig c = loader_config(threads);
      c.prefetch = 1;
      Loader read_once(ds, small_views(), c);
      read_once.next();
    }
  }
  SUCCEED();
}

// Each thread builds one step at a time: fewer steps ahead than threads
// would leave threads idle while the consumer waits (a GPU's loader runs 14
// threads with the default prefetch of 4).
TEST(Loader, EveryThreadHasAStepToBuild) {
  LoaderConfig c;
  c.threads = 14;
  c.prefetch = 4;
  EXPECT_EQ(c.steps_ahead(), 14);
  c.prefetch = 32;
  EXPECT_EQ(c.steps_ahead(), 32);
  // While the consumer waits, every one of 4 threads builds a step, though
  // prefetch is 1; and no more are built.
  TempDir tmp;
  auto ds = make_dataset(tmp, false, OnError::kSkip);
  LoaderConfig four = loader_config(4);
  four.prefetch = 1;
  Loader loader(ds, small_views(), four);
  const auto until =
      std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (loader.ready() < 4 && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(loader.ready(), 4);
  EXPECT_EQ(loader.next().step, 0);
}

TEST(Loader, RejectsImpossibleConfigs) {
  TempDir tmp;
  auto ds = make_dataset(tmp, false, OnError::kSkip);
  LoaderConfig c = loader_config(1);
  c.threads = 0;
  test::expect_error([&] { Loader(ds, small_views(), c); }, {"threads"});
  c = loader_config(1);
  c.batch_labeled = c.batch_unlabeled = 0;
  test::expect_error([&] { Loader(ds, small_views(), c); }, {"batch"});
  DataConfig empty;
  SourceConfig pool;
  pool.format = Format::kFolder;
  pool.role = Role::kUnlabeled;
  pool.root = tmp.file("pool");
  empty.unlabeled = {pool};
  auto no_labeled = std::make_shared<const Dataset>(build_dataset(empty));
  test::expect_error(
      [&] { Loader(no_labeled, small_views(), loader_config(1)); },
      {"labeled pool is empty"});
}

}  // namespace semifer::data
