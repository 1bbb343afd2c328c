#include "semifer/io/state_dict.h"

#include <caffe2/serialize/inline_container.h>
#include <sys/stat.h>
#include <torch/torch.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <memory>
#include <unordered_set>

#include "semifer/io/zip_check.h"
#include "semifer/util/error.h"
#include "semifer/util/strings.h"
#include "torch_unpickler.h"

namespace semifer::io {

namespace {

namespace fs = std::filesystem;

// PyTorchStreamReader throws c10::Error when the central directory is
// missing (a truncated file), a CRC does not match or a read comes up short.
// On a zip without the version record it expects it throws past c10::Error
// or leaks, and a record whose CRC-32 does not match leaks too, so it only
// sees archives verify_zip and check_torch_zip pass.
std::unique_ptr<caffe2::serialize::PyTorchStreamReader> open_archive(
    const std::string& path) {
  {
    const std::vector<uint8_t> bytes = util::read_file(path);
    verify_zip(bytes.data(), bytes.size(), path);
    check_torch_zip(bytes.data(), bytes.size(), path);
  }
  try {
    return std::make_unique<caffe2::serialize::PyTorchStreamReader>(path);
  } catch (const c10::Error& e) {
    fail("cannot read ", path, ": the zip archive is truncated or corrupt (",
         torch_error_line(e), ")");
  }
}

std::tuple<at::DataPtr, size_t> read_record(
    caffe2::serialize::PyTorchStreamReader& reader, const std::string& name,
    const std::string& path) {
  try {
    return reader.getRecord(name);
  } catch (const c10::Error& e) {
    fail("cannot read ", path, ": record ", name,
         " of the zip archive is truncated or corrupt (", torch_error_line(e),
         ")");
  }
}

// Checks what can be told without the zip reader, for messages that say
// what the file is rather than what the reader tripped on.
void check_container(const std::string& path) {
  std::error_code ec;
  const fs::file_status status = fs::status(path, ec);
  SEMIFER_CHECK(fs::exists(status), "cannot read ", path, ": ",
                status.type() == fs::file_type::not_found || !ec
                    ? "no such file"
                    : ec.message());
  SEMIFER_CHECK(fs::is_regular_file(status), "cannot read ", path,
                ": not a regular file");
  std::FILE* f = std::fopen(path.c_str(), "rb");
  SEMIFER_CHECK(f, "cannot open ", path, ": ", std::strerror(errno));
  uint8_t head[12] = {};
  const size_t got = std::fread(head, 1, sizeof(head), f);
  std::fclose(f);
  SEMIFER_CHECK(got > 0, "cannot read ", path, ": the file is empty");
  // Before 1.6, torch.save wrote bare pickles: PROTO 2, then LONG1 with the
  // magic number 0x1950a86a20f9469cfc6c.
  static const uint8_t kLegacy[12] = {0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc,
                                      0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8};
  SEMIFER_CHECK(
      got < sizeof(kLegacy) || std::memcmp(head, kLegacy, sizeof(kLegacy)) != 0,
      "cannot read ", path,
      ": it is in the legacy (pre-1.6, non-zip) torch.save format; "
      "re-save it with PyTorch >= 1.6: torch.save(torch.load(f), f)");
  SEMIFER_CHECK(got >= 4 && head[0] == 'P' && head[1] == 'K' && head[2] == 3 &&
                    head[3] == 4,
                "cannot read ", path,
                ": not a zip archive, so not a torch.save file (PyTorch >= "
                "1.6)");
}

}  // namespace

void StateDict::insert(const std::string& key, at::Tensor tensor) {
  SEMIFER_CHECK(!find(key), "state_dict already has a tensor named '", key,
                "'");
  keys.push_back(key);
  tensors.push_back(std::move(tensor));
}

const at::Tensor* StateDict::find(const std::string& key) const {
  for (size_t i = 0; i < keys.size() && i < tensors.size(); ++i) {
    if (keys[i] == key) return &tensors[i];
  }
  return nullptr;
}

const at::Tensor& StateDict::at(const std::string& key) const {
  const at::Tensor* t = find(key);
  SEMIFER_CHECK(t, "state_dict has no tensor named '", key, "' (it has ",
                keys.size(), " tensors)");
  return *t;
}

StateDict load_state_dict(const std::string& path) {
  check_container(path);
  auto reader = open_archive(path);
  SEMIFER_CHECK(!reader->hasRecord("constants.pkl"), path,
                " is a TorchScript archive (torch.jit.save), not a "
                "torch.save state_dict");
  SEMIFER_CHECK(reader->hasRecord("data.pkl"), path,
                ": the zip archive has no data.pkl, so it is not a "
                "torch.save file");
  if (reader->hasRecord("byteorder")) {
    auto [order, n] = read_record(*reader, "byteorder", path);
    const std::string s(static_cast<const char*>(order.get()), n);
    SEMIFER_CHECK(s == "little", path, ": tensors are stored ", s,
                  "-endian; only little-endian files are supported");
  }
  auto [pickle, pickle_size] = read_record(*reader, "data.pkl", path);
  return unpickle_state_dict(
      path, static_cast<const uint8_t*>(pickle.get()), pickle_size,
      [&](const std::string& name) {
        SEMIFER_CHECK(reader->hasRecord(name), "cannot read ", path,
                      ": the zip archive has no record ", name);
        return read_record(*reader, name, path);
      });
}

// ---- pickling --------------------------------------------------------------

namespace {

// Writes the opcodes Python's pickle protocol 2 uses for torch.save of an
// OrderedDict of tensors (see pickletools.dis of such a data.pkl).
class Pickler {
 public:
  std::string& bytes() { return out_; }
  void op(uint8_t code) { out_.push_back(static_cast<char>(code)); }
  void le(uint64_t v, int n) {
    for (int k = 0; k < n; ++k) out_.push_back(static_cast<char>(v >> (8 * k)));
  }
  void global(const std::string& module, const std::string& name) {
    op('c');
    out_ += module + "\n" + name + "\n";
  }
  void string(const std::string& s) {
    op('X');
    le(s.size(), 4);
    out_ += s;
  }
  void integer(int64_t v) {
    if (v >= 0 && v < 256) {
      op('K');
      le(static_cast<uint64_t>(v), 1);
    } else if (v >= 0 && v < 65536) {
      op('M');
      le(static_cast<uint64_t>(v), 2);
    } else if (v >= INT32_MIN && v <= INT32_MAX) {
      op('J');
      le(static_cast<uint64_t>(v), 4);
    } else {
      op(0x8a);  // LONG1, 8 bytes two's complement
      le(8, 1);
      le(static_cast<uint64_t>(v), 8);
    }
  }
  void ints(c10::IntArrayRef v) {
    op('(');
    for (int64_t x : v) integer(x);
    op('t');
  }
  void empty_ordered_dict() {
    global("collections", "OrderedDict");
    op(')');
    op('R');
  }

 private:
  std::string out_;
};

}  // namespace

void save_state_dict(const std::string& path, const StateDict& state) {
  SEMIFER_CHECK(state.keys.size() == state.tensors.size(), "cannot write ",
                path, ": state_dict has ", state.keys.size(), " keys but ",
                state.tensors.size(), " tensors");
  // Validate everything first: once the zip writer exists, leaving by an
  // exception makes its destructor finish the archive.
  std::vector<at::Tensor> data;
  std::unordered_set<std::string> seen;
  for (size_t i = 0; i < state.keys.size(); ++i) {
    const std::string& key = state.keys[i];
    const at::Tensor& t = state.tensors[i];
    SEMIFER_CHECK(seen.insert(key).second, "cannot write ", path, ": key '",
                  key, "' appears twice");
    SEMIFER_CHECK(t.defined(), "cannot write ", path, ": key '", key,
                  "' holds an undefined tensor");
    SEMIFER_CHECK(t.layout() == at::kStrided, "cannot write ", path, ": key '",
                  key, "' holds a ", t.layout(),
                  " tensor; only dense tensors are supported");
    SEMIFER_CHECK(storage_type_name(t.scalar_type()), "cannot write ", path,
                  ": key '", key, "' has unsupported dtype ", t.scalar_type());
    // A conj() or neg() view is lazy: its memory holds the unchanged values.
    data.push_back(
        t.detach().to(at::kCPU).resolve_conj().resolve_neg().contiguous());
  }

  Pickler p;
  p.op(0x80);  // PROTO 2
  p.le(2, 1);
  p.empty_ordered_dict();
  p.op('(');
  for (size_t i = 0; i < data.size(); ++i) {
    const at::Tensor& t = data[i];
    p.string(state.keys[i]);
    p.global("torch._utils", "_rebuild_tensor_v2");
    p.op('(');
    p.op('(');  // persistent id: ('storage', type, key, location, numel)
    p.string("storage");
    p.global("torch", storage_type_name(t.scalar_type()));
    p.string(std::to_string(i));
    p.string("cpu");
    p.integer(t.numel());
    p.op('t');
    p.op('Q');  // BINPERSID
    p.integer(0);
    p.ints(t.sizes());
    p.ints(t.strides());
    p.op(0x89);              // requires_grad False
    p.empty_ordered_dict();  // backward hooks
    p.op('t');
    p.op('R');
  }
  p.op('u');  // SETITEMS
  p.op('.');

  const fs::path target(path);
  const fs::path dir =
      target.has_parent_path() ? target.parent_path() : fs::path(".");
  std::string tmp =
      (dir / ("." + target.filename().string() + ".XXXXXX")).string();
  const int fd = ::mkstemp(tmp.data());
  SEMIFER_CHECK(fd >= 0, "cannot write ", path, ": cannot create a file in ",
                dir.string(), ": ", std::strerror(errno));
  // mkstemp makes the file 0600; a weight file is as readable as any other.
  std::FILE* f = ::fchmod(fd, 0644) == 0 ? ::fdopen(fd, "wb") : nullptr;
  if (!f) {
    ::close(fd);
    ::unlink(tmp.c_str());
    fail("cannot write ", path, ": ", std::strerror(errno));
  }
  // The writer never sees a failure (it would throw from its destructor);
  // the first errno is kept and reported after the archive is closed.
  int write_errno = 0;
  std::function<size_t(const void*, size_t)> sink = [&](const void* buf,
                                                        size_t n) -> size_t {
    if (write_errno == 0 && std::fwrite(buf, 1, n, f) != n)
      write_errno = errno ? errno : EIO;
    return n;
  };
  try {
    caffe2::serialize::PyTorchStreamWriter writer(sink);
    writer.writeRecord("data.pkl", p.bytes().data(), p.bytes().size());
    for (size_t i = 0; i < data.size(); ++i) {
      static const char kNothing = 0;  // an empty tensor may have no pointer
      writer.writeRecord("data/" + std::to_string(i),
                         data[i].nbytes() ? data[i].data_ptr() : &kNothing,
                         data[i].nbytes());
    }
    writer.writeEndOfFile();
  } catch (const c10::Error& e) {
    std::fclose(f);
    ::unlink(tmp.c_str());
    fail("cannot write ", path, ": ", torch_error_line(e));
  }
  if (std::fflush(f) != 0 && write_errno == 0) write_errno = errno;
  if (::fsync(::fileno(f)) != 0 && write_errno == 0) write_errno = errno;
  if (std::fclose(f) != 0 && write_errno == 0) write_errno = errno;
  if (write_errno == 0 && std::rename(tmp.c_str(), path.c_str()) != 0)
    write_errno = errno;
  if (write_errno != 0) {
    ::unlink(tmp.c_str());
    fail("cannot write ", path, ": ", std::strerror(write_errno));
  }
}

}  // namespace semifer::io
