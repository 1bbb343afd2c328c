#include "support/support.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <functional>
#include <random>
#include <thread>

#include "semifer/util/strings.h"

namespace fs = std::filesystem;

namespace semifer::test {

TempDir::TempDir() {
  std::string tmpl =
      (fs::temp_directory_path() / "semifer-test-XXXXXX").string();
  char* made = ::mkdtemp(tmpl.data());
  if (!made) throw std::runtime_error("mkdtemp failed");
  path_ = made;
}

TempDir::~TempDir() { util::remove_tree(path_.string()); }

std::string TempDir::file(const std::string& rel) const {
  const fs::path p = path_ / rel;
  fs::create_directories(p.parent_path());
  return p.string();
}

io::Image pattern_image(int w, int h, int seed) {
  io::Image image(w, h);
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      uint8_t* p = image.pixel(x, y);
      p[0] = static_cast<uint8_t>((x * 255) / std::max(1, w - 1));
      p[1] = static_cast<uint8_t>((y * 255) / std::max(1, h - 1));
      p[2] = static_cast<uint8_t>((seed * 37 + x + y) % 256);
    }
  }
  return image;
}

std::string write_pattern(const std::string& path, int w, int h, int seed) {
  fs::create_directories(fs::path(path).parent_path());
  io::write_image(path, pattern_image(w, h, seed), 90, util::Durability::kFast);
  return path;
}

std::string write_text_file(const std::string& path, const std::string& text) {
  fs::create_directories(fs::path(path).parent_path());
  util::write_text(path, text, util::Durability::kFast);
  return path;
}

std::string shared_data_dir() {
  const fs::path dir = fs::path(SEMIFER_SOURCE_DIR) / ".." / "shared" / "data";
  std::error_code ec;
  return fs::is_directory(dir, ec) ? fs::canonical(dir).string() : "";
}

std::string python_with_torchvision() {
  for (const char* py : {"/usr/bin/python3"}) {
    if (::access(py, X_OK) != 0) continue;
    const std::string cmd =
        std::string(py) + " -c 'import torchvision' >/dev/null 2>&1";
    if (std::system(cmd.c_str()) == 0) return py;
  }
  return "";
}

namespace {
std::string quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'')
      out += "'\\''";
    else
      out += c;
  }
  return out + "'";
}
}  // namespace

RunResult run_cli(const std::vector<std::string>& args) {
  return run_program(SEMIFER_CLI, args);
}

RunResult run_program(const std::string& program,
                      const std::vector<std::string>& args) {
  TempDir tmp;
  std::string cmd = quote(program);
  for (const auto& a : args) cmd += " " + quote(a);
  cmd += " >" + quote((tmp.path() / "out").string()) + " 2>" +
         quote((tmp.path() / "err").string()) + " </dev/null";
  const int status = std::system(cmd.c_str());
  RunResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = text_of(tmp.path() / "out");
  r.err = text_of(tmp.path() / "err");
  return r;
}

std::string text_of(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return "";
  const auto bytes = util::read_file(path);
  return std::string(bytes.begin(), bytes.end());
}

namespace {

// Polls `done` every 20 ms for up to `seconds`; whether it became true.
bool wait_until(double seconds, const std::function<bool()>& done) {
  const auto end =
      std::chrono::steady_clock::now() +
      std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
  while (std::chrono::steady_clock::now() < end) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

}  // namespace

bool wait_for_file(const std::string& path, double seconds) {
  return wait_until(seconds, [&] {
    std::error_code ec;
    return fs::exists(path, ec);
  });
}

int wait_exit(int pid, double seconds) {
  int status = 0;
  if (!wait_until(seconds,
                  [&] { return waitpid(pid, &status, WNOHANG) == pid; }))
    return -1;
  return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}

int start_program(const std::string& program,
                  const std::vector<std::string>& args, const std::string& out,
                  const std::string& err, const std::vector<std::string>& env,
                  bool own_group) {
  const pid_t pid = fork();
  if (pid == 0) {
    if (own_group) setpgid(0, 0);
    const int o = ::open(out.empty() ? "/dev/null" : out.c_str(),
                         O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(o, 1);
    dup2(e, 2);
    for (const auto& v : env) putenv(const_cast<char*>(v.c_str()));
    std::vector<char*> argv = {const_cast<char*>(program.c_str())};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execvp(program.c_str(), argv.data());
    _exit(127);
  }
  return pid;
}

int start_cli(const std::vector<std::string>& args, const std::string& out,
              const std::string& err, const std::vector<std::string>& env,
              bool own_group) {
  return start_program(SEMIFER_CLI, args, out, err, env, own_group);
}

}  // namespace semifer::test
