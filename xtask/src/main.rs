//! Brunt's repository tasks, run as `cargo xtask <command>`.

mod tidy;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "cargo xtask", about = "Brunt's repository tasks")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check the repository rules: `//!` headers, no stdout printing in the
    /// library, and a README that documents every command, attribute key,
    /// metric and environment variable. `cargo test` runs the same checks.
    Tidy,
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Tidy => {
            let problems = tidy::check(&tidy::project_root());
            for problem in &problems {
                eprintln!("tidy: {problem}");
            }
            if problems.is_empty() {
                eprintln!("tidy: ok");
                std::process::ExitCode::SUCCESS
            } else {
                std::process::ExitCode::FAILURE
            }
        }
    }
}
