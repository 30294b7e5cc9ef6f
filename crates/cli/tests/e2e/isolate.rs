//! `sokuji serve --isolate`: engines as supervised child processes. kill -9 one during a live
//! session: health says degraded, the session keeps its text, the engine comes back by itself.
use crate::common::*;
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

/// The pid of the server's child running `sokuji serve <engine>`.
fn child_pid(parent: u32, engine: &str) -> u32 {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        for entry in std::fs::read_dir("/proc").expect("/proc").flatten() {
            let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else { continue };
            let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
            // Field 4 of /proc/PID/stat, after the parenthesized command name.
            let ppid =
                stat.rsplit(')').next().and_then(|r| r.split_whitespace().nth(1)).and_then(|p| p.parse::<u32>().ok());
            let cmd = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
            let args: Vec<&[u8]> = cmd.split(|b| *b == 0).collect();
            if ppid == Some(parent) && args.windows(2).any(|w| w[0] == b"serve" && w[1] == engine.as_bytes()) {
                return pid;
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("no child running `serve {engine}` under {parent}");
}

async fn health(url: &str) -> Value {
    reqwest::get(format!("{url}/health")).await.expect("health").json().await.expect("json")
}

async fn wait_health(url: &str, status: &str, within: Duration) -> Value {
    let deadline = Instant::now() + within;
    loop {
        let h = health(url).await;
        if h["status"] == status || Instant::now() > deadline {
            return h;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Streams a recording through one session, calling `during` after the first second of audio.
async fn session_with(server: &Server, during: impl FnOnce()) -> Vec<Value> {
    let (ly, _) = speech_set("vieneu").into_iter().find(|(p, _)| p.ends_with("ly.wav")).expect("ly");
    let mut samples = load_16k(&ly);
    samples.extend(vec![0.0; 16_000]);
    let url = format!("ws://127.0.0.1:{}/api/v1/ws/translate", server.port);
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.expect("connect");
    let config = json!({"type": "config", "source_language": "vi", "target_language": "en", "voice_id": "default"});
    ws.send(Message::Text(config.to_string().into())).await.expect("config");
    let mut during = Some(during);
    for (i, piece) in samples.chunks(1600).enumerate() {
        ws.send(Message::Binary(int16_bytes(piece).into())).await.expect("audio");
        if i == 10
            && let Some(f) = during.take()
        {
            f();
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    ws.send(Message::Text(json!({"type": "end"}).to_string().into())).await.expect("end");
    let mut msgs = Vec::new();
    while let Ok(Some(Ok(m))) = tokio::time::timeout(Duration::from_secs(120), ws.next()).await {
        match m {
            Message::Text(t) => msgs.push(serde_json::from_str::<Value>(&t).expect("json")),
            Message::Close(_) => break,
            _ => {}
        }
    }
    msgs
}

fn finals(msgs: &[Value], kind: &str) -> usize {
    msgs.iter().filter(|m| m["type"] == kind && m["is_final"] != false).count()
}

fn kill9(pid: u32) {
    let ok = std::process::Command::new("kill").args(["-9", &pid.to_string()]).status().expect("kill").success();
    assert!(ok, "kill -9 {pid}");
}

#[tokio::test]
async fn killed_engines_come_back_and_sessions_keep_their_text() {
    let server =
        Server::start(&["--isolate", "--grpc-listen", "off"], &[("TRANSLATION_PROVIDER", "local")]).wait_ready();
    let url = server.url();
    let h = wait_health(&url, "healthy", Duration::from_secs(90)).await;
    assert_eq!(h["status"], "healthy", "{h}");

    // TTS dies mid-session: the session still delivers transcripts and translations.
    let tts = child_pid(server.pid(), "tts");
    let msgs = session_with(&server, || kill9(tts)).await;
    assert!(finals(&msgs, "transcription") >= 1 && finals(&msgs, "translation") >= 1, "{msgs:?}");
    // It is back by itself (new pid) and speech resumes.
    let h = wait_health(&url, "healthy", Duration::from_secs(60)).await;
    assert_eq!(h["status"], "healthy", "{h}");
    assert_ne!(child_pid(server.pid(), "tts"), tts, "restarted");
    let msgs = session_with(&server, || {}).await;
    assert!(finals(&msgs, "audio") >= 1, "{msgs:?}");

    // Translation dies: /health says degraded while it is down; transcripts continue.
    let mt = child_pid(server.pid(), "translation");
    kill9(mt);
    let h = wait_health(&url, "degraded", Duration::from_secs(5)).await;
    assert_eq!(h["status"], "degraded", "{h}");
    let msgs = session_with(&server, || {}).await;
    assert!(finals(&msgs, "transcription") >= 1, "{msgs:?}");
    let h = wait_health(&url, "healthy", Duration::from_secs(90)).await;
    assert_eq!(h["status"], "healthy", "{h}");

    let metrics = reqwest::get(format!("{url}/metrics")).await.expect("metrics").text().await.expect("text");
    for engine in ["tts", "translation"] {
        let line = format!("sokuji_engine_restarts_total{{engine=\"{engine}\"}} ");
        assert!(metrics.lines().any(|l| l.starts_with(&line) && !l.ends_with(" 0")), "{engine}: {metrics}");
    }
}

#[test]
fn original_service_variables_are_read_and_checked_at_start() {
    let run = |args: &[&str], env: (&str, &str)| refusal(args, &[env]);
    // `DEVICE=cuda` runs on the CPU with a warning (http_api::the_originals_environment_starts_sokuji);
    // a device nobody has is refused.
    assert!(run(&["serve", "stt", "--listen", "127.0.0.1:0"], ("DEVICE", "tpu")).contains("DEVICE"));
    assert!(run(&["serve", "stt", "--listen", "127.0.0.1:0"], ("STT_PROVIDER", "deepgram")).contains("STT_PROVIDER"));
    // MODEL is the model of the service run alone.
    let err = run(&["serve", "translation", "--listen", "127.0.0.1:0"], ("MODEL", "/nonexistent/model.gguf"));
    assert!(err.contains("/nonexistent/model.gguf"), "{err}");
}

/// Whether process `pid` has ended (gone, or a zombie nobody has reaped yet).
fn ended(pid: u32) -> bool {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    stat.rsplit(')').next().and_then(|r| r.split_whitespace().next()).is_none_or(|state| state == "Z")
}

/// kill -9 of a supervisor runs none of its clean-up: its engines exit by themselves
/// (`SOKUJI_SUPERVISED`), as every test server does when a test binary is killed midway.
#[test]
fn engines_exit_when_their_supervisor_is_killed() {
    let server = Server::start(&["--isolate", "--grpc-listen", "off"], &[]).wait_ready();
    let stt = child_pid(server.pid(), "stt");
    assert!(!ended(stt), "the stt engine runs");
    kill9(server.pid());
    let deadline = Instant::now() + Duration::from_secs(10);
    while !ended(stt) {
        if Instant::now() > deadline {
            kill9(stt);
            panic!("the stt engine {stt} outlived its killed supervisor by 10 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}
