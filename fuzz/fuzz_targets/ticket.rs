//! AFL++ target: see `commonplace_fuzz::ticket`.
fn main() {
    afl::fuzz!(|data: &[u8]| commonplace_fuzz::ticket(data));
}
