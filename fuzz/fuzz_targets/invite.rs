//! AFL++ target: see `commonplace_fuzz::invite`. `fuzz_nohook!`: a panic the code under test
//! catches itself (as verification catches Automerge's) is not a crash; any other is.
fn main() {
    afl::fuzz_nohook!(|data: &[u8]| commonplace_fuzz::invite(data));
}
