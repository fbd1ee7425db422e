//! `commonplace`: the command line of Commonplace. Parsing, logging and the exit status
//! only; the commands are in the library (`commonplace_cli`).

use std::process::ExitCode;

use clap::Parser;
use commonplace_cli::Cli;

fn main() -> ExitCode {
    let argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let cli = Cli::parse_from(argv.clone());
    // The always-on peer reports its syncs; everything else stays quiet unless asked
    // (COMMONPLACE_LOG), so that a failure is the one `error:` line. Libraries' own log
    // lines (Automerge, iroh) are never shown by default.
    let default_level = if cli.is_serve() {
        "off,commonplace_node=info,commonplace_net=info,commonplace=info,commonplace_cli=info"
    } else {
        "off"
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("COMMONPLACE_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_level)),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    commonplace_cli::run(cli, argv)
}
