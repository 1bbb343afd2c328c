// How the ranks of a data-parallel job watch each other: each rank's
// heartbeat in the rendezvous store, and naming the ranks that look lost
// when a collective fails.
#include <chrono>
#include <string>
#include <thread>

#include "group_impl.h"

namespace semifer::train {

namespace {

// Heartbeats every half second; a rank whose counter does not move for
// kLostAfter is lost.
constexpr Millis kBeatEvery{500};
constexpr Millis kLostAfter{2500};

}  // namespace

// Heartbeat n: "<n> <step>".
std::vector<uint8_t> Group::Impl::beat_value(uint64_t n) const {
  return to_bytes(str(n, " ", step.load()));
}

void Group::Impl::beat_loop() {
  c10::intrusive_ptr<c10d::Store> s;
  try {
    s = connect(timeout);
  } catch (const std::exception&) {
    return;
  }
  uint64_t n = 1;  // join() wrote beat 0
  std::unique_lock<std::mutex> lock(beat_mutex);
  while (!stopping) {
    try {
      s->set(beat_key(env.rank), beat_value(n++));
    } catch (const std::exception&) {
      return;  // the store is gone: the next collective reports it
    }
    beat_cv.wait_for(lock, kBeatEvery, [&] { return stopping; });
  }
}

// Each rank's "<counter> <step>", or nullopt where it cannot be read.
std::vector<std::optional<std::pair<uint64_t, int64_t>>> Group::Impl::beats(
    c10d::Store& s) const {
  std::vector<std::optional<std::pair<uint64_t, int64_t>>> out(
      static_cast<size_t>(env.world_size));
  for (int r = 0; r < env.world_size; ++r) {
    try {
      if (!s.check({beat_key(r)})) continue;
      const std::string text = text_at(s, beat_key(r));
      const auto sp = text.find(' ');
      out[r] = std::make_pair(std::stoull(text.substr(0, sp)),
                              std::stoll(text.substr(sp + 1)));
    } catch (const std::exception&) {
    }
  }
  return out;
}

// The ranks that look lost: no heartbeat over kLostAfter, or behind.
std::string Group::Impl::diagnose() const {
  c10::intrusive_ptr<c10d::Store> s;
  try {
    s = connect(Millis(2000));
  } catch (const std::exception&) {
    return env.agent_store
               ? str("torchrun's store at ", env.master_addr, ":",
                     env.master_port, " is unreachable")
               : str("rank 0 is lost (the rendezvous store it serves at ",
                     env.master_addr, ":", env.master_port, " is unreachable)");
  }
  const auto first = beats(*s);
  std::this_thread::sleep_for(kLostAfter);
  std::vector<std::optional<std::pair<uint64_t, int64_t>>> second;
  try {
    second = beats(*s);
  } catch (const std::exception&) {
    second.assign(first.size(), std::nullopt);
  }
  std::vector<std::string> lost;
  const int64_t mine = step.load();
  for (int r = 0; r < env.world_size; ++r) {
    if (r == env.rank) continue;
    const auto& a = first[r];
    const auto& b = second[r];
    if (!b || (a && a->first == b->first)) {
      lost.push_back(str("rank ", r, " (no heartbeat for ",
                         kLostAfter.count() / 1000.0, " s",
                         b ? str("; last at step ", b->second) : "", ")"));
    } else if (b->second < mine) {
      lost.push_back(str("rank ", r, " (alive but at step ", b->second,
                         ", this rank at ", mine, ": hung or slow)"));
    }
  }
  if (lost.empty()) return "no other rank looks lost";
  std::string names;
  for (const auto& l : lost) names += (names.empty() ? "" : ", ") + l;
  return names + (lost.size() == 1 ? " is lost" : " are lost");
}

}  // namespace semifer::train
