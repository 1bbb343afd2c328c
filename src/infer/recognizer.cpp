#include "semifer/infer/recognizer.h"

#include <torch/torch.h>

#include "semifer/infer/checkpoint.h"
#include "semifer/infer/classify.h"
#include "semifer/infer/model_card.h"
#include "semifer/io/image.h"
#include "semifer/util/device.h"
#include "semifer/util/error.h"

namespace semifer {

namespace {

// A caller's buffer as the RGB image the pipeline takes.
io::Image to_rgb(const ImageView& v, size_t index) {
  SEMIFER_CHECK(v.data != nullptr && v.width > 0 && v.height > 0, "image ",
                index, ": empty buffer (data null or size ", v.width, "x",
                v.height, ")");
  const int channels = v.format == PixelFormat::kGray ? 1 : 3;
  const size_t row = static_cast<size_t>(v.width) * channels;
  const size_t stride = v.stride == 0 ? row : v.stride;
  SEMIFER_CHECK(stride >= row, "image ", index, ": stride ", v.stride,
                " is shorter than a row of ", row, " bytes");
  io::Image img(v.width, v.height);
  for (int y = 0; y < v.height; ++y) {
    const uint8_t* src = v.data + static_cast<size_t>(y) * stride;
    uint8_t* dst = img.pixel(0, y);
    for (int x = 0; x < v.width; ++x, dst += 3, src += channels) {
      if (v.format == PixelFormat::kGray) {
        dst[0] = dst[1] = dst[2] = src[0];
      } else if (v.format == PixelFormat::kBGR) {
        dst[0] = src[2];
        dst[1] = src[1];
        dst[2] = src[0];
      } else {
        dst[0] = src[0];
        dst[1] = src[1];
        dst[2] = src[2];
      }
    }
  }
  return img;
}

}  // namespace

struct Recognizer::Impl {
  infer::LoadedModel loaded;
  c10::Device device{c10::kCPU};
  int64_t batch = 32;

  std::vector<Prediction> run(int64_t n, const infer::ImageLoader& load) const {
    const at::Tensor probs =
        infer::classify(*loaded.model, n, load, loaded.card.input, batch)
            .contiguous();
    const auto& names = loaded.card.classes;
    const int64_t c = probs.size(1);
    const float* p = probs.data_ptr<float>();
    std::vector<Prediction> out(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
      Prediction& r = out[static_cast<size_t>(i)];
      r.probabilities.assign(p + i * c, p + (i + 1) * c);
      r.label = static_cast<int>(
          std::max_element(r.probabilities.begin(), r.probabilities.end()) -
          r.probabilities.begin());
      r.name = names[static_cast<size_t>(r.label)];
    }
    return out;
  }
};

Recognizer::Recognizer(const std::string& model_path,
                       const RecognizerOptions& options)
    : impl_(std::make_unique<Impl>()) {
  SEMIFER_CHECK(options.network == "A" || options.network == "B" ||
                    options.network == "auto",
                "Recognizer: network must be auto, A or B, got '",
                options.network, "'");
  SEMIFER_CHECK(options.batch > 0, "Recognizer: batch must be positive, got ",
                options.batch);
  impl_->device = c10::Device(util::resolve_device(options.device));
  impl_->batch = options.batch;
  impl_->loaded =
      infer::load_model(model_path, infer::network_named(options.network));
  impl_->loaded.model->to(impl_->device);
  impl_->loaded.model->eval();
}

Recognizer::~Recognizer() = default;
Recognizer::Recognizer(Recognizer&&) noexcept = default;
Recognizer& Recognizer::operator=(Recognizer&&) noexcept = default;

const std::vector<std::string>& Recognizer::classes() const {
  return impl_->loaded.card.classes;
}

int Recognizer::input_size() const { return impl_->loaded.card.input.size; }

std::string Recognizer::device() const { return impl_->device.str(); }

std::string Recognizer::model_warning() const {
  return infer::near_chance_warning(impl_->loaded.card,
                                    infer::network_name(impl_->loaded.network));
}

Prediction Recognizer::predict(const std::string& image_path) const {
  return predict(std::vector<std::string>{image_path}).front();
}

Prediction Recognizer::predict(const ImageView& image) const {
  return predict(std::vector<ImageView>{image}).front();
}

std::vector<Prediction> Recognizer::predict(
    const std::vector<std::string>& paths) const {
  return impl_->run(static_cast<int64_t>(paths.size()), [&](int64_t i) {
    return io::read_image(paths[static_cast<size_t>(i)]);
  });
}

std::vector<Prediction> Recognizer::predict(
    const std::vector<ImageView>& images) const {
  return impl_->run(static_cast<int64_t>(images.size()), [&](int64_t i) {
    return to_rgb(images[static_cast<size_t>(i)], static_cast<size_t>(i));
  });
}

}  // namespace semifer
