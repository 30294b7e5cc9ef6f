//! `sokuji text`: a line in, a line out, in order, flushed per line; invalid UTF-8 named.
use crate::common::bin;
use std::{
    io::{BufRead, BufReader, Write},
    process::{Command, Stdio},
};

fn run(mode: &[&str], input: &[u8]) -> (bool, String, String) {
    let mut child = Command::new(bin())
        .arg("text")
        .args(mode)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    child.stdin.take().expect("stdin").write_all(input).expect("write");
    let out = child.wait_with_output().expect("wait");
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into(), String::from_utf8_lossy(&out.stderr).into())
}

#[test]
fn one_line_per_line() {
    let (ok, out, _) = run(&["itn"], "hai mươi tư\n\nngày hai tháng chín\nxin chào".as_bytes());
    assert!(ok);
    assert_eq!(out, "24\n\nngày 2 tháng 9\nxin chào");
    let (ok, out, _) = run(&["tn", "--lang", "vi"], "12kg\r\n50%\n".as_bytes());
    assert!(ok);
    assert_eq!(out, "mười hai ki lô gam\nnăm mươi phần trăm\n");
    let (_, out, _) = run(&["tone"], "lựơng\nhoà\n".as_bytes());
    assert_eq!(out, "lượng\nhòa\n");
    let (_, out, _) = run(&["tone", "--modern"], "hòa\n".as_bytes());
    assert_eq!(out, "hoà\n");
}

#[test]
fn invalid_utf8_names_the_line() {
    let (ok, out, err) = run(&["itn"], b"mot\nhai \xff\xfe\nba\n");
    assert!(!ok);
    assert_eq!(out, "mot\n", "lines before the bad one are out");
    assert!(err.contains("line 2"), "{err}");
}

#[test]
fn flushes_each_line_for_pipes() {
    let mut child =
        Command::new(bin()).args(["text", "itn"]).stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().expect("spawn");
    let mut stdin = child.stdin.take().expect("stdin");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    for (line, want) in [("mười lăm", "15"), ("ba phẩy năm", "3.5")] {
        writeln!(stdin, "{line}").expect("write");
        stdin.flush().expect("flush");
        let mut got = String::new();
        stdout.read_line(&mut got).expect("read");
        assert_eq!(got.trim_end(), want);
    }
    drop(stdin);
    assert!(child.wait().expect("wait").success());
}
