// Helpers shared by the tests: temporary folders, small files in real
// formats, the shared real-data folder, and running the CLI.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "semifer/io/image.h"

namespace semifer::test {

/// A fresh folder under the system temp dir, removed with its contents when
/// the object goes away.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  /// path() / rel as a string; parent folders are created.
  std::string file(const std::string& rel) const;

 private:
  std::filesystem::path path_;
};

/// A w x h image with a smooth, seed-dependent pattern.
io::Image pattern_image(int w, int h, int seed = 0);

/// Writes pattern_image as JPEG or PNG (by extension) and returns `path`.
std::string write_pattern(const std::string& path, int w = 16, int h = 16,
                          int seed = 0);

/// Writes text to `path` (parents created) and returns `path`.
std::string write_text_file(const std::string& path, const std::string& text);

/// ../shared/data relative to the source tree, or "" when absent.
std::string shared_data_dir();

/// The Debian python3 that has torchvision, or "" when absent.
std::string python_with_torchvision();

/// Result of running a command.
struct RunResult {
  int exit_code = -1;
  std::string out;  ///< stdout
  std::string err;  ///< stderr
};

/// Runs `program` with the given arguments (shell-quoted here), stdin
/// empty, and waits for it.
RunResult run_program(const std::string& program,
                      const std::vector<std::string>& args);

/// run_program on the semifer CLI.
RunResult run_cli(const std::vector<std::string>& args);

/// A file's text; "" where it does not exist.
std::string text_of(const std::string& path);

/// Waits up to `seconds` for `path` to exist; false if it does not by then.
bool wait_for_file(const std::string& path, double seconds);

/// Waits up to `seconds` for the child `pid`: its exit code (128 + the
/// signal for a signal), or -1 when it is still running.
int wait_exit(int pid, double seconds);

/// Starts `program` (looked up in PATH) with `args` without waiting, as
/// start_cli does.
int start_program(const std::string& program,
                  const std::vector<std::string>& args, const std::string& out,
                  const std::string& err,
                  const std::vector<std::string>& env = {},
                  bool own_group = false);

/// Starts the semifer CLI without waiting: stdout and stderr to the files
/// (stdout to /dev/null when `out` is empty), `env` ("NAME=value") added,
/// in a process group of its own when `own_group`. Returns its pid.
int start_cli(const std::vector<std::string>& args, const std::string& out,
              const std::string& err, const std::vector<std::string>& env = {},
              bool own_group = false);

/// Expects `fn` to throw a std::exception whose message contains every
/// string in `parts` and is one line.
template <typename F>
void expect_error(F&& fn, const std::vector<std::string>& parts) {
  try {
    fn();
    ADD_FAILURE() << "expected an error containing '" << parts.front() << "'";
  } catch (const std::exception& e) {
    const std::string message = e.what();
    for (const auto& p : parts) {
      EXPECT_NE(message.find(p), std::string::npos)
          << "message '" << message << "' lacks '" << p << "'";
    }
    EXPECT_EQ(message.find('\n'), std::string::npos)
        << "message is not one line: " << message;
  }
}

}  // namespace semifer::test
