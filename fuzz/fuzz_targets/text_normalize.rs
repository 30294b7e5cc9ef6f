//! Any bytes that are UTF-8 go through every normalizer; none may panic, and one line in gives
//! one line out.
#![no_main]
use libfuzzer_sys::fuzz_target;
use sokuji_text::{ToneStyle, inverse_normalize, normalize, normalize_tones};

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    let line = s.replace('\n', " ");
    for out in [
        inverse_normalize(&line),
        normalize(&line),
        normalize_tones(&line, ToneStyle::Classic),
        normalize_tones(&line, ToneStyle::Modern),
    ] {
        assert!(!out.contains('\n'), "{line:?} -> {out:?}");
    }
});
