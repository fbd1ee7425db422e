//! AFL++ target: see `commonplace_fuzz::announce`.
fn main() {
    afl::fuzz!(|data: &[u8]| commonplace_fuzz::announce(data));
}
