// The .pth unpickler behind io::load_state_dict: the input is data.pkl of a
// well-formed torch.save zip that also holds storages data/0..data/3 of 64
// bytes each, so mutations reach the pickle opcodes, persistent ids,
// storage types, offsets, sizes and strides rather than the zip layer.
#include <ATen/ATen.h>
#include <caffe2/serialize/inline_container.h>

#include <fstream>

#include "fuzz_support.h"
#include "semifer/io/state_dict.h"

using namespace semifer;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string zip;
  {
    caffe2::serialize::PyTorchStreamWriter writer(
        [&](const void* buf, size_t n) -> size_t {
          zip.append(static_cast<const char*>(buf), n);
          return n;
        });
    writer.writeRecord("data.pkl", data, size);
    const std::vector<uint8_t> storage(64, 0x3f);
    for (int i = 0; i < 4; ++i) {
      writer.writeRecord("data/" + std::to_string(i), storage.data(),
                         storage.size());
    }
    writer.writeEndOfFile();
  }
  const std::string path = fuzz::write_scratch("archive.pth", zip);
  return fuzz::run_one([&] {
    const io::StateDict state = io::load_state_dict(path);
    for (const at::Tensor& t : state.tensors) {
      fuzz::require(t.defined() && t.is_contiguous(),
                    "an undefined or non-contiguous tensor");
      t.clone();  // reads every byte (ASan checks the storage)
    }
  });
}
