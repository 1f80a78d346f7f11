//! The `so101-lab` binary: parse the command line, run, report errors once.
use clap::Parser;

fn main() -> std::process::ExitCode {
    so101_lab::alloc_tuning::tune_allocator();
    // Like any Unix filter, end quietly when the reader of our output goes away
    // (`so101-lab policy info F | head`) instead of panicking in println!.
    #[cfg(unix)]
    // SAFETY: restores the default disposition of one signal, before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = so101_lab::cli::Cli::parse();
    match so101_lab::cli::run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
