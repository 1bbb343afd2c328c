// Records the ATen operations called on this thread while an OpObserver
// lives (RecordFunction callbacks): what tests of device work without host
// synchronisation (the batched renderer, the captured training step) look
// at. Header-only: the augment and train test programs include it.
#pragma once

#include <ATen/ATen.h>
#include <ATen/record_function.h>

#include <sstream>
#include <string>
#include <vector>

namespace semifer::test {

/// One ATen operation as the dispatcher saw it.
struct OpCall {
  std::string name;  ///< "aten::add_"
  int depth = 0;     ///< 0: called by the code under test, 1: by such an op
  /// The inputs as the host sees them: tensors as type and sizes, numbers
  /// (wrapped numbers too) by value, the rest as printed.
  std::string arguments;
  bool host_tensor = false;  ///< a CPU tensor (not a wrapped number) came in
  bool generator = false;    ///< an explicit random generator came in
};

namespace observer_detail {

inline thread_local std::vector<OpCall>* calls = nullptr;
inline thread_local int depth = 0;

inline bool host_tensor(const c10::IValue& v) {
  if (!v.isTensor()) return false;
  const at::Tensor& t = v.toTensor();
  // Scalars (x.mul(0.5f)) travel as wrapped numbers, not as copies.
  return t.defined() && t.device().is_cpu() &&
         !t.unsafeGetTensorImpl()->is_wrapped_number();
}

inline void describe(std::ostream& os, const c10::IValue& v) {
  if (!v.isTensor()) {
    os << v;
    return;
  }
  const at::Tensor& t = v.toTensor();
  if (!t.defined()) {
    os << "undefined";
  } else if (t.unsafeGetTensorImpl()->is_wrapped_number()) {
    // Read without an operation (item() would be observed itself).
    if (t.scalar_type() == at::kDouble) {
      os << *t.data_ptr<double>();
    } else if (t.scalar_type() == at::kLong) {
      os << *t.data_ptr<int64_t>();
    } else {
      os << "wrapped " << t.scalar_type();
    }
  } else {
    os << t.scalar_type() << t.sizes();
  }
}

inline std::unique_ptr<at::ObserverContext> on_start(
    const at::RecordFunction& fn) {
  OpCall call;
  call.name = fn.name();
  call.depth = depth++;
  std::ostringstream args;
  for (const c10::IValue& v : fn.inputs()) {
    bool host = host_tensor(v);
    if (v.isList()) {
      args << "[";
      for (const c10::IValue& e : v.toListRef()) {
        host = host || host_tensor(e);
        describe(args, e);
        args << " ";
      }
      args << "]";
    } else {
      describe(args, v);
    }
    args << ", ";
    call.host_tensor = call.host_tensor || host;
    call.generator = call.generator || v.isGenerator();
  }
  call.arguments = args.str();
  if (calls) calls->push_back(std::move(call));
  return nullptr;
}

inline void on_end(const at::RecordFunction&, at::ObserverContext*) { --depth; }

}  // namespace observer_detail

/// Records the ATen operations of its scope on this thread; one at a time.
class OpObserver {
 public:
  OpObserver() {
    observer_detail::calls = &calls_;
    observer_detail::depth = 0;
    handle_ = at::addThreadLocalCallback(
        at::RecordFunctionCallback(observer_detail::on_start,
                                   observer_detail::on_end)
            .needsInputs(true)
            .scopes({at::RecordScope::FUNCTION}));
  }
  ~OpObserver() {
    at::removeCallback(handle_);
    observer_detail::calls = nullptr;
  }
  OpObserver(const OpObserver&) = delete;
  OpObserver& operator=(const OpObserver&) = delete;

  /// The operations so far, in call order.
  const std::vector<OpCall>& calls() const { return calls_; }

 private:
  std::vector<OpCall> calls_;
  at::CallbackHandle handle_;
};

}  // namespace semifer::test
