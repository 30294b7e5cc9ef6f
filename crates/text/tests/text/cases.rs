//! Data-driven tests: every `tests/cases/<mode>/<class>.txt` holds `input~expected` lines
//! (`#` starts a comment, `\u{…}` escapes a character); one `check` runs them all and reports
//! every mismatch at once.
use sokuji_text::{ToneStyle, inverse_normalize, normalize, normalize_tones};
use std::{fs, path::PathBuf};

fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find("\\u{") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 3..];
        let end = after.find('}').unwrap_or(0);
        match u32::from_str_radix(&after[..end], 16).ok().and_then(char::from_u32) {
            Some(c) => out.push(c),
            None => out.push_str(&rest[i..i + 3]),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

/// This crate's directory, read when the test runs (cargo sets it): a test binary built in
/// another clone sharing the target dir would otherwise look for that clone's case files.
fn crate_dir() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from).unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into())
}

/// Runs every case file of `mode` through `f`; returns the number of cases.
fn check(mode: &str, f: impl Fn(&str) -> String) -> usize {
    let dir = crate_dir().join("tests/cases").join(mode);
    let mut files: Vec<_> = fs::read_dir(&dir).expect("case dir").flatten().map(|e| e.path()).collect();
    files.sort();
    let mut failures = Vec::new();
    let mut count = 0;
    for file in files {
        let text = fs::read_to_string(&file).expect("case file");
        for (n, line) in text.lines().enumerate() {
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let Some((input, expected)) = line.split_once('~') else {
                failures.push(format!("{}:{}: no '~' in {line:?}", file.display(), n + 1));
                continue;
            };
            count += 1;
            let (input, expected) = (unescape(input), unescape(expected));
            let got = f(&input);
            if got != expected {
                let name = file.file_name().map(|f| f.to_string_lossy().to_string()).unwrap_or_default();
                failures.push(format!("{mode}/{name}:{}: {input:?}\n    want {expected:?}\n    got  {got:?}", n + 1));
            }
        }
    }
    assert!(failures.is_empty(), "{} of {count} {mode} cases failed:\n{}", failures.len(), failures.join("\n"));
    count
}

#[test]
fn itn_cases() {
    let n = check("itn", inverse_normalize);
    eprintln!("{n} ITN cases");
}

#[test]
fn tn_cases() {
    let n = check("tn", normalize);
    eprintln!("{n} TN cases");
}

#[test]
fn tone_cases() {
    check("tone", |s| normalize_tones(s, ToneStyle::Classic));
    check("tone-modern", |s| normalize_tones(s, ToneStyle::Modern));
}
