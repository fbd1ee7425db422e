//! AFL++ target: see `commonplace_fuzz::bundle`.
fn main() {
    afl::fuzz!(|data: &[u8]| commonplace_fuzz::bundle(data));
}
