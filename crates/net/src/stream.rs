//! Frames over one QUIC stream.

use std::time::Duration;

use commonplace_sync::{Frame, FrameError};
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
    /// The transport failed.
    Transport(String),
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
        Err(e) => return Err(ReadFailure::Transport(e.to_string())),
    }
    let len = Frame::body_len(header).map_err(ReadFailure::Frame)?;
    let mut body = vec![0u8; len];
    recv.read_exact(&mut body)
        .await
        .map_err(|e| ReadFailure::Transport(e.to_string()))?;
    Frame::decode_body(&body)
        .map(|f| (f, 4 + len))
        .map_err(ReadFailure::Frame)
}

/// Writes one frame.
pub async fn write_frame(send: &mut SendStream, frame: &Frame) -> Result<(), String> {
    write_frame_sized(send, frame).await.map(|_| ())
}

/// [`write_frame`], returning the bytes it put on the wire.
pub(crate) async fn write_frame_sized(
    send: &mut SendStream,
    frame: &Frame,
) -> Result<usize, String> {
    let bytes = frame.encode().map_err(|e| e.to_string())?;
    send.write_all(&bytes).await.map_err(|e| e.to_string())?;
    Ok(bytes.len())
}
