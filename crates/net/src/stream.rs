//! Frames over one QUIC stream.

use std::time::Duration;

use commonplace_sync::{Frame, FrameError};

use crate::StreamError;
use iroh::endpoint::{RecvStream, SendStream};

/// A session with no frame from the peer for this long ends.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// Why reading a frame failed.
#[derive(Debug)]
pub enum ReadFailure {
    /// The stream ended cleanly before a frame began.
    Finished,
    /// The frame was over a limit or malformed.
    Frame(FrameError),
    /// The transport failed (or the stream ended inside a frame).
    Transport(StreamError),
}

/// Reads one frame: the 4-byte length, checked against the limit before anything else is
/// read or allocated, then the body.
pub async fn read_frame(recv: &mut RecvStream) -> Result<Frame, ReadFailure> {
    read_frame_sized(recv).await.map(|(f, _)| f)
}

/// [`read_frame`], also returning the bytes it took on the wire.
pub(crate) async fn read_frame_sized(recv: &mut RecvStream) -> Result<(Frame, usize), ReadFailure> {
    let mut header = [0u8; 4];
    match recv.read_exact(&mut header).await {
        Ok(()) => {}
        Err(iroh::endpoint::ReadExactError::FinishedEarly(0)) => return Err(ReadFailure::Finished),
        Err(e) => return Err(ReadFailure::Transport(e.into())),
    }
    let len = Frame::body_len(header).map_err(ReadFailure::Frame)?;
    let mut body = vec![0u8; len];
    recv.read_exact(&mut body)
        .await
        .map_err(|e| ReadFailure::Transport(e.into()))?;
    Frame::decode_body(&body)
        .map(|f| (f, 4 + len))
        .map_err(ReadFailure::Frame)
}

/// Most frames handed to a session together.
pub(crate) const MAX_BATCH_FRAMES: usize = 64;
/// Most bytes (on the wire, and of the changes they decode to) of the frames handed to a
/// session together; only a batch of one frame may weigh more.
const MAX_BATCH_BYTES: usize = 4 << 20;

/// Reads the frames of one stream through a buffer, so that the frames that have already
/// arrived can be taken together without waiting for more. The length of every frame is
/// checked against the limit as soon as its 4-byte header is in, before its body is awaited;
/// the buffer holds at most one frame body and one read beyond it.
#[derive(Debug, Default)]
pub(crate) struct FrameStream {
    buf: Vec<u8>,
    /// Where the unread bytes of `buf` start.
    at: usize,
    /// How reading ended, once it has: returned when no whole frame is left.
    ended: Option<ReadFailure>,
    /// A decoded frame that did not fit in the last batch; the next one starts with it.
    held: Option<(Frame, usize)>,
}

/// What a frame weighs in a batch: its bytes on the wire and the change bytes it decoded to
/// (a small frame may inflate to much more).
fn weight(frame: &Frame, wire: usize) -> usize {
    match frame {
        Frame::Sync { changes, .. } => wire + changes.iter().map(|c| c.bytes.len()).sum::<usize>(),
        _ => wire,
    }
}

const READ_CHUNK: usize = 64 << 10;

impl FrameStream {
    /// A whole frame from the buffer, if one is there.
    fn buffered(&mut self) -> Result<Option<(Frame, usize)>, ReadFailure> {
        if let Some(f) = self.held.take() {
            return Ok(Some(f));
        }
        let rest = &self.buf[self.at..];
        let Some(header) = rest.get(..4) else {
            return Ok(None);
        };
        let mut h = [0u8; 4];
        h.copy_from_slice(header);
        let len = Frame::body_len(h).map_err(ReadFailure::Frame)?;
        let Some(body) = rest.get(4..4 + len) else {
            return Ok(None);
        };
        let frame = Frame::decode_body(body).map_err(ReadFailure::Frame)?;
        self.at += 4 + len;
        if self.at == self.buf.len() {
            self.buf.clear();
            self.at = 0;
        }
        Ok(Some((frame, 4 + len)))
    }

    fn take_ended(&mut self) -> ReadFailure {
        match self.ended.take() {
            Some(ReadFailure::Finished) if self.at < self.buf.len() => {
                ReadFailure::Transport(StreamError::EndedInsideFrame)
            }
            Some(f) => f,
            None => ReadFailure::Finished,
        }
    }

    /// Appends what one read gave; false once the stream has ended (or failed).
    fn absorb(
        &mut self,
        read: Result<Option<usize>, iroh::endpoint::ReadError>,
        chunk: &[u8],
    ) -> bool {
        match read {
            Ok(Some(n)) => {
                if self.at > 0 {
                    self.buf.drain(..self.at);
                    self.at = 0;
                }
                self.buf.extend_from_slice(&chunk[..n]);
                true
            }
            Ok(None) => {
                self.ended = Some(ReadFailure::Finished);
                false
            }
            Err(e) => {
                self.ended = Some(ReadFailure::Transport(e.into()));
                false
            }
        }
    }

    /// The next frame, waiting for it; with the bytes it took on the wire.
    pub(crate) async fn next(
        &mut self,
        recv: &mut RecvStream,
    ) -> Result<(Frame, usize), ReadFailure> {
        let mut chunk = vec![0u8; READ_CHUNK];
        loop {
            if let Some(f) = self.buffered()? {
                return Ok(f);
            }
            if self.ended.is_some() {
                return Err(self.take_ended());
            }
            let read = recv.read(&mut chunk).await;
            self.absorb(read, &chunk);
        }
    }

    /// Frames that have already arrived, without waiting: after `first`, as many whole
    /// frames as are buffered or readable right now, up to the batch limits. A failure is
    /// kept for the next [`FrameStream::next`].
    pub(crate) async fn ready(
        &mut self,
        recv: &mut RecvStream,
        first: &Frame,
        first_len: usize,
    ) -> Vec<(Frame, usize)> {
        let mut out = Vec::new();
        let mut bytes = weight(first, first_len);
        let mut chunk = Vec::new();
        while out.len() + 1 < MAX_BATCH_FRAMES && bytes < MAX_BATCH_BYTES {
            match self.buffered() {
                Ok(Some(f)) => {
                    let w = weight(&f.0, f.1);
                    if bytes + w > MAX_BATCH_BYTES {
                        self.held = Some(f);
                        break;
                    }
                    bytes += w;
                    out.push(f);
                    continue;
                }
                Ok(None) => {}
                Err(e) => {
                    self.ended = Some(e);
                    break;
                }
            }
            if self.ended.is_some() {
                break;
            }
            if chunk.is_empty() {
                chunk = vec![0u8; READ_CHUNK];
            }
            // One poll: `read` is cancel-safe, so a read that is not ready loses nothing.
            let Some(read) = n0_future::future::poll_once(recv.read(&mut chunk)).await else {
                break;
            };
            if !self.absorb(read, &chunk) {
                break;
            }
        }
        out
    }
}

/// Writes one frame.
pub async fn write_frame(send: &mut SendStream, frame: &Frame) -> Result<(), StreamError> {
    write_frame_sized(send, frame).await.map(|_| ())
}

/// [`write_frame`], returning the bytes it put on the wire.
pub(crate) async fn write_frame_sized(
    send: &mut SendStream,
    frame: &Frame,
) -> Result<usize, StreamError> {
    let bytes = frame.encode()?;
    send.write_all(&bytes).await?;
    Ok(bytes.len())
}
