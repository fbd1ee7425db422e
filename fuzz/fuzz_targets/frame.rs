//! AFL++ target: see `commonplace_fuzz::frame`.
fn main() {
    afl::fuzz!(|data: &[u8]| commonplace_fuzz::frame(data));
}
