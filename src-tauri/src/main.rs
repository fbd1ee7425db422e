//! `commonplace-app`: the desktop app.
//!
//! ```text
//! commonplace-app [--profile DIR] [--bind ADDR] [--relay default|none|URL] [--no-mdns]
//! ```
//! The profile defaults to `$COMMONPLACE_PROFILE`, else the platform data directory, as for
//! the CLI, so several members can run side by side on one machine.

use std::process::ExitCode;

fn main() -> ExitCode {
    let opts = match commonplace_app::Options::from_args(std::env::args().skip(1)) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            eprintln!("{}", commonplace_app::USAGE);
            return ExitCode::from(2);
        }
    };
    if opts.help {
        println!("{}", commonplace_app::USAGE);
        return ExitCode::SUCCESS;
    }
    if std::env::var_os("DISPLAY").is_none() && std::env::var_os("WAYLAND_DISPLAY").is_none() {
        eprintln!(
            "error: no display: the Commonplace desktop app needs a graphical session (DISPLAY or WAYLAND_DISPLAY).\n\
             On a machine without one, use the command line instead: `scripts/run.sh cli --help`, or \
             `commonplace serve` for an always-on peer."
        );
        return ExitCode::from(2);
    }
    match commonplace_app::run(opts) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
