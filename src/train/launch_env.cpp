#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>

#include "semifer/train/distributed.h"
#include "semifer/util/error.h"
#include "semifer/util/strings.h"

// The torchrun environment of a data-parallel rank (no c10d here: the Group
// that joins the job is in distributed.cpp).
namespace semifer::train {

namespace {

std::optional<std::string> process_env(const std::string& name) {
  const char* v = std::getenv(name.c_str());
  if (v == nullptr) return std::nullopt;
  return std::string(v);
}

int parse_env_int(const EnvReader& get, const std::string& name, int fallback,
                  int low, int high) {
  const auto v = get(name);
  if (!v) return fallback;
  const std::optional<int64_t> n = util::parse_int(*v);
  SEMIFER_CHECK(n.has_value(), name, "='", *v, "' is not an integer");
  SEMIFER_CHECK(*n >= low && *n <= high, name, "=", *n, " must lie in [", low,
                ", ", high, "]");
  return static_cast<int>(*n);
}

}  // namespace

LaunchEnv read_launch_env(const EnvReader& reader) {
  const EnvReader get = reader ? reader : EnvReader(process_env);
  LaunchEnv env;
  env.present = get("RANK").has_value() || get("WORLD_SIZE").has_value();
  if (!env.present) return env;
  SEMIFER_CHECK(get("RANK") && get("WORLD_SIZE"),
                "a data-parallel launch needs both RANK and WORLD_SIZE; only ",
                get("RANK") ? "RANK" : "WORLD_SIZE", " is set");
  env.world_size = parse_env_int(get, "WORLD_SIZE", 1, 1, 1 << 20);
  env.rank = parse_env_int(get, "RANK", 0, 0, env.world_size - 1);
  env.local_world_size =
      parse_env_int(get, "LOCAL_WORLD_SIZE", env.world_size, 1, env.world_size);
  env.local_rank =
      parse_env_int(get, "LOCAL_RANK", env.rank % env.local_world_size, 0,
                    env.local_world_size - 1);
  env.master_port = parse_env_int(get, "MASTER_PORT", 29500, 1, 65535);
  if (auto addr = get("MASTER_ADDR")) {
    SEMIFER_CHECK(!addr->empty(), "MASTER_ADDR is empty");
    env.master_addr = *addr;
  } else {
    SEMIFER_CHECK(env.world_size == 1,
                  "MASTER_ADDR is not set (the address of rank 0's host)");
  }
  if (auto agent = get("TORCHELASTIC_USE_AGENT_STORE"))
    env.agent_store = util::to_lower(*agent) == "true" || *agent == "1";
  env.restart_count =
      parse_env_int(get, "TORCHELASTIC_RESTART_COUNT", 0, 0, 1 << 20);
  env.max_restarts =
      parse_env_int(get, "TORCHELASTIC_MAX_RESTARTS", 0, 0, 1 << 20);
  if (auto ifname = get("GLOO_SOCKET_IFNAME")) env.socket_ifname = *ifname;
  return env;
}

}  // namespace semifer::train
