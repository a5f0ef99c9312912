//! Brunt's repository tasks, run as `cargo xtask <command>`.

mod bench;
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
    /// Measure Brunt's own cost against hand-written loops in the same run
    /// (release build) and write target/stress-reports/bench.json.
    Bench {
        /// Repetitions of each ratio measurement; the median is reported.
        #[arg(long, default_value_t = 3)]
        runs: usize,
    },
    /// Run the stress suite and write stress-report.md, stress-report.json,
    /// junit.xml and stress-report.html (exit 0 all passed, 1 a criterion
    /// failed or a regression, 2 usage or input error).
    StressReport(Box<brunt_suite::StressReportArgs>),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::StressReport(args) => brunt_suite::stress_report(*args),
        Command::Bench { runs } => match bench::run(&tidy::project_root(), runs) {
            Ok(met) if met => std::process::ExitCode::SUCCESS,
            Ok(_) => {
                eprintln!("bench: some goals were not met (see the table above)");
                std::process::ExitCode::FAILURE
            }
            Err(e) => {
                eprintln!("bench: {e:#}");
                std::process::ExitCode::from(2)
            }
        },
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
