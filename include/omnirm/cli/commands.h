// Each subcommand registers itself on the root CLI11 app; one file per subcommand.
#pragma once

#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace omnirm::cli {

void add_train_command(CLI::App& app);
void add_eval_command(CLI::App& app);
void add_score_command(CLI::App& app);
void add_serve_command(CLI::App& app);
void add_export_command(CLI::App& app);
void add_data_command(CLI::App& app);
void add_tokenizer_command(CLI::App& app);
void add_bench_command(CLI::App& app);
void add_bench_data_command(CLI::App& app);  // `bench data`, after add_bench_command
void add_bench_load_command(CLI::App& app);  // `bench load`, after add_bench_command
void add_launch_command(CLI::App& app);
void add_plot_command(CLI::App& app);
void add_model_command(CLI::App& app);   // `model inspect`
void add_config_command(CLI::App& app);  // `config show`, `config docs`
void add_doctor_command(CLI::App& app);
// `bench dist`, under the `bench` command.
void add_bench_dist_command(CLI::App& bench);
// `bench serve`, under the `bench` command.
void add_bench_serve_command(CLI::App& bench);
// `bench eval`, under the `bench` command.
void add_bench_eval_command(CLI::App& bench);

// Thrown by a command that ends with a specific exit code (e.g. `launch` passing on a
// worker's); cli::run returns `code` without printing anything more.
struct CommandExit {
  int code = 0;
};

// Options shared by the commands that read a config: --config FILE and --set key=value.
struct ConfigOptions {
  std::string path;
  std::vector<std::string> overrides;
};
void add_config_options(CLI::App& command, ConfigOptions& options);

}  // namespace omnirm::cli
