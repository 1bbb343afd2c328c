#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

/// Embedding semifer: classify faces from your own program. This header
/// needs no LibTorch header (the model lives behind a pimpl), so an
/// application's build does not pay for them; link `semifer::semifer`.
///
///   semifer::Recognizer rec("runs/fer/checkpoint_best.pt");
///   semifer::Prediction p = rec.predict("face.jpg");
///   std::cout << p.name << " " << p.probabilities[p.label] << "\n";
namespace semifer {

/// The channel layout of a decoded 8-bit image buffer.
enum class PixelFormat {
  kGray,  ///< 1 channel
  kRGB,   ///< 3 channels, R G B
  kBGR,   ///< 3 channels, B G R (OpenCV's cv::Mat)
};

/// A decoded image owned by the caller: `height` rows of `width` pixels,
/// HxWxC uint8, row r starting at `data + r * stride` (stride 0: rows are
/// packed, width * channels bytes).
struct ImageView {
  const uint8_t* data = nullptr;
  int height = 0;
  int width = 0;
  PixelFormat format = PixelFormat::kRGB;
  size_t stride = 0;
};

/// One image's result.
struct Prediction {
  int label = -1;                    ///< index into Recognizer::classes()
  std::string name;                  ///< classes()[label]
  std::vector<float> probabilities;  ///< per class, softmax, sums to 1
};

/// How a Recognizer runs.
struct RecognizerOptions {
  /// "auto" (CUDA when LibTorch has a device), "cpu", "cuda" or "cuda:N".
  std::string device = "cpu";
  /// From a training checkpoint: "auto" (the network a best checkpoint was
  /// chosen by, else the one with the better recorded validation F1, else
  /// B), "B" (the EMA teacher, the paper's choice) or "A" (the student).
  std::string network = "auto";
  int64_t batch = 32;  ///< images per forward pass in batch predictions
};

/// A trained expression classifier, loaded once, used many times.
///
/// Construct it from a `semifer train` checkpoint or from an exported .pth
/// with its model card beside it (`semifer weights export`). Images are
/// resized to the model's input size and normalised as in training (the
/// model card says how); faces should be cropped as the training images
/// were.
///
/// Thread safety: predict() may be called from several threads at once on
/// one Recognizer (the model is read-only after construction; each call
/// uses its own buffers). Errors are semifer::Error (std::runtime_error)
/// with a one-line message naming the file or the bad argument.
class Recognizer {
 public:
  /// Loads `model_path` (a checkpoint, or a .pth with its .json card).
  /// Throws semifer::Error naming the file when it is missing, damaged or
  /// not a semifer model, or when the device is unavailable.
  explicit Recognizer(const std::string& model_path,
                      const RecognizerOptions& options = {});
  ~Recognizer();
  Recognizer(Recognizer&&) noexcept;
  Recognizer& operator=(Recognizer&&) noexcept;

  /// Class names in output order (canonical names: "Neutral", "Anger", ...).
  const std::vector<std::string>& classes() const;
  /// The side, in pixels, images are resized to.
  int input_size() const;
  /// The device it runs on ("cpu", "cuda:0").
  std::string device() const;
  /// A one-line warning about the model itself, or empty: its recorded
  /// validation macro F1 is near chance (it may predict one class for
  /// nearly every face). Programs show it before they use the model.
  std::string model_warning() const;

  /// Classifies an image file (JPEG or PNG).
  Prediction predict(const std::string& image_path) const;
  /// Classifies a decoded buffer.
  Prediction predict(const ImageView& image) const;
  /// Batches of files or buffers, in order (RecognizerOptions::batch per
  /// forward pass). A bad file stops the call with an error naming it.
  std::vector<Prediction> predict(const std::vector<std::string>& paths) const;
  std::vector<Prediction> predict(const std::vector<ImageView>& images) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace semifer
