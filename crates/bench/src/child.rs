//! Child processes of the suite (W1's nodes, W3's cold opens, the automerge-repo references),
//! with every wait on them bounded.
//!
//! A child that dies or stalls must become a `failed` row within a bounded time and let the
//! rest of the suite run. So a child runs in a process group of its own (a Node reference forks
//! helpers that inherit its output: when it dies they keep the pipe open, and waiting for the
//! end of its output would wait for ever), its output is read on a thread, every wait has a
//! deadline, its exit is noticed while waiting, and on expiry or failure the whole group is
//! killed.

use std::fmt;
use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

/// `default`, or `COMMONPLACE_BENCH_CHILD_TIMEOUT` seconds when set (for slow machines).
pub fn limit(default: Duration) -> Duration {
    std::env::var("COMMONPLACE_BENCH_CHILD_TIMEOUT")
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
        .map_or(default, Duration::from_secs)
}

/// How long a child's helpers may go on writing after it exited.
const GRACE: Duration = Duration::from_millis(500);

/// How often a wait looks whether the child exited.
const POLL: Duration = Duration::from_millis(20);

/// Why a child gave no answer.
#[derive(Debug)]
#[non_exhaustive]
pub enum ChildFailure {
    /// It could not be started.
    Spawn(std::io::Error),
    /// It exited before answering, or exited unsuccessfully.
    Exited(ExitStatus),
    /// It gave no answer within its time; it was killed.
    Stalled(Duration),
}

impl fmt::Display for ChildFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChildFailure::Spawn(e) => write!(f, "could not start: {e}"),
            ChildFailure::Exited(s) => write!(f, "exited ({s}) without an answer"),
            ChildFailure::Stalled(t) => write!(f, "no answer within {} s; killed", t.as_secs()),
        }
    }
}

impl std::error::Error for ChildFailure {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ChildFailure::Spawn(e) => Some(e),
            _ => None,
        }
    }
}

/// A running child whose output lines arrive on a channel, killed (with its process group)
/// when dropped.
pub struct Bounded {
    child: Child,
    lines: Receiver<String>,
    deadline: Instant,
    limit: Duration,
    exited: Option<ExitStatus>,
}

impl Bounded {
    /// Starts `cmd` with its output piped, to be done within `limit` of now.
    pub fn spawn(cmd: &mut Command, limit: Duration) -> Result<Bounded, ChildFailure> {
        let mut child = cmd
            .stdout(Stdio::piped())
            .process_group(0)
            .spawn()
            .map_err(ChildFailure::Spawn)?;
        let (tx, lines) = channel();
        if let Some(out) = child.stdout.take() {
            // Ends at the end of the output; a send fails only once we stopped listening.
            std::thread::spawn(move || {
                for line in BufReader::new(out).lines() {
                    let Ok(line) = line else { break };
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            });
        }
        Ok(Bounded {
            child,
            lines,
            deadline: Instant::now() + limit,
            limit,
            exited: None,
        })
    }

    /// The child's input, if it was piped.
    pub fn stdin(&mut self) -> Option<ChildStdin> {
        self.child.stdin.take()
    }

    /// The next line of output. Fails when the child exits without writing one, and when
    /// the deadline passes (the child is killed then).
    pub fn next_line(&mut self) -> Result<String, ChildFailure> {
        loop {
            let wait = self
                .deadline
                .saturating_duration_since(Instant::now())
                .min(POLL);
            match self.lines.recv_timeout(wait) {
                Ok(line) => return Ok(line),
                Err(RecvTimeoutError::Disconnected) => return Err(self.failure_at_end()),
                Err(RecvTimeoutError::Timeout) => {}
            }
            if self.exited.is_none() {
                self.exited = self.child.try_wait().ok().flatten();
            }
            if let Some(status) = self.exited {
                // Exited; its helpers may still write what it would have.
                return match self.lines.recv_timeout(GRACE) {
                    Ok(line) => Ok(line),
                    Err(_) => {
                        self.kill();
                        Err(ChildFailure::Exited(status))
                    }
                };
            }
            if Instant::now() >= self.deadline {
                self.kill();
                return Err(ChildFailure::Stalled(self.limit));
            }
        }
    }

    /// Every remaining line of output, once the child exited successfully.
    pub fn finish(mut self) -> Result<Vec<String>, ChildFailure> {
        let mut out = Vec::new();
        loop {
            match self.next_line() {
                Ok(line) => out.push(line),
                Err(ChildFailure::Exited(s)) if s.success() => return Ok(out),
                Err(e) => return Err(e),
            }
        }
    }

    /// The output ended: wait (bounded) for the exit status and say why there is no answer.
    fn failure_at_end(&mut self) -> ChildFailure {
        loop {
            if let Some(status) = self.exited.or_else(|| self.child.try_wait().ok().flatten()) {
                self.exited = Some(status);
                self.kill();
                return ChildFailure::Exited(status);
            }
            if Instant::now() >= self.deadline {
                self.kill();
                return ChildFailure::Stalled(self.limit);
            }
            std::thread::sleep(POLL);
        }
    }

    /// Kills the child's whole process group, and the child.
    fn kill(&mut self) {
        let group = self.child.id();
        // The group outlives the child when it forked helpers; `kill` reaches them all.
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{group}")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        if self.exited.is_none() {
            let _ = self.child.kill();
            self.exited = self.child.wait().ok();
        }
    }
}

impl Drop for Bounded {
    fn drop(&mut self) {
        if self.exited.is_none() {
            self.exited = self.child.try_wait().ok().flatten();
        }
        self.kill();
    }
}

/// Runs `cmd` to its end within `limit`: its output lines, or why there are none.
pub fn output(cmd: &mut Command, limit: Duration) -> Result<Vec<String>, ChildFailure> {
    Bounded::spawn(cmd.stdin(Stdio::null()), limit)?.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str) -> Command {
        let mut c = Command::new("sh");
        c.args(["-c", script]).stderr(Stdio::null());
        c
    }

    #[test]
    fn an_answer_is_read() {
        let out = output(&mut sh("echo one; echo two"), Duration::from_secs(20)).unwrap();
        assert_eq!(out, ["one", "two"]);
    }

    #[test]
    fn a_child_that_dies_fails_at_once() {
        let started = Instant::now();
        let e = output(&mut sh("kill -ABRT $$"), Duration::from_secs(60)).unwrap_err();
        assert!(matches!(e, ChildFailure::Exited(s) if !s.success()), "{e}");
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{:?}",
            started.elapsed()
        );
    }

    #[test]
    fn a_child_that_dies_leaving_a_helper_holding_its_output_fails_at_once() {
        // What Node did: the reference died, the helper it forked kept the pipe open.
        let started = Instant::now();
        let mut cmd = sh("sleep 300 & kill -ABRT $$");
        let mut child = Bounded::spawn(cmd.stdin(Stdio::null()), Duration::from_secs(60)).unwrap();
        let e = child.next_line().unwrap_err();
        assert!(matches!(e, ChildFailure::Exited(_)), "{e}");
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{:?}",
            started.elapsed()
        );
    }

    #[test]
    fn a_child_that_stalls_is_killed_at_its_deadline() {
        let started = Instant::now();
        let e = output(&mut sh("echo started; sleep 300"), Duration::from_secs(1)).unwrap_err();
        assert!(matches!(e, ChildFailure::Stalled(_)), "{e}");
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{:?}",
            started.elapsed()
        );
    }

    #[test]
    fn a_child_that_never_answers_a_line_is_killed_at_its_deadline() {
        let started = Instant::now();
        let mut cmd = sh("read never");
        let mut child = Bounded::spawn(cmd.stdin(Stdio::piped()), Duration::from_secs(1)).unwrap();
        let _input = child.stdin();
        let e = child.next_line().unwrap_err();
        assert!(matches!(e, ChildFailure::Stalled(_)), "{e}");
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{:?}",
            started.elapsed()
        );
    }
}
