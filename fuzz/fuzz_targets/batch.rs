//! AFL++ target: see `commonplace_fuzz::batch`.
fn main() {
    afl::fuzz!(|data: &[u8]| commonplace_fuzz::batch(data));
}
