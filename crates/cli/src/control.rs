//! The control socket: commands on a profile that another process holds.
//!
//! A profile is open in one process at a time (the database is locked). While `commonplace
//! serve` or the desktop app holds it, it listens on a Unix-domain socket in the profile
//! directory ([`SOCKET_FILE`]); a `commonplace` command on that profile connects, sends its
//! arguments (and what it read from standard input or the terminal), and the holding process
//! runs the command against its own open node and live network, streaming the output back.
//! The client prints it and exits with the status the command ended with. The command's
//! code is the same either way: only where [`Out`] writes differs.
//!
//! Who may connect: the socket is created owner-only (0600) inside the profile directory
//! (0700), and a connection from another user id (`SO_PEERCRED`) is closed unanswered. A
//! socket file nobody listens on (a process that was killed) is stale: the client opens the
//! profile itself and removes it.
//!
//! The protocol, in frames of `tag: u8, length: u32 (big-endian), payload`:
//!
//! - client → server: `V` the protocol version (`1`), then `A` one per argument (the whole
//!   argv, program name first), `C` the client's working directory, optionally `I` its
//!   standard input and `P` the passphrase, and `G` (go) to end the request;
//! - server → client: `O` bytes for standard output, `E` bytes for standard error, and
//!   finally `X` with one byte, the exit status.
//!
//! The server never trusts more than the client could do by itself: the client is the same
//! user, who could open the profile directly were it free.

use std::ffi::OsString;
use std::io::{Read, Write};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::net::UnixStream as StdStream;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;

use anyhow::{Context, Result, bail};
use clap::Parser;
use commonplace_node::{Node, Presence};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinSet;
use tracing::{debug, warn};
use zeroize::Zeroizing;

use crate::{Cli, Command, Ctx, Input, Live, Out};

/// The socket's name in the profile directory.
pub const SOCKET_FILE: &str = "control.sock";

const VERSION: &[u8] = b"1";
/// Largest frame: a body read from standard input fits, a runaway client does not.
const MAX_FRAME: usize = 64 << 20;
/// Most arguments in one request.
const MAX_ARGS: usize = 4096;

/// The socket of the profile in `dir`.
pub fn socket_path(dir: &Path) -> PathBuf {
    dir.join(SOCKET_FILE)
}

/// A frame of the server's answer.
#[derive(Debug)]
pub(crate) enum Frame {
    Stdout(String),
    Stderr(String),
    Exit(u8),
}

// ---------------------------------------------------------------------------------------
// The server, in the process that holds the profile.

/// The control socket of a running node. Listens until [`ControlServer::shutdown`].
#[derive(Debug)]
pub struct ControlServer {
    path: PathBuf,
    /// The socket file's inode: only that file is removed at the end (not one a later
    /// server put in its place).
    inode: u64,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl ControlServer {
    /// Listens on the control socket of `node`'s profile, on the current Tokio runtime;
    /// commands run against `node` and the network of `presence`. A socket file left by a
    /// process that is gone is replaced (this process holds the profile, so nobody else
    /// listens there).
    pub fn start(node: Node, presence: Presence) -> std::io::Result<ControlServer> {
        let path = socket_path(node.profile().dir());
        match std::fs::remove_file(&path) {
            Ok(()) => debug!("removed a stale control socket"),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        let listener = UnixListener::bind(&path)?;
        // Owner-only; the directory (0700) already keeps others out.
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
        let meta = std::fs::metadata(&path)?;
        let (owner, inode) = (meta.uid(), meta.ino());
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(accept(listener, node, presence, owner, stopped));
        Ok(ControlServer {
            path,
            inode,
            stop: Some(stop),
            task: Some(task),
        })
    }

    /// Where it listens.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Stops listening, ends the connections still open and removes the socket file.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
        self.remove_file();
    }

    fn remove_file(&self) {
        if std::fs::symlink_metadata(&self.path).is_ok_and(|m| m.ino() == self.inode) {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

impl Drop for ControlServer {
    fn drop(&mut self) {
        // Not shut down (a panic, an early return): stop the task, leave no socket behind.
        if let Some(task) = self.task.take() {
            task.abort();
            self.remove_file();
        }
    }
}

async fn accept(
    listener: UnixListener,
    node: Node,
    presence: Presence,
    owner: u32,
    mut stop: oneshot::Receiver<()>,
) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            biased;
            _ = &mut stop => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let uid = stream.peer_cred().map(|c| c.uid());
                    if uid.as_ref().ok() != Some(&owner) {
                        warn!(?uid, "refused a control connection from another user");
                        continue;
                    }
                    connections.spawn(serve_one(stream, node.clone(), presence.clone()));
                }
                Err(e) => {
                    warn!("control socket: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
            },
        }
    }
    connections.shutdown().await;
}

/// A client's request.
struct Request {
    argv: Vec<OsString>,
    cwd: PathBuf,
    stdin: Option<Vec<u8>>,
    passphrase: Option<Zeroizing<String>>,
}

async fn serve_one(stream: UnixStream, node: Node, presence: Presence) {
    let (mut reader, mut writer) = stream.into_split();
    let request = match read_request(&mut reader).await {
        Ok(r) => r,
        Err(e) => {
            debug!("control request not read: {e}");
            let _ = write_frame(&mut writer, b'E', format!("error: {e}\n").as_bytes()).await;
            let _ = write_frame(&mut writer, b'X', &[2]).await;
            return;
        }
    };
    let (frames, mut answer) = mpsc::unbounded_channel();
    let runtime = tokio::runtime::Handle::current();
    // Node calls block (disk, locks): the command runs off the runtime's threads.
    let job = tokio::task::spawn_blocking(move || {
        let code = execute(request, &node, presence, runtime, &frames);
        let _ = frames.send(Frame::Exit(code));
    });
    while let Some(frame) = answer.recv().await {
        let written = match frame {
            Frame::Stdout(s) => write_frame(&mut writer, b'O', s.as_bytes()).await,
            Frame::Stderr(s) => write_frame(&mut writer, b'E', s.as_bytes()).await,
            Frame::Exit(code) => write_frame(&mut writer, b'X', &[code]).await,
        };
        if written.is_err() {
            // The client went away; the command ends by itself, its output unread.
            break;
        }
    }
    let _ = writer.shutdown().await;
    drop(answer);
    let _ = job.await;
}

/// Runs one client's command here; its exit status.
fn execute(
    request: Request,
    node: &Node,
    presence: Presence,
    runtime: tokio::runtime::Handle,
    frames: &mpsc::UnboundedSender<Frame>,
) -> u8 {
    let cli = match Cli::try_parse_from(&request.argv) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = frames.send(Frame::Stderr(e.render().to_string()));
            return 2;
        }
    };
    let out = Out::remote(cli.json, frames.clone());
    let mut command = cli.command;
    command.resolve_paths(&request.cwd);
    let input = Input::Sent {
        stdin: Mutex::new(request.stdin),
        passphrase: request.passphrase,
    };
    let live = Live { presence, runtime };
    let cx = Ctx {
        node,
        out: &out,
        input: &input,
        live: Some(&live),
    };
    match crate::dispatch(command, &cx) {
        Ok(()) => 0,
        Err(e) => {
            out.note(&format!("error: {}", crate::error_line(&e)));
            1
        }
    }
}

async fn read_frame(
    reader: &mut (impl tokio::io::AsyncRead + Unpin),
) -> std::io::Result<(u8, Vec<u8>)> {
    let tag = reader.read_u8().await?;
    let len = reader.read_u32().await? as usize;
    if len > MAX_FRAME {
        return Err(invalid("a frame is too large"));
    }
    let mut payload = vec![0; len];
    reader.read_exact(&mut payload).await?;
    Ok((tag, payload))
}

async fn write_frame(
    writer: &mut (impl tokio::io::AsyncWrite + Unpin),
    tag: u8,
    payload: &[u8],
) -> std::io::Result<()> {
    let len = u32::try_from(payload.len()).map_err(|_| invalid("a frame is too large"))?;
    writer.write_u8(tag).await?;
    writer.write_u32(len).await?;
    writer.write_all(payload).await?;
    writer.flush().await
}

async fn read_request(
    reader: &mut (impl tokio::io::AsyncRead + Unpin),
) -> std::io::Result<Request> {
    let (tag, version) = read_frame(reader).await?;
    if tag != b'V' || version != VERSION {
        return Err(invalid(
            "this commonplace speaks another control protocol than the running one: use the same version",
        ));
    }
    let mut request = Request {
        argv: Vec::new(),
        cwd: PathBuf::from("/"),
        stdin: None,
        passphrase: None,
    };
    let mut total = 0usize;
    loop {
        let (tag, payload) = read_frame(reader).await?;
        total += payload.len();
        if total > MAX_FRAME {
            return Err(invalid("the request is too large"));
        }
        match tag {
            b'A' if request.argv.len() < MAX_ARGS => {
                request.argv.push(OsString::from_vec(payload));
            }
            b'C' => request.cwd = PathBuf::from(OsString::from_vec(payload)),
            b'I' => request.stdin = Some(payload),
            b'P' => {
                let text = String::from_utf8(payload)
                    .map_err(|_| invalid("the passphrase is not valid text"))?;
                request.passphrase = Some(Zeroizing::new(text));
            }
            b'G' => return Ok(request),
            _ => return Err(invalid("an unexpected frame in the request")),
        }
    }
}

fn invalid(what: &str) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_owned())
}

// ---------------------------------------------------------------------------------------
// The client, in the `commonplace` command.

/// What is at a profile's control socket.
pub(crate) enum Probe {
    /// A running process answered.
    Live(StdStream),
    /// A socket file nobody listens on.
    Stale(PathBuf),
    /// No socket (or none that can be used: the command opens the profile itself, and says
    /// what is wrong if it cannot).
    Absent,
}

/// Connects to the control socket of the profile in `dir`, if a process listens there.
pub(crate) fn connect(dir: &Path) -> Probe {
    let path = socket_path(dir);
    match StdStream::connect(&path) {
        Ok(stream) => Probe::Live(stream),
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => Probe::Stale(path),
        Err(_) => Probe::Absent,
    }
}

/// Sends `command` (parsed from `argv`) to the running process and relays its answer: its
/// output here, its exit status as ours. Standard input and the passphrase, when the
/// command needs them, are read here first and sent along.
pub(crate) fn run_remote(
    mut stream: StdStream,
    command: &Command,
    argv: Vec<OsString>,
) -> Result<ExitCode> {
    let stdin = if command.reads_stdin() {
        let mut buf = Vec::new();
        std::io::stdin()
            .read_to_end(&mut buf)
            .context("reading standard input")?;
        Some(buf)
    } else {
        None
    };
    let passphrase = match command.passphrase() {
        Some(args) => Some(crate::backup::passphrase(args, true)?),
        None => None,
    };
    let cwd = std::env::current_dir().context("the current directory")?;
    let mut request = Vec::new();
    frame(&mut request, b'V', VERSION);
    for arg in &argv {
        frame(&mut request, b'A', arg.as_bytes());
    }
    frame(&mut request, b'C', cwd.as_os_str().as_bytes());
    if let Some(input) = &stdin {
        frame(&mut request, b'I', input);
    }
    let mut request = Zeroizing::new(request);
    if let Some(p) = &passphrase {
        frame(&mut request, b'P', p.as_bytes());
    }
    frame(&mut request, b'G', &[]);
    let lost = "the running Commonplace process (serve or the app) that holds this profile";
    stream
        .write_all(&request)
        .and_then(|()| stream.flush())
        .with_context(|| format!("sending the command to {lost}"))?;
    drop(request);
    let mut stream = std::io::BufReader::new(stream);
    loop {
        let mut head = [0u8; 5];
        if stream.read_exact(&mut head).is_err() {
            bail!("{lost} closed the connection before the command ended");
        }
        let len = u32::from_be_bytes([head[1], head[2], head[3], head[4]]) as usize;
        if len > MAX_FRAME {
            bail!("{lost} sent a frame too large");
        }
        let mut payload = vec![0; len];
        stream
            .read_exact(&mut payload)
            .with_context(|| format!("reading the answer of {lost}"))?;
        match head[0] {
            b'O' => relay(&mut std::io::stdout().lock(), &payload, true),
            b'E' => relay(&mut std::io::stderr().lock(), &payload, false),
            b'X' => return Ok(ExitCode::from(payload.first().copied().unwrap_or(1))),
            _ => bail!("{lost} sent something this command does not understand"),
        }
    }
}

fn frame(buf: &mut Vec<u8>, tag: u8, payload: &[u8]) {
    buf.push(tag);
    // Arguments, a directory, standard input: far below 4 GiB (the server refuses more
    // than MAX_FRAME anyway).
    buf.extend_from_slice(
        &u32::try_from(payload.len())
            .unwrap_or(u32::MAX)
            .to_be_bytes(),
    );
    buf.extend_from_slice(payload);
}

/// Writes the server's bytes here; a reader that went away (`| head`) ends the program
/// quietly, as a command run here would.
fn relay(to: &mut impl Write, bytes: &[u8], stdout: bool) {
    if let Err(e) = to.write_all(bytes).and_then(|()| to.flush()) {
        if stdout && e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        if stdout {
            eprintln!("error: could not write the output: {e}");
            std::process::exit(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn parse(bytes: Vec<u8>) -> std::io::Result<Request> {
        read_request(&mut std::io::Cursor::new(bytes)).await
    }

    #[tokio::test]
    async fn a_request_round_trips() {
        let mut b = Vec::new();
        frame(&mut b, b'V', VERSION);
        for a in ["commonplace", "thread", "list"] {
            frame(&mut b, b'A', a.as_bytes());
        }
        frame(&mut b, b'C', b"/tmp");
        frame(&mut b, b'I', b"body");
        frame(&mut b, b'P', b"secret passphrase");
        frame(&mut b, b'G', &[]);
        let r = parse(b).await.unwrap();
        assert_eq!(r.argv, ["commonplace", "thread", "list"]);
        assert_eq!(r.cwd, Path::new("/tmp"));
        assert_eq!(r.stdin.as_deref(), Some(&b"body"[..]));
        assert_eq!(
            r.passphrase.as_deref().map(String::as_str),
            Some("secret passphrase")
        );
    }

    #[tokio::test]
    async fn bad_requests_are_refused_not_obeyed() {
        // Another protocol version.
        let mut b = Vec::new();
        frame(&mut b, b'V', b"2");
        frame(&mut b, b'G', &[]);
        assert!(parse(b).await.is_err());
        // A frame announced larger than the limit is refused before it is read.
        let mut b = Vec::new();
        frame(&mut b, b'V', VERSION);
        b.push(b'I');
        b.extend_from_slice(&u32::MAX.to_be_bytes());
        assert!(parse(b).await.is_err());
        // An unknown frame, and a request cut short.
        let mut b = Vec::new();
        frame(&mut b, b'V', VERSION);
        frame(&mut b, b'Z', b"?");
        assert!(parse(b).await.is_err());
        let mut b = Vec::new();
        frame(&mut b, b'V', VERSION);
        frame(&mut b, b'A', b"commonplace");
        assert!(parse(b).await.is_err());
    }
}
