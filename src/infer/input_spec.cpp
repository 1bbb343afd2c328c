#include "semifer/infer/input_spec.h"

#include "semifer/util/error.h"

namespace semifer::infer {

void InputSpec::validate() const {
  SEMIFER_CHECK(size >= 1, "the input size must be positive, got ", size);
  for (float s : std) {
    SEMIFER_CHECK(s > 0, "a normalisation std must be positive, got ", s);
  }
}

}  // namespace semifer::infer
