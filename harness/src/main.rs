//! The `harness` binary: parses the command line and maps outcomes to exit codes.

use clap::Parser;
use harness::cli::{Cli, Command};
use harness::commands::{self, Failure};

/// mimalloc rather than the system allocator: import frees on one thread what the packet
/// reader allocated on another, which glibc's malloc serialises on a lock.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let cli = Cli::parse();
    let code = match run(cli) {
        Ok(code) => code,
        Err(failure) => {
            eprintln!("error: {failure}");
            failure.exit_code()
        }
    };
    std::process::exit(code);
}

fn run(cli: Cli) -> Result<i32, Failure> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::Runtime(format!("cannot start the async runtime: {e}")))?;
    match &cli.command {
        Command::Run(args) => runtime.block_on(commands::run(args)),
        Command::Serve(args) => runtime.block_on(commands::serve(args)),
        Command::Check(args) => commands::check(args),
        Command::Review(args) => commands::review(args),
        Command::New(args) => commands::new(args),
        Command::Dialects(args) => commands::dialects(args),
        Command::Import(args) => commands::import(args),
        Command::Judge(args) => commands::judge(args),
        Command::Whatif(args) => runtime.block_on(commands::whatif(args)),
        Command::Inspect(args) => commands::inspect(args),
        Command::Record(args) => runtime.block_on(commands::record(args)),
        Command::Merge(args) => commands::merge(args),
        Command::Diff(args) => commands::diff(args),
        Command::VerifyBundle(args) => commands::verify_bundle(args),
        Command::Bench(args) => runtime.block_on(harness::bench::bench(args)),
    }
}
