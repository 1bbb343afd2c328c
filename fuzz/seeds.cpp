// Writes the seed corpus of every fuzz target, one folder per target, from
// the library's own writers and the test helpers (tests/support): valid
// files of each format, so that fuzzing starts from inputs that get past
// the first checks. scripts/fuzz and ctest (FuzzSeeds) run it.
//   fuzz_seeds OUT_DIR
#include <caffe2/serialize/inline_container.h>
#include <torch/torch.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "fuzz_support.h"
#include "semifer/infer/archive.h"
#include "semifer/infer/model_card.h"
#include "semifer/io/metrics_log.h"
#include "semifer/io/recordio.h"
#include "semifer/io/state_dict.h"
#include "semifer/util/strings.h"
#include "support/support.h"

namespace fs = std::filesystem;
using namespace semifer;

namespace {

fs::path out_dir;

void put(const std::string& target, const std::string& name,
         const std::string& bytes) {
  const fs::path dir = out_dir / target;
  fs::create_directories(dir);
  std::ofstream out(dir / name, std::ios::binary | std::ios::trunc);
  out << bytes;
  if (!out) fail("cannot write ", (dir / name).string());
}

void put(const std::string& target, const std::string& name,
         const std::vector<uint8_t>& bytes) {
  put(target, name, std::string(bytes.begin(), bytes.end()));
}

std::string slurp(const std::string& path) {
  const std::vector<uint8_t> b = util::read_file(path);
  return std::string(b.begin(), b.end());
}

// A text seed in both parities: targets that pick a mode by the input's
// size (even/odd) see each seed both ways.
void put_both(const std::string& target, const std::string& name,
              const std::string& text) {
  put(target, name + ".even", text.size() % 2 ? text + "\n" : text);
  put(target, name + ".odd", text.size() % 2 ? text : text + "\n");
}

std::string pixels(int seed) {
  std::string out;
  for (int i = 0; i < 48 * 48; ++i) {
    if (i) out += ' ';
    out += std::to_string((i * 7 + seed * 13) % 256);
  }
  return out;
}

void images(const test::TempDir& tmp) {
  put("image_decode", "pattern.jpg",
      io::encode_jpeg(test::pattern_image(16, 16)));
  put("image_decode", "pattern_q20.jpg",
      io::encode_jpeg(test::pattern_image(9, 5, 1), 20));
  put("image_decode", "pattern.png",
      io::encode_png(test::pattern_image(16, 16)));
  put("image_decode", "one_pixel.png",
      io::encode_png(test::pattern_image(1, 1)));
  put("image_decode", "written.jpg",
      slurp(test::write_pattern(tmp.file("p.jpg"), 7, 3, 2)));
}

void recordio(const test::TempDir& tmp) {
  const std::string rec = tmp.file("r/train.rec"),
                    idx = tmp.file("r/train.idx");
  fuzz::write_sample_recordio(rec, idx);
  put("recordio_idx", "train.idx", slurp(idx));
  const std::string index = slurp(idx);
  std::string reversed;
  for (const auto& line : util::split(index, '\n'))
    if (!line.empty()) reversed = std::string(line) + "\n" + reversed;
  put("recordio_idx", "reversed.idx", reversed);
  put("recordio_rec", "train.rec", slurp(rec));
  // A payload that holds the magic number is split into parts; labels in
  // the header (flag > 0) and an image that is not one.
  const std::string rec2 = tmp.file("r/split.rec"),
                    idx2 = tmp.file("r/split.idx");
  io::RecordWriter w(rec2, idx2);
  std::vector<uint8_t> image = io::encode_jpeg(test::pattern_image(4, 4));
  const uint32_t magic = io::kRecordMagic;
  const auto* m = reinterpret_cast<const uint8_t*>(&magic);
  image.insert(image.begin() + 8, m, m + 4);
  w.write(0, io::pack_image_record({1.0f, 2.0f, 3.0f}, 7, image));
  w.write(1, io::pack_image_record({4.0f}, 8, {1, 2, 3}));
  w.close();
  put("recordio_rec", "split.rec", slurp(rec2));
}

void annotations() {
  put("affectnet", "training.csv",
      "subDirectory_filePath,face_x,face_y,face_width,face_height,"
      "facial_landmarks,expression,valence,arousal\n"
      "a.jpg,1,1,6,6,\"1;2;3\",1,0.5,0.2\n"
      "sub/b.png,0,0,8,8,,3,-0.1,0.3\n"
      "missing.jpg,0,0,4,4,,0,0,0\n"
      "a.jpg,0,0,4,4,,7,0,0\n");
  put("affectnet", "training_odd.csv", "a.jpg,2,2,3,3,,6,0,0\n\n");
  put("affwild2", "video.txt",
      "Neutral,Anger,Disgust,Fear,Happiness,Sadness,Surprise,Other\n"
      "4\n-1\n2\n7\n");
  put("csv_list", "list.csv", "a.jpg,Happiness\nhappy/b.png,3\n");
  put("csv_list", "list_odd.csv", "a.jpg,happy\nhappy/b.png,sad\n\n");
  put("expw", "label.lst",
      "a.jpg 0 1 1 7 7 0.9 3\nb.png 1 0 0 8 8 0.5 6\nc.jpg 0 0 0 2 2 1 0\n");
  put_both("fer2013", "fer2013.csv",
           "emotion,pixels,Usage\n0," + pixels(0) + ",Training\n3," +
               pixels(1) + ",PublicTest\n");
  put("fer2013", "no_usage.csv", "emotion,pixels\n6," + pixels(2) + "\n");
  put("ferplus", "label.csv",
      "fer0000000.png,\"(0, 0, 48, 48)\",4,0,0,1,3,0,0,0,0,0\n"
      "a.jpg,\"(1, 1, 5, 5)\",0,10,0,0,0,0,0,0,0,0\n"
      "a.jpg,\"(0, 0, 0, 0)\",1,1,0,0,0,0,0,0,0,0\n");
  put("rafdb", "list.txt", "train_00001.jpg 5\ntest_0001.jpg 7\n");
  put("rafdb", "list2.txt", "train_00001.jpg 1\n\n");
  put("rafdb", "list3.txt", "test_0001.jpg 4\ntrain_0002.jpg 2\n");
  put_both("folder", "classes",
           "Happiness/a.jpg\nsad/b.png\ncontempt/c.jpg\nNeutral/d.txt\n"
           "x.png\nunknown/e.jpg\n");
  put_both("folder", "nested", "pool/a/b.jpg\npool/c.PNG\nreadme\n");
}

void configs() {
  const std::string data =
      "classes: [Neutral, Happiness, sad]\n"
      "sampling: {per_class: 12, leftovers_to_unlabeled: false, seed: 5}\n"
      "labeled:\n"
      "  - format: affwild2\n    annotations: aw/ann\n    images: aw/img\n"
      "    on_error: skip\n    subset: {from: 0.1, to: 0.6, seed: 7}\n"
      "  - {format: affectnet, csv: an/training.csv, images: an/img, "
      "crop_face: true}\n"
      "  - {format: rafdb, list: raf/list.txt, images: raf/al, split: train}\n"
      "  - format: fer2013_csv\n    csv: fer/fer2013.csv\n"
      "    usage: PublicTest\n"
      "    on_error: {annotations: skip, images: fail}\n"
      "unlabeled:\n  - {format: folder, root: pool, layout: flat}\n"
      "  - {format: recordio, rec: rec/train.rec, idx: /abs/train.idx}\n"
      "validation:\n  - {format: csv, csv: val/list.csv, root: val/images}\n"
      "  - {format: expw, list: ew/label.lst, images: ew/origin}\n"
      "  - {format: ferplus, csv: fp/label.csv, images: fp/img}\n";
  put("data_config", "full.yaml", data);
  put("data_config", "small.yaml",
      "labeled:\n  - {format: folder, root: faces}\n");
  put("train_config", "data_path.yaml",
      "data: data.yaml\nmodel: {name: smallnet}\n"
      "train: {epochs: 2, batch_labeled: 4, lr: 0.001, optimizer: sgd}\n"
      "#set train.epochs=3\n#set ssl.tau=0.9\n");
  std::string inline_data;
  for (const auto& line : util::split(data, '\n'))
    if (!line.empty()) inline_data += "  " + std::string(line) + "\n";
  put("train_config", "inline.yaml",
      "data:\n" + inline_data +
          "augment: {size: 64, flip_p: 0.25, mean: [0.5, 0.4, 0.3]}\n"
          "model: {name: resnet18, weights: w.pth, dropout: 0.3}\n"
          "train:\n  epochs: 3\n  lr_schedule: cosine\n  warmup_steps: 2\n"
          "  best: {monitor: a, min_step: 7, keep: 3}\n"
          "  distributed: {backend: gloo, bucket_mb: 4.5}\n"
          "ssl:\n  enabled: true\n  thresholds: fixed\n  tau: 0.7\n"
          "  weighting: soft\n  alignment: labeled\n  dtm_on: heldout\n"
          "eval: {max_samples: 100}\n#set model.name=smallnet\n");
}

std::string json_card() {
  infer::ModelCard card;
  card.model = "smallnet";
  card.classes = {"Neutral", "Happiness", "Sadness"};
  card.input.size = 32;
  card.step = 7;
  card.validation_step = 7;
  card.validation_f1_a = 0.5;
  card.validation_f1_b = 0.25;
  card.selected_network = "B";
  return infer::to_json(card);
}

void weights(const test::TempDir& tmp) {
  // A state_dict of every dtype family, and one whose four storages of 64
  // bytes match the archive the pickle target wraps its input in.
  io::StateDict s;
  s.insert("w", torch::arange(6, torch::kFloat32).reshape({2, 3}));
  s.insert("b", torch::ones({3}, torch::kFloat64));
  s.insert("n", torch::tensor(int64_t{5}));
  s.insert("m", torch::tensor({true, false}));
  s.insert("h", torch::zeros({2, 2}, torch::kFloat16));
  s.insert("t", torch::arange(8, torch::kFloat32).reshape({2, 4}).t());
  const std::string pth = tmp.file("w/model.pth");
  io::save_state_dict(pth, s);
  put("state_dict", "model.pth", slurp(pth));
  io::StateDict p;
  p.insert("a", torch::zeros({16}));
  p.insert("b.weight", torch::zeros({4, 4}));
  p.insert("c", torch::zeros({32}, torch::kInt16));
  p.insert("d", torch::zeros({8}, torch::kInt64));
  const std::string pth2 = tmp.file("w/pickle.pth");
  io::save_state_dict(pth2, p);
  put("state_dict", "pickle.pth", slurp(pth2));
  caffe2::serialize::PyTorchStreamReader reader(pth2);
  auto [pkl, pkl_size] = reader.getRecord("data.pkl");
  put("pickle", "data.pkl",
      std::string(static_cast<const char*>(pkl.get()), pkl_size));

  const std::string card = json_card();
  put_both("checkpoint_card", "card.json", card);
  // A checkpoint as TrainState::save lays out the part infer reads, with
  // stand-in networks of one tensor (a smallnet is 2.7 MB, too big a seed).
  torch::serialize::OutputArchive archive, a, b;
  a.write("weight", torch::zeros({1}));
  b.write("weight", torch::ones({2}));
  infer::write_text(archive, infer::keys::kCard, card);
  archive.write(infer::keys::kStudent, a);
  archive.write(infer::keys::kTeacher, b);
  const std::string ckpt = tmp.file("run/checkpoint_last.pt");
  infer::write_archive(archive, ckpt);
  put("checkpoint", "checkpoint_last.pt", slurp(ckpt));
  torch::serialize::OutputArchive empty;
  infer::write_text(empty, infer::keys::kCard, card);
  const std::string card_only = tmp.file("run/card_only.pt");
  infer::write_archive(empty, card_only);
  put("checkpoint", "card_only.pt", slurp(card_only));
}

void metrics() {
  io::MetricsLine l;
  l.line = 1;
  l.epoch = 1;
  l.step = 20;
  l.loss_labeled = 1.25;
  l.loss_unlabeled = 0.5;
  l.lr = 1e-4;
  l.images_per_second = 310.5;
  l.mask_rate = 0.75;
  const std::vector<std::string> classes = {"Neutral", "Happiness"};
  l.mask_rate_per_class = io::per_class(classes, {0.5, 1.0});
  l.pseudo_label_accuracy_per_class = io::per_class(classes, {-1, 0.9});
  l.tau = io::per_class(classes, {0.95, 0.8});
  l.dtm_mean_confidence = io::per_class(classes, {0.6, 0.7});
  io::ValidationScores v;
  v.accuracy = 0.5;
  v.macro_f1 = 0.45;
  v.f1 = io::per_class(classes, {0.4, 0.5});
  v.confusion = {{3, 1}, {2, 4}};
  l.validation_a = v;
  l.validation_b = v;
  io::MetricsLine short_line;
  short_line.step = 10;
  short_line.loss_labeled = 2.0;
  put("metrics_jsonl", "metrics.jsonl",
      io::format_metrics_line(short_line) + "\n" + io::format_metrics_line(l) +
          "\n\n");
  put("metrics_jsonl", "null.jsonl",
      "{\"step\": 3, \"loss_labeled\": null, \"tau\": {\"Neutral\": null}}\n");
}

}  // namespace

int main(int argc, char** argv) try {
  if (argc != 2) {
    std::fprintf(stderr, "usage: fuzz_seeds OUT_DIR\n");
    return 2;
  }
  out_dir = argv[1];
  test::TempDir tmp;
  images(tmp);
  recordio(tmp);
  annotations();
  configs();
  weights(tmp);
  metrics();
  std::printf("fuzz_seeds: wrote %s\n", out_dir.c_str());
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "fuzz_seeds: %s\n", e.what());
  return 1;
}
