// Where a rank's Gloo binds: an address the other machines reach, found
// from the route to the master, or on the master's machine from what the
// other machines' ranks say in the store (docs/distributed.md).
#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <exception>
#include <string>
#include <thread>

#include "group_impl.h"

namespace semifer::train {

namespace {

// A loopback address (or name), as text.
bool loopback(const std::string& addr) {
  return addr == "localhost" || addr.rfind("127.", 0) == 0 || addr == "::1" ||
         addr.rfind("::ffff:127.", 0) == 0;
}

// An address's text (IPv4 or IPv6).
std::string address_text(const sockaddr* addr) {
  char text[INET6_ADDRSTRLEN] = {0};
  const void* ip =
      addr->sa_family == AF_INET
          ? static_cast<const void*>(
                &reinterpret_cast<const sockaddr_in*>(addr)->sin_addr)
          : static_cast<const void*>(
                &reinterpret_cast<const sockaddr_in6*>(addr)->sin6_addr);
  return inet_ntop(addr->sa_family, ip, text, sizeof(text)) ? text : "";
}

// How this machine reaches the master: the first address MASTER_ADDR
// resolves to here, and the source address of the route there (a UDP
// socket "connected" to it: no packet is sent); empty where either cannot
// be found.
struct MasterRoute {
  std::string resolved;
  std::string source;
  // MASTER_ADDR resolves to a loopback address here: this is the master's
  // machine, known by a host name that /etc/hosts maps to 127.0.1.1
  // (Debian's default) or 127.0.0.1.
  bool loopback() const { return semifer::train::loopback(resolved); }
};

MasterRoute route_to(const std::string& master) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* found = nullptr;
  MasterRoute out;
  if (getaddrinfo(master.c_str(), "9", &hints, &found) != 0) return out;
  // The first address with a route; else the first address.
  for (addrinfo* a = found; a && out.source.empty(); a = a->ai_next) {
    const int fd = socket(a->ai_family, SOCK_DGRAM, 0);
    if (fd < 0) continue;
    sockaddr_storage local{};
    socklen_t len = sizeof(local);
    if (connect(fd, a->ai_addr, a->ai_addrlen) == 0 &&
        getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len) == 0) {
      out.source = address_text(reinterpret_cast<sockaddr*>(&local));
      out.resolved = address_text(a->ai_addr);
    }
    close(fd);
  }
  if (out.resolved.empty() && found)
    out.resolved = address_text(found->ai_addr);
  freeaddrinfo(found);
  return out;
}

std::string host_name() {
  char name[256] = {0};
  gethostname(name, sizeof(name) - 1);
  return name;
}

// Where the ranks on another machine than the master's say which address
// MASTER_ADDR is to them, and how many ranks found it a loopback address.
constexpr const char* kMasterSeenAs = "semifer/master_address";
constexpr const char* kLoopbackRanks = "semifer/loopback_ranks";

}  // namespace

// Where this rank's Gloo binds, an address the other machines reach:
// GLOO_SOCKET_IFNAME's interface where it is set; 127.0.0.1 for a loopback
// MASTER_ADDR; elsewhere the source address of the route to the master;
// but where MASTER_ADDR is a host name that resolves to a loopback address
// here (the master's own name, which Debian maps to 127.0.1.1), the
// address the ranks of the other machines resolve it to. Every rank that
// resolves it to another address writes that to the store, every other
// rank counts itself there: when all ranks have counted themselves, the
// job is on one machine and stays on 127.0.0.1 (LOCAL_WORLD_SIZE, often
// unset, is not trusted for this). Gloo's default, the host name's
// address, which Python's torch.distributed binds, is 127.0.1.1 on a
// Debian machine: the others cannot reach it there.
std::string Group::Impl::gloo_host(Millis wait) const {
  const std::string& ifname = env.socket_ifname;
  if (loopback(env.master_addr)) return ifname.empty() ? "127.0.0.1" : ifname;
  const MasterRoute route = route_to(env.master_addr);
  if (!route.loopback()) {
    if (!route.resolved.empty())
      store->set(kMasterSeenAs, to_bytes(route.resolved));
    if (!ifname.empty()) return ifname;
    return route.source.empty() ? host_name() : route.source;
  }
  store->add(kLoopbackRanks, 1);
  if (!ifname.empty()) return ifname;
  const auto deadline = Clock::now() + wait;
  for (;;) {
    if (store->check({kMasterSeenAs})) return text_at(*store, kMasterSeenAs);
    if (store->add(kLoopbackRanks, 0) >= env.world_size) return "127.0.0.1";
    if (Clock::now() >= deadline) break;
    std::this_thread::sleep_for(Millis(20));
  }
  fail("rendezvous: rank ", env.rank, " of ", env.world_size, ": MASTER_ADDR ",
       env.master_addr, " is ", route.resolved,
       " (a loopback address) on this machine, and within ",
       std::chrono::duration<double>(wait).count(),
       " s neither did every rank find it so (one machine) nor did a rank of "
       "another machine say how it reaches this one; set GLOO_SOCKET_IFNAME "
       "to the interface the other machines reach");
}

}  // namespace semifer::train
