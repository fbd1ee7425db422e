//! AFL++ target: see `commonplace_fuzz::invite`.
fn main() {
    afl::fuzz!(|data: &[u8]| commonplace_fuzz::invite(data));
}
