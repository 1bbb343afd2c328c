#include "torch_unpickler.h"

#include <torch/torch.h>

#include <cstring>
#include <map>
#include <memory>
#include <unordered_map>
#include <vector>

#include "semifer/util/error.h"

namespace semifer::io {

namespace {

// The legacy typed-storage classes torch.save names in persistent ids, also
// in PyTorch 2.x (`torch FloatStorage` etc.).
struct StorageType {
  const char* name;
  at::ScalarType dtype;
};
const StorageType kStorageTypes[] = {
    {"FloatStorage", at::kFloat},
    {"DoubleStorage", at::kDouble},
    {"HalfStorage", at::kHalf},
    {"BFloat16Storage", at::kBFloat16},
    {"ComplexFloatStorage", at::kComplexFloat},
    {"ComplexDoubleStorage", at::kComplexDouble},
    {"LongStorage", at::kLong},
    {"IntStorage", at::kInt},
    {"ShortStorage", at::kShort},
    {"CharStorage", at::kChar},
    {"ByteStorage", at::kByte},
    {"BoolStorage", at::kBool},
};

enum class Kind {
  kNone,
  kBool,
  kInt,
  kFloat,
  kString,
  kTuple,
  kList,
  kDict,
  kGlobal,
  kStorage,
  kTensor
};

const char* kind_name(Kind k) {
  static const char* const kNames[] = {"None",    "bool",  "int",
                                       "float",   "str",   "tuple",
                                       "list",    "dict",  "class or function",
                                       "storage", "tensor"};
  return kNames[static_cast<int>(k)];
}

// A Python object as far as a state_dict needs one. Shared, because the memo
// and SETITEMS mutate the very dict that sits on the stack.
struct Object;
using Ref = std::shared_ptr<Object>;
struct Object {
  Kind kind = Kind::kNone;
  int64_t i = 0;  // bool, int
  double f = 0;
  std::string s;           // str; "module.name" of a global
  std::vector<Ref> items;  // tuple, list; dict as key, value, key, value, ...
  std::unordered_map<std::string, size_t> index;  // dict: str key -> items
  at::Tensor tensor;  // tensor; storage as a flat tensor of its dtype
};

Ref make_object(Kind kind) {
  auto o = std::make_shared<Object>();
  o->kind = kind;
  return o;
}

class Unpickler {
 public:
  Unpickler(const std::string& path, const uint8_t* data, size_t size,
            const RecordFn& read_record)
      : path_(path), data_(data), size_(size), read_record_(read_record) {}
  // A pickle can put a container into itself (a dict set as its own value
  // through the memo): shared_ptr cycles that would outlive the unpickler.
  // Everything it made is emptied when it ends, so read the result first.
  ~Unpickler() {
    for (const std::weak_ptr<Object>& w : made_) {
      if (Ref o = w.lock()) {
        o->items.clear();
        o->index.clear();
      }
    }
  }
  Unpickler(const Unpickler&) = delete;
  Unpickler& operator=(const Unpickler&) = delete;

  Ref run();

 private:
  Ref make(Kind kind) {
    Ref o = make_object(kind);
    made_.push_back(o);
    return o;
  }
  template <typename... Args>
  [[noreturn]] void bad(Args&&... args) const {
    fail(path_, ": data.pkl byte ", op_pos_, ": ", std::forward<Args>(args)...);
  }
  const uint8_t* take(size_t n) {
    if (n > size_ - pos_) bad("pickle ends in the middle of an opcode");
    const uint8_t* p = data_ + pos_;
    pos_ += n;
    return p;
  }
  uint64_t le(size_t n) {  // unsigned little-endian integer of n <= 8 bytes
    const uint8_t* p = take(n);
    uint64_t v = 0;
    for (size_t k = 0; k < n; ++k) v |= static_cast<uint64_t>(p[k]) << (8 * k);
    return v;
  }
  std::string text(size_t n) {
    const uint8_t* p = take(n);
    return std::string(reinterpret_cast<const char*>(p), n);
  }
  std::string line() {
    const auto* start = data_ + pos_;
    const void* nl = std::memchr(start, '\n', size_ - pos_);
    if (!nl) bad("GLOBAL without a newline");
    const size_t n = static_cast<const uint8_t*>(nl) - start;
    std::string s = text(n);
    ++pos_;
    return s;
  }
  Ref pop() {
    if (stack_.size() <= floor()) bad("pickle stack underflow");
    Ref r = std::move(stack_.back());
    stack_.pop_back();
    return r;
  }
  Ref& top() {
    if (stack_.size() <= floor()) bad("pickle stack underflow");
    return stack_.back();
  }
  size_t floor() const { return marks_.empty() ? 0 : marks_.back(); }
  std::vector<Ref> pop_mark() {
    if (marks_.empty()) bad("pickle has no MARK to pop to");
    std::vector<Ref> items(stack_.begin() + marks_.back(), stack_.end());
    stack_.resize(marks_.back());
    marks_.pop_back();
    return items;
  }
  Ref tuple(std::vector<Ref> items) {
    Ref t = make(Kind::kTuple);
    t->items = std::move(items);
    return t;
  }
  Ref global(const std::string& module, const std::string& name) {
    Ref g = make(Kind::kGlobal);
    g->s = module + "." + name;
    return g;
  }
  void set_items(const Ref& dict, const std::vector<Ref>& kv);
  int64_t as_int(const Ref& o, const char* what) {
    if (o->kind != Kind::kInt && o->kind != Kind::kBool)
      bad(what, " is a ", kind_name(o->kind), ", not an int");
    return o->i;
  }
  std::vector<int64_t> as_ints(const Ref& o, const char* what) {
    if (o->kind != Kind::kTuple && o->kind != Kind::kList)
      bad(what, " is a ", kind_name(o->kind), ", not a tuple");
    std::vector<int64_t> v;
    for (const Ref& x : o->items) v.push_back(as_int(x, what));
    return v;
  }
  Ref persistent_load(const Ref& pid);
  Ref call(const Ref& callable, const Ref& args);
  Ref rebuild_tensor(const std::vector<Ref>& a);

  const std::string& path_;
  const uint8_t* data_;
  size_t size_;
  const RecordFn& read_record_;
  size_t pos_ = 0;
  size_t op_pos_ = 0;
  std::vector<Ref> stack_;
  std::vector<size_t> marks_;
  std::unordered_map<uint64_t, Ref> memo_;
  std::map<std::string, Ref> storages_;      // by record key: views share one
  std::vector<std::weak_ptr<Object>> made_;  // everything make() made
};

void Unpickler::set_items(const Ref& dict, const std::vector<Ref>& kv) {
  if (dict->kind != Kind::kDict)
    bad("SETITEM(S) on a ", kind_name(dict->kind), ", not a dict");
  if (kv.size() % 2 != 0) bad("SETITEMS with an odd number of items");
  for (size_t k = 0; k < kv.size(); k += 2) {
    if (kv[k]->kind == Kind::kString) {
      // Python semantics: a repeated key replaces the value in place.
      auto [it, added] = dict->index.emplace(kv[k]->s, dict->items.size());
      if (!added) {
        dict->items[it->second + 1] = kv[k + 1];
        continue;
      }
    }
    dict->items.push_back(kv[k]);
    dict->items.push_back(kv[k + 1]);
  }
}

// ('storage', storage_type, key, location, numel): the bytes are the archive
// record data/<key>, whatever device `location` names.
Ref Unpickler::persistent_load(const Ref& pid) {
  if (pid->kind != Kind::kTuple || pid->items.size() != 5 ||
      pid->items[0]->kind != Kind::kString || pid->items[0]->s != "storage")
    bad("persistent id is not ('storage', type, key, location, numel)");
  const Ref& type = pid->items[1];
  const Ref& key = pid->items[2];
  if (type->kind != Kind::kGlobal) bad("storage type is not a class");
  if (key->kind != Kind::kString) bad("storage key is not a str");
  const StorageType* st = nullptr;
  for (const StorageType& t : kStorageTypes) {
    if (type->s == std::string("torch.") + t.name) st = &t;
  }
  if (!st) bad("unknown storage type ", type->s);
  const int64_t numel = as_int(pid->items[4], "storage size");
  if (numel < 0) bad("negative storage size ", numel);

  auto it = storages_.find(key->s);
  if (it != storages_.end()) {
    if (it->second->tensor.scalar_type() != st->dtype)
      bad("storage ", key->s, " is read as two different types");
    return it->second;
  }
  const std::string record = "data/" + key->s;
  auto [ptr, nbytes] = read_record_(record);
  const size_t item = c10::elementSize(st->dtype);
  if (static_cast<uint64_t>(numel) > nbytes / item)
    bad("record ", record, " holds ", nbytes, " bytes, but ", numel, " ",
        st->name, " elements need ", static_cast<uint64_t>(numel) * item);
  Ref storage = make(Kind::kStorage);
  auto owner = std::make_shared<at::DataPtr>(std::move(ptr));
  storage->tensor = numel == 0 ? torch::empty({0}, torch::dtype(st->dtype))
                               : torch::from_blob(
                                     owner->get(), {numel}, [owner](void*) {},
                                     torch::dtype(st->dtype));
  storages_[key->s] = storage;
  return storage;
}

// torch._utils._rebuild_tensor_v2(storage, storage_offset, size, stride,
// requires_grad, backward_hooks[, metadata]); the first four are also
// _rebuild_tensor's arguments.
Ref Unpickler::rebuild_tensor(const std::vector<Ref>& a) {
  if (a[0]->kind != Kind::kStorage)
    bad("tensor rebuilt from a ", kind_name(a[0]->kind), ", not a storage");
  const at::Tensor& flat = a[0]->tensor;
  const int64_t offset = as_int(a[1], "storage offset");
  const std::vector<int64_t> sizes = as_ints(a[2], "tensor size");
  const std::vector<int64_t> strides = as_ints(a[3], "tensor stride");
  if (sizes.size() != strides.size())
    bad("tensor has ", sizes.size(), " sizes but ", strides.size(), " strides");
  int64_t last = offset;  // the highest element index the view touches
  bool empty = false;
  for (size_t d = 0; d < sizes.size(); ++d) {
    if (sizes[d] < 0 || strides[d] < 0) bad("negative tensor size or stride");
    if (sizes[d] == 0) empty = true;
    int64_t span = 0;
    if (sizes[d] > 0 &&
        (__builtin_mul_overflow(sizes[d] - 1, strides[d], &span) ||
         __builtin_add_overflow(last, span, &last)))
      bad("tensor size and stride overflow int64");
  }
  Ref t = make(Kind::kTensor);
  if (empty) {
    t->tensor = torch::empty(sizes, flat.options());
    return t;
  }
  if (offset < 0 || last >= flat.numel())
    bad("tensor view [offset ", offset, ", size ", c10::IntArrayRef(sizes),
        ", stride ", c10::IntArrayRef(strides), "] runs past its storage of ",
        flat.numel(), " elements");
  t->tensor = flat.as_strided(sizes, strides, offset)
                  .clone(at::MemoryFormat::Contiguous);
  return t;
}

Ref Unpickler::call(const Ref& callable, const Ref& args) {
  if (callable->kind != Kind::kGlobal)
    bad("REDUCE calls a ", kind_name(callable->kind));
  if (args->kind != Kind::kTuple) bad("REDUCE arguments are not a tuple");
  const std::string& f = callable->s;
  const std::vector<Ref>& a = args->items;
  auto arity = [&](size_t lo, size_t hi) {
    if (a.size() < lo || a.size() > hi)
      bad(f, " called with ", a.size(), " arguments");
  };
  auto tensor_arg = [&]() {
    if (a[0]->kind != Kind::kTensor) bad(f, " of a ", kind_name(a[0]->kind));
    return a[0];
  };
  if (f == "collections.OrderedDict") {
    arity(0, 0);
    return make(Kind::kDict);
  }
  if (f == "torch._utils._rebuild_tensor_v2") {
    arity(6, 7);  // metadata, when present, holds Python-only attributes
    return rebuild_tensor(a);
  }
  if (f == "torch._utils._rebuild_tensor") {
    arity(4, 4);
    return rebuild_tensor(a);
  }
  if (f == "torch._utils._rebuild_parameter") {
    arity(3, 3);
    return tensor_arg();
  }
  if (f == "torch._utils._rebuild_parameter_with_state") {
    arity(4, 4);
    return tensor_arg();
  }
  if (f == "torch._tensor._rebuild_from_type_v2" ||
      f == "torch._utils._rebuild_from_type_v2") {
    arity(4, 4);  // (func, type, args, state): a Tensor subclass
    return call(a[0], a[2]);
  }
  if (f == "torch.jit._pickle.restore_type_tag") {
    arity(2, 2);  // what LibTorch's torch::pickle_save wraps dicts in
    return a[0];
  }
  bad("unsupported callable ", f, " (not part of a state_dict)");
}

Ref Unpickler::run() {
  while (true) {
    op_pos_ = pos_;
    const uint8_t op = *take(1);
    switch (op) {
      case 0x80:  // PROTO
        take(1);
        break;
      case 0x95:  // FRAME: only a read-ahead hint
        take(8);
        break;
      case '.':  // STOP
        return pop();
      case '(':  // MARK
        marks_.push_back(stack_.size());
        break;
      case '}':  // EMPTY_DICT
        stack_.push_back(make(Kind::kDict));
        break;
      case ']':  // EMPTY_LIST
        stack_.push_back(make(Kind::kList));
        break;
      case ')':  // EMPTY_TUPLE
        stack_.push_back(tuple({}));
        break;
      case 't':  // TUPLE
        stack_.push_back(tuple(pop_mark()));
        break;
      case 0x85:    // TUPLE1
      case 0x86:    // TUPLE2
      case 0x87: {  // TUPLE3
        std::vector<Ref> items(op - 0x84);
        for (size_t k = items.size(); k-- > 0;) items[k] = pop();
        stack_.push_back(tuple(std::move(items)));
        break;
      }
      case 'X':     // BINUNICODE
      case 0x8c:    // SHORT_BINUNICODE
      case 0x8d: {  // BINUNICODE8
        const size_t n = le(op == 'X' ? 4 : op == 0x8c ? 1 : 8);
        Ref s = make(Kind::kString);
        s->s = text(n);
        stack_.push_back(std::move(s));
        break;
      }
      case 'J':     // BININT
      case 'K':     // BININT1
      case 'M':     // BININT2
      case 0x8a: {  // LONG1
        Ref i = make(Kind::kInt);
        if (op == 'J') {
          i->i = static_cast<int32_t>(le(4));
        } else if (op == 'K' || op == 'M') {
          i->i = static_cast<int64_t>(le(op == 'K' ? 1 : 2));
        } else {
          const size_t n = le(1);
          if (n > 8) bad("LONG1 of ", n, " bytes does not fit in int64");
          const uint64_t v = le(n);
          const int shift = 64 - 8 * static_cast<int>(n);
          // Sign-extend the n-byte two's complement value.
          i->i = n == 0 ? 0 : static_cast<int64_t>(v << shift) >> shift;
        }
        stack_.push_back(std::move(i));
        break;
      }
      case 'G': {  // BINFLOAT: big-endian double
        const uint8_t* p = take(8);
        uint64_t bits = 0;
        for (int k = 0; k < 8; ++k) bits = (bits << 8) | p[k];
        Ref f = make(Kind::kFloat);
        std::memcpy(&f->f, &bits, 8);
        stack_.push_back(std::move(f));
        break;
      }
      case 0x88:    // NEWTRUE
      case 0x89: {  // NEWFALSE
        Ref b = make(Kind::kBool);
        b->i = op == 0x88;
        stack_.push_back(std::move(b));
        break;
      }
      case 'N':  // NONE
        stack_.push_back(make(Kind::kNone));
        break;
      case 'c': {  // GLOBAL "module\nname\n"
        std::string module = line();
        stack_.push_back(global(module, line()));
        break;
      }
      case 0x93: {  // STACK_GLOBAL
        Ref name = pop(), module = pop();
        if (name->kind != Kind::kString || module->kind != Kind::kString)
          bad("STACK_GLOBAL of non-strings");
        stack_.push_back(global(module->s, name->s));
        break;
      }
      case 'Q':  // BINPERSID
        stack_.push_back(persistent_load(pop()));
        break;
      case 'R': {  // REDUCE
        Ref args = pop();
        Ref callable = pop();
        stack_.push_back(call(callable, args));
        break;
      }
      case 'b': {  // BUILD
        pop();     // the state
        // OrderedDict carries `_metadata` (module versions) as its state.
        if (top()->kind != Kind::kDict)
          bad("BUILD on a ", kind_name(top()->kind));
        break;
      }
      case 's': {  // SETITEM
        Ref value = pop(), key = pop();
        set_items(top(), {key, value});
        break;
      }
      case 'u': {  // SETITEMS
        std::vector<Ref> kv = pop_mark();
        set_items(top(), kv);
        break;
      }
      case 'a':    // APPEND
      case 'e': {  // APPENDS
        std::vector<Ref> items =
            op == 'a' ? std::vector<Ref>{pop()} : pop_mark();
        Ref& list = top();
        if (list->kind != Kind::kList)
          bad("APPEND to a ", kind_name(list->kind));
        list->items.insert(list->items.end(), items.begin(), items.end());
        break;
      }
      case 'q':  // BINPUT
      case 'r':  // LONG_BINPUT
        memo_[le(op == 'q' ? 1 : 4)] = top();
        break;
      case 0x94:  // MEMOIZE
        memo_[memo_.size()] = top();
        break;
      case 'h':    // BINGET
      case 'j': {  // LONG_BINGET
        const uint64_t id = le(op == 'h' ? 1 : 4);
        auto it = memo_.find(id);
        if (it == memo_.end()) bad("memo key ", id, " is unset");
        stack_.push_back(it->second);
        break;
      }
      default: {
        const bool printable = op >= 0x20 && op < 0x7f;
        bad("unsupported pickle opcode 0x", std::hex, int{op}, std::dec,
            printable ? std::string(" '") + char(op) + "'" : std::string());
      }
    }
  }
}

}  // namespace

const char* storage_type_name(at::ScalarType dtype) {
  for (const StorageType& t : kStorageTypes) {
    if (t.dtype == dtype) return t.name;
  }
  return nullptr;
}

StateDict unpickle_state_dict(const std::string& path, const uint8_t* data,
                              size_t size, const RecordFn& read_record) {
  Unpickler unpickler(path, data, size, read_record);
  const Ref root = unpickler.run();
  SEMIFER_CHECK(root->kind == Kind::kDict, path, ": holds a ",
                kind_name(root->kind), ", not a dict of tensors");
  StateDict state;
  for (size_t k = 0; k < root->items.size(); k += 2) {
    const Ref& key = root->items[k];
    const Ref& value = root->items[k + 1];
    SEMIFER_CHECK(key->kind == Kind::kString, path, ": dict key ", k / 2,
                  " is a ", kind_name(key->kind), ", not a str");
    SEMIFER_CHECK(value->kind == Kind::kTensor, path, ": key '", key->s,
                  "' holds a ", kind_name(value->kind), ", not a tensor",
                  value->kind == Kind::kDict
                      ? " (a checkpoint rather than a state_dict?)"
                      : "");
    state.keys.push_back(key->s);
    state.tensors.push_back(value->tensor);
  }
  return state;
}

}  // namespace semifer::io
