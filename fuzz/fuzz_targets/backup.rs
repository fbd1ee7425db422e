//! AFL++ target: see `commonplace_fuzz::backup`.
fn main() {
    afl::fuzz!(|data: &[u8]| commonplace_fuzz::backup(data));
}
