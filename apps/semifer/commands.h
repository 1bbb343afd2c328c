// The CLI's subcommands: each registers its flags and a callback that turns
// them into a library call. Nothing here holds logic of its own.
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>

namespace semifer::video {
struct VideoOptions;
}

namespace semifer::app {

/// The process's exit status once the command returns (0 unless a command
/// sets another: `semifer train` stopped by SIGINT gives 130, SIGTERM 143).
int& exit_status();

/// A message for a command word of `argv` that names no subcommand where
/// one is expected ("unknown command 'trian'; did you mean 'train'?"), or
/// nullopt.
std::optional<std::string> unknown_subcommand(const CLI::App& app, int argc,
                                              char** argv);

/// The checks of number flags that must be > 0 or >= 0: CLI11's
/// PositiveNumber and NonNegativeNumber, with an error that says what is
/// wanted ("--seeds: must be positive, got 0") instead of a range up to
/// the largest double written out in 300 digits.
const CLI::Validator& positive();
const CLI::Validator& non_negative();

/// `semifer data stats|synth`.
void add_data_commands(CLI::App& app);
/// `semifer data face-template` (added by add_data_commands; built with
/// SEMIFER_VIDEO).
void add_face_template_command(CLI::App* data);

/// `semifer augment preview`.
void add_augment_commands(CLI::App& app);

/// `semifer train`.
void add_train_commands(CLI::App& app);

/// `semifer launch`.
void add_launch_commands(CLI::App& app);

/// `semifer weights inspect|import|export`.
void add_weights_commands(CLI::App& app);

/// `semifer eval` and `semifer predict`.
void add_eval_commands(CLI::App& app);

/// `semifer report`.
void add_report_commands(CLI::App& app);

/// `semifer ablation`.
void add_ablation_commands(CLI::App& app);

/// `semifer demo`.
void add_demo_commands(CLI::App& app);

/// `semifer bench pipeline|infer|video`.
void add_bench_commands(CLI::App& app);

/// `semifer video` (built with SEMIFER_VIDEO).
void add_video_commands(CLI::App& app);

/// The face detection flags of `semifer video` and `semifer bench video`,
/// bound to `options` (built with SEMIFER_VIDEO).
void add_detection_flags(CLI::App* app, video::VideoOptions& options);

}  // namespace semifer::app
