#include "semifer/io/state_dict.h"

#include <caffe2/serialize/inline_container.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "semifer/util/strings.h"
#include "support/support.h"

namespace semifer::io {

namespace fs = std::filesystem;
using test::expect_error;
using test::TempDir;

namespace {

std::string bytes_of(const at::Tensor& tensor) {
  const at::Tensor t = tensor.resolve_conj().resolve_neg().contiguous();
  return std::string(static_cast<const char*>(t.data_ptr()), t.nbytes());
}

void expect_same(const at::Tensor& a, const at::Tensor& b,
                 const std::string& key) {
  EXPECT_EQ(a.scalar_type(), b.scalar_type()) << key;
  EXPECT_EQ(a.sizes(), b.sizes()) << key;
  EXPECT_EQ(bytes_of(a), bytes_of(b)) << key;
}

// Every dtype torch.save writes, views that share a storage, a transposed
// (non-contiguous) tensor, a scalar and an empty tensor.
StateDict every_kind_of_tensor() {
  torch::manual_seed(7);
  StateDict sd;
  const auto base = torch::randn({4, 6});
  sd.insert("conv.weight", base);
  sd.insert("conv.weight_t", base.t());
  sd.insert("tail", base.slice(0, 1));
  sd.insert("column", base.select(1, 3));
  sd.insert("f64", torch::randn({3}, torch::kDouble));
  sd.insert("f16", torch::randn({2, 3}).to(torch::kHalf));
  sd.insert("bf16", torch::randn({3, 2}).to(torch::kBFloat16));
  sd.insert("c64", torch::randn({2}, torch::kComplexFloat));
  sd.insert("c128", torch::randn({2}, torch::kComplexDouble));
  sd.insert("c64_conj", torch::randn({3}, torch::kComplexFloat).conj());
  sd.insert("i64", torch::tensor({int64_t{1} << 40, int64_t{-5}, int64_t{0}}));
  sd.insert("i32", torch::randint(-1000, 1000, {5}, torch::kInt));
  sd.insert("i16", torch::randint(-1000, 1000, {5}, torch::kShort));
  sd.insert("i8", torch::randint(-128, 127, {5}, torch::kChar));
  sd.insert("u8", torch::randint(0, 255, {2, 2}, torch::kByte));
  sd.insert("bool", torch::rand({7}) > 0.5);
  sd.insert("bn.num_batches_tracked", torch::tensor(int64_t{123}));
  sd.insert("scalar", torch::tensor(2.5f));
  sd.insert("empty", torch::zeros({0, 3}));
  return sd;
}

// A few pickle opcodes, to write data.pkl by hand for the error paths.
struct Pickle {
  std::string b = "\x80\x02";
  Pickle& op(const std::string& ops) {
    b += ops;
    return *this;
  }
  Pickle& str(const std::string& s) {
    const uint32_t n = static_cast<uint32_t>(s.size());
    b += 'X';
    b.append(reinterpret_cast<const char*>(&n), 4);
    b += s;
    return *this;
  }
  Pickle& num(int v) {
    if (v >= 0 && v < 256) {
      b += 'K';
      b += static_cast<char>(v);
    } else {
      b += 'J';
      b.append(reinterpret_cast<const char*>(&v), 4);
    }
    return *this;
  }
  Pickle& global(const std::string& module, const std::string& name) {
    b += "c" + module + "\n" + name + "\n";
    return *this;
  }
  Pickle& ints(const std::vector<int>& v) {
    op("(");
    for (int x : v) num(x);
    return op("t");
  }
  // _rebuild_tensor_v2(('storage', torch.<type>, '0', 'cpu', numel), ...)
  Pickle& tensor(const std::string& type, int numel, int offset,
                 const std::vector<int>& sizes,
                 const std::vector<int>& strides) {
    global("torch._utils", "_rebuild_tensor_v2").op("((");
    str("storage").global("torch", type).str("0").str("cpu").num(numel);
    op("tQ").num(offset).ints(sizes).ints(strides).op("\x89");
    return global("collections", "OrderedDict").op(")Rt").op("R");
  }
};

// A torch.save-style zip: <stem>/data.pkl plus the given records.
std::string write_archive(const std::string& path, const std::string& pickle,
                          const std::map<std::string, std::string>& records) {
  caffe2::serialize::PyTorchStreamWriter writer(path);
  writer.writeRecord("data.pkl", pickle.data(), pickle.size());
  for (const auto& [name, data] : records)
    writer.writeRecord(name, data.data(), data.size());
  writer.writeEndOfFile();
  return path;
}

std::string floats(const std::vector<float>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * 4);
}

// Writes torch.save files with Debian's python3-torch and, for each, the
// expected tensors: <name>.json lists key, dtype, shape, offset and nbytes of
// every entry in <name>.bin (the raw bytes of the contiguous tensor).
const char* const kPythonWrite = R"(
import collections, json, sys, torch, torchvision
out = sys.argv[1]

def dump(name, sd, **kw):
    torch.save(sd, f"{out}/{name}.pth", **kw)
    entries, blob = [], bytearray()
    for key, t in sd.items():
        raw = t.detach().reshape(-1).contiguous().view(torch.uint8)
        raw = raw.numpy().tobytes()
        entries.append({"key": key, "dtype": str(t.dtype),
                        "shape": list(t.shape), "offset": len(blob),
                        "nbytes": len(raw)})
        blob += raw
    json.dump(entries, open(f"{out}/{name}.json", "w"))
    open(f"{out}/{name}.bin", "wb").write(blob)

torch.manual_seed(0)
model = torchvision.models.resnet18()
for k, m in enumerate(model.modules()):
    if isinstance(m, torch.nn.BatchNorm2d):
        m.running_mean.normal_()
        m.running_var.uniform_(0.5, 2.0)
        m.num_batches_tracked.fill_(1000 + k)
sd = model.state_dict()
assert isinstance(sd, collections.OrderedDict) and hasattr(sd, "_metadata")
dump("resnet18", sd)
dump("protocol4", sd, pickle_protocol=4)
dump("plain", {
    "f32": torch.randn(3, 4),
    "f64": torch.randn(5, dtype=torch.float64),
    "f16": torch.randn(2, 3).half(),
    "bf16": torch.randn(4, 2).bfloat16(),
    "c64": torch.randn(3, dtype=torch.complex64),
    "i64": torch.randint(-2**40, 2**40, (6,)),
    "i32": torch.randint(-2**31, 2**31 - 1, (2, 2), dtype=torch.int32),
    "i16": torch.randint(-2**15, 2**15 - 1, (3,), dtype=torch.int16),
    "i8": torch.randint(-128, 127, (4,), dtype=torch.int8),
    "u8": torch.randint(0, 255, (2, 3), dtype=torch.uint8),
    "bool": torch.rand(9) > 0.5,
    "scalar": torch.tensor(2.5),
    "empty": torch.zeros(0, 3),
    "param": torch.nn.Parameter(torch.randn(2, 2)),
})
t = torch.arange(24.0).reshape(4, 6)
dump("shared", {"t": t, "tail": t[1:], "tt": t.t(), "col": t[:, 3],
                "strided": t[::2, ::3], "flat_tail": t.view(-1)[17:]})
torch.save({"a": torch.ones(2)}, f"{out}/legacy.pth",
           _use_new_zipfile_serialization=False)
torch.save({"w": torch.ones(2), "epoch": 3}, f"{out}/epoch.pth")
)";

// Loads a file written by save_state_dict with torch.load(weights_only=True)
// and checks keys, order, dtypes, shapes and bytes against <name>.json and
// <name>.bin; with a class count, also loads it into torchvision's resnet18.
const char* const kPythonCheck = R"(
import collections, json, sys, torch, torchvision
pth, manifest, blob = sys.argv[1], json.load(open(sys.argv[2])), open(sys.argv[3], "rb").read()
sd = torch.load(pth, weights_only=True)
assert type(sd) is collections.OrderedDict, type(sd)
assert list(sd) == [e["key"] for e in manifest], list(sd)
for e in manifest:
    t = sd[e["key"]]
    assert str(t.dtype) == e["dtype"], (e, t.dtype)
    assert list(t.shape) == e["shape"], (e, t.shape)
    raw = t.reshape(-1).contiguous().view(torch.uint8).numpy().tobytes()
    assert raw == blob[e["offset"]:e["offset"] + e["nbytes"]], e["key"]
if len(sys.argv) > 4:
    n = int(sys.argv[4])
    model = torchvision.models.resnet18(num_classes=n)
    model.load_state_dict(torch.load(pth))
    model.eval()
    with torch.no_grad():
        assert model(torch.zeros(1, 3, 64, 64)).shape == (1, n)
print("python checked", pth)
)";

at::ScalarType dtype_named(const std::string& name) {
  static const std::map<std::string, at::ScalarType> kDtypes = {
      {"torch.float32", torch::kFloat},
      {"torch.float64", torch::kDouble},
      {"torch.float16", torch::kHalf},
      {"torch.bfloat16", torch::kBFloat16},
      {"torch.complex64", torch::kComplexFloat},
      {"torch.complex128", torch::kComplexDouble},
      {"torch.int64", torch::kLong},
      {"torch.int32", torch::kInt},
      {"torch.int16", torch::kShort},
      {"torch.int8", torch::kChar},
      {"torch.uint8", torch::kByte},
      {"torch.bool", torch::kBool}};
  auto it = kDtypes.find(name);
  if (it == kDtypes.end()) throw std::runtime_error("dtype " + name);
  return it->second;
}

std::string dtype_name(at::ScalarType dtype) {
  for (const char* name :
       {"torch.float32", "torch.float64", "torch.float16", "torch.bfloat16",
        "torch.complex64", "torch.complex128", "torch.int64", "torch.int32",
        "torch.int16", "torch.int8", "torch.uint8", "torch.bool"}) {
    if (dtype_named(name) == dtype) return name;
  }
  throw std::runtime_error("no Python name for a dtype");
}

// Checks `sd` against what Python wrote to <dir>/<name>.json and .bin.
void expect_matches_python(const StateDict& sd, const std::string& dir,
                           const std::string& name) {
  std::ifstream in(dir + "/" + name + ".json");
  const nlohmann::json entries = nlohmann::json::parse(in);
  const std::vector<uint8_t> blob = util::read_file(dir + "/" + name + ".bin");
  ASSERT_EQ(sd.size(), entries.size()) << name;
  for (size_t i = 0; i < entries.size(); ++i) {
    const auto& e = entries[i];
    const std::string key = e["key"];
    ASSERT_EQ(sd.keys[i], key) << name << " entry " << i;
    const at::Tensor& t = sd.tensors[i];
    EXPECT_EQ(t.scalar_type(), dtype_named(e["dtype"])) << name << " " << key;
    EXPECT_EQ(t.sizes().vec(), e["shape"].get<std::vector<int64_t>>())
        << name << " " << key;
    const size_t offset = e["offset"], nbytes = e["nbytes"];
    EXPECT_EQ(bytes_of(t),
              std::string(reinterpret_cast<const char*>(blob.data()) + offset,
                          nbytes))
        << name << " " << key;
  }
}

// The same manifest, written from C++ for kPythonCheck.
void write_manifest(const StateDict& sd, const std::string& stem) {
  nlohmann::json entries = nlohmann::json::array();
  std::string blob;
  for (size_t i = 0; i < sd.size(); ++i) {
    const std::string raw = bytes_of(sd.tensors[i]);
    entries.push_back({{"key", sd.keys[i]},
                       {"dtype", dtype_name(sd.tensors[i].scalar_type())},
                       {"shape", sd.tensors[i].sizes().vec()},
                       {"offset", blob.size()},
                       {"nbytes", raw.size()}});
    blob += raw;
  }
  util::write_text(stem + ".json", entries.dump());
  util::write_file(stem + ".bin", blob.data(), blob.size());
}

std::string quoted(const std::string& s) { return "'" + s + "'"; }

}  // namespace

TEST(StateDict, InsertFindAt) {
  StateDict sd;
  EXPECT_TRUE(sd.empty());
  sd.insert("a", torch::ones({2}));
  sd.insert("b", torch::zeros({3}));
  EXPECT_EQ(sd.size(), 2u);
  ASSERT_NE(sd.find("b"), nullptr);
  EXPECT_EQ(sd.find("b")->numel(), 3);
  EXPECT_EQ(sd.find("c"), nullptr);
  EXPECT_EQ(sd.at("a").numel(), 2);
  expect_error([&] { sd.at("fc.weight"); }, {"'fc.weight'"});
  expect_error([&] { sd.insert("a", torch::ones({1})); }, {"'a'"});
}

TEST(StateDict, RoundTripKeepsOrderDtypesAndValues) {
  TempDir tmp;
  const StateDict saved = every_kind_of_tensor();
  const std::string path = tmp.file("model.pth");
  util::write_text(path, "an older file that the save replaces");
  save_state_dict(path, saved);
  const StateDict loaded = load_state_dict(path);
  ASSERT_EQ(loaded.keys, saved.keys);
  for (size_t i = 0; i < saved.size(); ++i) {
    expect_same(loaded.tensors[i], saved.tensors[i], saved.keys[i]);
    EXPECT_TRUE(loaded.tensors[i].is_contiguous()) << saved.keys[i];
  }
  // Loaded tensors own their memory: views are copied apart.
  loaded.at("conv.weight").zero_();
  EXPECT_NE(loaded.at("tail").abs().sum().item<float>(), 0.0f);
  // The temporary file was renamed into place.
  size_t files = 0;
  for (const auto& e : fs::directory_iterator(tmp.path())) {
    ++files;
    EXPECT_EQ(e.path().filename(), "model.pth");
  }
  EXPECT_EQ(files, 1u);
}

TEST(StateDict, EmptyStateDictRoundTrips) {
  TempDir tmp;
  save_state_dict(tmp.file("empty.pth"), StateDict{});
  EXPECT_TRUE(load_state_dict(tmp.file("empty.pth")).empty());
}

TEST(StateDict, SaveRejectsWhatTorchSaveCannotHold) {
  TempDir tmp;
  const std::string path = tmp.file("bad.pth");
  StateDict undefined;
  undefined.keys = {"w"};
  undefined.tensors = {at::Tensor()};
  expect_error([&] { save_state_dict(path, undefined); },
               {path, "'w'", "undefined"});
  StateDict twice;
  twice.keys = {"w", "w"};
  twice.tensors = {torch::ones({1}), torch::ones({1})};
  expect_error([&] { save_state_dict(path, twice); }, {path, "'w'", "twice"});
  StateDict uneven;
  uneven.keys = {"w"};
  expect_error([&] { save_state_dict(path, uneven); }, {path, "1 keys"});
  StateDict sparse;
  sparse.insert("s", torch::eye(3).to_sparse());
  expect_error([&] { save_state_dict(path, sparse); }, {path, "'s'", "dense"});
  EXPECT_FALSE(fs::exists(path));
  const std::string nowhere = (tmp.path() / "no" / "dir" / "x.pth").string();
  expect_error([&] { save_state_dict(nowhere, {}); }, {nowhere, "cannot"});
}

TEST(StateDict, RejectsFilesThatAreNotStateDicts) {
  TempDir tmp;
  const std::string missing = tmp.file("missing.pth");
  expect_error([&] { load_state_dict(missing); }, {missing, "no such file"});
  expect_error([&] { load_state_dict(tmp.path().string()); },
               {"not a regular file"});
  const std::string empty = test::write_text_file(tmp.file("empty.pth"), "");
  expect_error([&] { load_state_dict(empty); }, {empty, "empty"});
  const std::string text =
      test::write_text_file(tmp.file("text.pth"), "weights, honest\n");
  expect_error([&] { load_state_dict(text); }, {text, "not a zip archive"});
  // What torch.save wrote before 1.6: PROTO 2, LONG1 of torch's magic number.
  const std::string legacy = test::write_text_file(
      tmp.file("legacy.pth"),
      std::string("\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19.",
                  15));
  expect_error([&] { load_state_dict(legacy); }, {legacy, "legacy"});
}

TEST(StateDict, RejectsTruncatedArchives) {
  TempDir tmp;
  const std::string whole = tmp.file("whole.pth");
  save_state_dict(whole, every_kind_of_tensor());
  const std::vector<uint8_t> bytes = util::read_file(whole);
  for (size_t keep : {bytes.size() / 2, bytes.size() - 10}) {
    const std::string cut = tmp.file("cut.pth");
    util::write_file(cut, bytes.data(), keep);
    expect_error([&] { load_state_dict(cut); }, {cut, "truncated"});
  }
}

// Found by fuzzing (tests/fuzz/state_dict/data_pkl_crc_mismatch.pth): a
// damaged data.pkl was refused by LibTorch's reader, which leaked; now the
// CRC-32 check refuses it first, naming the record.
TEST(StateDict, RejectsDamagedRecords) {
  TempDir tmp;
  const std::string whole = tmp.file("whole.pth");
  save_state_dict(whole, every_kind_of_tensor());
  std::vector<uint8_t> bytes = util::read_file(whole);
  const std::string marker = "collections";
  const auto at =
      std::search(bytes.begin(), bytes.end(), marker.begin(), marker.end());
  ASSERT_NE(at, bytes.end());
  *at ^= 0x20;
  const std::string damaged = tmp.file("damaged.pth");
  util::write_file(damaged, bytes.data(), bytes.size());
  expect_error([&] { load_state_dict(damaged); },
               {damaged, "data.pkl", "is corrupt"});
}

TEST(StateDict, ReadsLessCommonOpcodes) {
  // An OrderedDict filled by SETITEM, a BINUNICODE8 key, LONG1/BININT2/BININT
  // integers, LONG_BINPUT/LONG_BINGET, TUPLE1, the 7-argument
  // _rebuild_tensor_v2, and a BUILD state with a float (BINFLOAT), None and
  // a list (APPENDS).
  TempDir tmp;
  Pickle p;
  p.global("collections", "OrderedDict").op(")R");
  p.op(std::string("\x8d\x01\0\0\0\0\0\0\0w", 10));  // BINUNICODE8 "w"
  p.global("torch._utils", "_rebuild_tensor_v2");
  p.op(std::string("r\x05\0\0\0", 5));  // LONG_BINPUT 5
  p.op("((").str("storage").global("torch", "FloatStorage").str("0");
  p.str("cpu").op(std::string("M\x00\x01", 3)).op("tQ");  // BININT2 256
  p.op(std::string("\x8a\x02\x02\x00", 4));               // LONG1 2: offset
  p.num(2).num(3).op("\x86");                             // size (2, 3)
  p.op(std::string("J\x03\0\0\0", 5)).num(1).op("\x86");  // stride (3, 1)
  p.op("\x89").global("collections", "OrderedDict").op(")R");
  p.op("NtRs");  // metadata None; REDUCE; SETITEM
  p.str("v").op(std::string("j\x05\0\0\0", 5)).op("(");  // LONG_BINGET 5
  p.op("(").str("storage").global("torch", "FloatStorage").str("0");
  p.str("cpu").num(256).op("tQ").num(0).num(4).op("\x85").num(1).op("\x85");
  p.op("\x89").global("collections", "OrderedDict").op(")RtRs");
  p.op("}").str("_metadata").op("](");
  p.op(std::string("G\x3f\xf8\0\0\0\0\0\0", 9));  // BINFLOAT 1.5
  p.op("Nesb.");                                  // APPENDS SETITEM BUILD
  std::vector<float> storage(256);
  for (int i = 0; i < 256; ++i) storage[i] = static_cast<float>(i);
  const std::string path = write_archive(tmp.file("opcodes.pth"), p.b,
                                         {{"data/0", floats(storage)}});
  const StateDict sd = load_state_dict(path);
  ASSERT_EQ(sd.keys, (std::vector<std::string>{"w", "v"}));
  EXPECT_TRUE(torch::equal(sd.at("w"),
                           torch::arange(2, 8, torch::kFloat).view({2, 3})));
  EXPECT_TRUE(torch::equal(sd.at("v"), torch::arange(4, torch::kFloat)));
}

TEST(StateDict, RejectsPickleContentOutsideAStateDict) {
  TempDir tmp;
  const std::string four = floats({1, 2, 3, 4});
  auto load = [&](const std::string& name, const Pickle& p,
                  const std::map<std::string, std::string>& records) {
    return [&tmp, name, p, records] {
      load_state_dict(write_archive(tmp.file(name), p.b, records));
    };
  };
  Pickle opcode;
  opcode.op("}P0\n.");  // PERSID: text persistent ids are not torch's
  expect_error(load("opcode.pth", opcode, {}),
               {"opcode.pth", "data.pkl byte 3", "opcode 0x50 'P'"});
  Pickle storage;
  storage.op("}").str("w").tensor("QUInt8Storage", 4, 0, {4}, {1}).op("s.");
  expect_error(load("storage.pth", storage, {{"data/0", four}}),
               {"storage.pth", "unknown storage type torch.QUInt8Storage"});
  Pickle epoch;
  epoch.op("}(").str("w").tensor("FloatStorage", 4, 0, {4}, {1});
  epoch.str("epoch").num(3).op("u.");
  expect_error(load("epoch.pth", epoch, {{"data/0", four}}),
               {"epoch.pth", "key 'epoch'", "int, not a tensor"});
  Pickle nested;
  nested.op("}").str("model").op("}s.");
  expect_error(load("nested.pth", nested, {}),
               {"nested.pth", "key 'model'", "checkpoint"});
  Pickle view;
  view.op("}").str("w").tensor("FloatStorage", 4, 2, {3}, {1}).op("s.");
  expect_error(load("view.pth", view, {{"data/0", four}}),
               {"view.pth", "runs past its storage"});
  expect_error(load("short.pth", view, {{"data/0", floats({1, 2})}}),
               {"short.pth", "record data/0 holds 8 bytes"});
  expect_error(load("record.pth", view, {}),
               {"record.pth", "no record data/0"});
  Pickle list;
  list.op("].");
  expect_error(load("list.pth", list, {}),
               {"list.pth", "holds a list, not a dict"});
  Pickle cut;
  cut.op("}X\xff\xff");
  expect_error(load("cut.pth", cut, {}), {"cut.pth", "ends in the middle"});
  Pickle call;
  call.op("}").str("w").global("os", "system").str("true").op("\x85Rs.");
  expect_error(load("call.pth", call, {}),
               {"call.pth", "unsupported callable os.system"});
}

// Files written by Debian's python3-torch; the suite writes them once.
class StateDictPython : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    python_ = new std::string(test::python_with_torchvision());
    if (python_->empty()) return;
    dir_ = new TempDir;
    const std::string script = dir_->file("write.py");
    util::write_text(script, kPythonWrite);
    const std::string cmd =
        *python_ + " " + quoted(script) + " " + quoted(dir_->path().string());
    written_ = std::system(cmd.c_str()) == 0;
  }
  static void TearDownTestSuite() {
    delete dir_;
    delete python_;
    dir_ = nullptr;
    python_ = nullptr;
  }
  void SetUp() override {
    if (python_->empty())
      GTEST_SKIP() << "Debian's python3-torch/python3-torchvision is absent";
    ASSERT_TRUE(written_) << "the Python script that writes the files failed";
  }
  static std::string dir() { return dir_->path().string(); }
  static std::string file(const std::string& name) {
    return dir() + "/" + name;
  }
  // Runs kPythonCheck on a file we wrote; true when Python accepts it.
  static bool python_accepts(const StateDict& sd, const std::string& stem,
                             int resnet_classes = 0) {
    write_manifest(sd, stem);
    const std::string script = dir_->file("check.py");
    util::write_text(script, kPythonCheck);
    std::string cmd = *python_ + " " + quoted(script) + " " +
                      quoted(stem + ".pth") + " " + quoted(stem + ".json") +
                      " " + quoted(stem + ".bin");
    if (resnet_classes > 0) cmd += " " + std::to_string(resnet_classes);
    return std::system(cmd.c_str()) == 0;
  }

  static std::string* python_;
  static TempDir* dir_;
  static bool written_;
};
std::string* StateDictPython::python_ = nullptr;
TempDir* StateDictPython::dir_ = nullptr;
bool StateDictPython::written_ = false;

TEST_F(StateDictPython, ReadsTorchvisionResnet18OrderedDict) {
  const StateDict sd = load_state_dict(file("resnet18.pth"));
  EXPECT_EQ(sd.size(), 122u);  // 62 parameters, 60 BatchNorm buffers
  expect_matches_python(sd, dir(), "resnet18");
  EXPECT_EQ(sd.at("bn1.num_batches_tracked").scalar_type(), torch::kLong);
  EXPECT_EQ(sd.at("fc.weight").sizes(), (std::vector<int64_t>{1000, 512}));
}

TEST_F(StateDictPython, ReadsPickleProtocol4) {
  expect_matches_python(load_state_dict(file("protocol4.pth")), dir(),
                        "protocol4");
}

TEST_F(StateDictPython, ReadsEveryDtypeAndParameters) {
  expect_matches_python(load_state_dict(file("plain.pth")), dir(), "plain");
}

TEST_F(StateDictPython, ReadsViewsOfOneStorage) {
  const StateDict sd = load_state_dict(file("shared.pth"));
  expect_matches_python(sd, dir(), "shared");
  EXPECT_TRUE(torch::equal(sd.at("tt"), sd.at("t").t()));
  EXPECT_TRUE(torch::equal(sd.at("strided"),
                           torch::tensor({{0.f, 3.f}, {12.f, 15.f}})));
}

TEST_F(StateDictPython, RejectsLegacyAndNonTensorFiles) {
  const std::string legacy = file("legacy.pth");
  expect_error([&] { load_state_dict(legacy); }, {legacy, "legacy"});
  const std::string epoch = file("epoch.pth");
  expect_error([&] { load_state_dict(epoch); },
               {epoch, "key 'epoch'", "int, not a tensor"});
}

TEST_F(StateDictPython, SavedFilesLoadInPython) {
  // resnet18 with an 8-class head, as fine-tuning writes it.
  StateDict resnet = load_state_dict(file("resnet18.pth"));
  torch::manual_seed(3);
  for (size_t i = 0; i < resnet.size(); ++i) {
    if (resnet.keys[i] == "fc.weight")
      resnet.tensors[i] = torch::randn({8, 512});
    if (resnet.keys[i] == "fc.bias") resnet.tensors[i] = torch::randn({8});
  }
  const std::string stem = dir_->file("ours/resnet18_8");
  save_state_dict(stem + ".pth", resnet);
  EXPECT_TRUE(python_accepts(resnet, stem, 8));
  const std::string every = dir_->file("ours/every");
  save_state_dict(every + ".pth", every_kind_of_tensor());
  EXPECT_TRUE(python_accepts(every_kind_of_tensor(), every));
}

}  // namespace semifer::io
