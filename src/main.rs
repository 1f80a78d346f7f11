//! The `so101-lab` binary: parse the command line, run, report errors once.
use clap::Parser;

fn main() -> std::process::ExitCode {
    so101_lab::alloc_tuning::tune_allocator();
    let cli = so101_lab::cli::Cli::parse();
    match so101_lab::cli::run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
