//! Shared test helpers: the real binary, the real models, the real speech.
#![allow(dead_code)]
use std::{
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

/// The binary under test; `SOKUJI_TEST_BIN` runs the suite against another build (to compare
/// builds, or to show that a test fails on an earlier one).
pub fn bin() -> String {
    std::env::var("SOKUJI_TEST_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_sokuji").to_string())
}

fn cache() -> PathBuf {
    std::env::var_os("HOME").map(PathBuf::from).unwrap_or_default().join(".cache/sokuji")
}

pub fn model_dir() -> PathBuf {
    let dir = std::env::var_os("SOKUJI_MODEL_DIR").map(PathBuf::from).unwrap_or_else(|| cache().join("models"));
    assert!(
        dir.join(whisper_base_file()).is_file(),
        "no converted Whisper model in {}: run `make models` (or `sokuji models fetch`)",
        dir.display()
    );
    dir
}

/// The default Whisper model's file, as `sokuji models fetch` names it.
pub fn whisper_base_file() -> &'static str {
    sokuji_models::catalog::find("whisper-base").expect("whisper-base is in the catalog").file
}

/// This crate's directory, read when the test runs (cargo sets it): a binary built in another
/// clone sharing the target dir would otherwise read that clone's files, or none.
pub fn crate_dir() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from).unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into())
}

pub fn testdata() -> PathBuf {
    let dir = std::env::var_os("SOKUJI_TESTDATA").map(PathBuf::from).unwrap_or_else(|| cache().join("testdata"));
    assert!(dir.join("vieneu/.ready").is_file(), "no test speech in {}: run `make testdata`", dir.display());
    dir
}

/// (wav path, reference transcript) pairs of a test set ("vieneu" or "en").
pub fn speech_set(name: &str) -> Vec<(PathBuf, String)> {
    let dir = testdata().join(name);
    let mut wavs: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|r| r.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|e| e == "wav")).collect())
        .unwrap_or_default();
    wavs.sort();
    assert!(!wavs.is_empty(), "no wav files in {}", dir.display());
    wavs.into_iter()
        .map(|w| {
            let text = std::fs::read_to_string(w.with_extension("txt")).unwrap_or_default().trim().to_string();
            (w, text)
        })
        .collect()
}

/// Reads a wav file as 16 kHz mono f32 through the project's own decoder.
pub fn load_16k(path: &Path) -> Vec<f32> {
    let bytes = std::fs::read(path).expect("read wav");
    sokuji_audio::decode_bytes(bytes, Some("wav")).expect("decode wav").samples().to_vec()
}

/// A recording's samples from its first voiced one to its last (speech joined with gaps shorter
/// than its own leading and trailing silence).
pub fn voiced(samples: &[f32]) -> &[f32] {
    let loud = |x: &f32| x.abs() > 0.01;
    match (samples.iter().position(loud), samples.iter().rposition(loud)) {
        (Some(first), Some(last)) => &samples[first..=last],
        _ => &[],
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("free port")
}

/// Runs `sokuji ARGS` with `env`, which must refuse to start: its error output. A process that
/// starts instead (a server serving forever) fails the test after a minute rather than hanging it.
pub fn refusal(args: &[&str], env: &[(&str, &str)]) -> String {
    let mut cmd = Command::new(bin());
    cmd.args(args).env("SOKUJI_MODEL_DIR", model_dir()).stdout(Stdio::null()).stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("run sokuji");
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("{args:?} with {env:?} started instead of refusing");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(!status.success(), "{args:?} with {env:?} must refuse to start");
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().expect("stderr"), &mut err).expect("stderr");
    err
}

/// A `sokuji` process killed when dropped.
pub struct Server {
    child: std::sync::Mutex<Child>,
    pub port: u16,
    /// Each server's own archive (SOKUJI_DATA_DIR), removed with it.
    _data: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let child = self.child.get_mut().unwrap_or_else(|e| e.into_inner());
        let _ = child.kill();
        let _ = child.wait();
    }
}

impl Server {
    /// Starts `sokuji serve ARGS` with `--listen 127.0.0.1:PORT` and extra environment.
    pub fn start(args: &[&str], env: &[(&str, &str)]) -> Server {
        Self::start_on(free_port(), args, env)
    }

    /// The same on a given port (to restart a service where its clients expect it).
    pub fn start_on(port: u16, args: &[&str], env: &[(&str, &str)]) -> Server {
        Self::spawn(port, args, env, Stdio::inherit())
    }

    /// The same with the server's log (`SOKUJI_LOG=info`) written to `log`.
    pub fn start_logged(args: &[&str], env: &[(&str, &str)], log: &Path) -> Server {
        let file = std::fs::File::create(log).expect("create log file");
        let mut env = env.to_vec();
        env.push(("SOKUJI_LOG", "info"));
        Self::spawn(free_port(), args, &env, Stdio::from(file))
    }

    /// `sokuji serve ARGS` without `--listen`, for a server that finds its port in `env` (the
    /// original system's `PORT`) and is expected on `port`.
    pub fn start_by_env(port: u16, args: &[&str], env: &[(&str, &str)]) -> Server {
        Self::spawn_with(None, port, args, env, Stdio::inherit())
    }

    fn spawn(port: u16, args: &[&str], env: &[(&str, &str)], stderr: Stdio) -> Server {
        Self::spawn_with(Some(format!("127.0.0.1:{port}")), port, args, env, stderr)
    }

    fn spawn_with(listen: Option<String>, port: u16, args: &[&str], env: &[(&str, &str)], stderr: Stdio) -> Server {
        let mut cmd = Command::new(bin());
        cmd.arg("serve").args(args);
        if let Some(listen) = &listen {
            cmd.args(["--listen", listen]);
        }
        // Translation loads a gigabyte model: tests that need it ask for it.
        // SOKUJI_TEST_SERVER_LOG=debug shows what the servers of a failing test did.
        let log = std::env::var("SOKUJI_TEST_SERVER_LOG").unwrap_or_else(|_| "warn".into());
        // Supervised: it exits by itself when this process does, even when this process is
        // killed (-9) midway and never drops it; otherwise it would serve on, orphaned.
        cmd.env("SOKUJI_MODEL_DIR", model_dir())
            .env("SOKUJI_SUPERVISED", std::process::id().to_string())
            .env("SOKUJI_LOG", log)
            .env("TRANSLATION_PROVIDER", "none")
            .stdout(Stdio::null())
            .stderr(stderr);
        let data = tempfile::tempdir().expect("data dir");
        cmd.env("SOKUJI_DATA_DIR", data.path());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd.spawn().expect("spawn sokuji serve");
        Server { child: std::sync::Mutex::new(child), port, _data: data }
    }

    /// The same, with the gRPC services of `serve all` on a second free port (returned).
    pub fn start_with_grpc(env: &[(&str, &str)]) -> (Server, u16) {
        let grpc = free_port();
        let addr = format!("127.0.0.1:{grpc}");
        (Server::start(&["--grpc-listen", &addr], env), grpc)
    }

    /// Its data directory (SOKUJI_DATA_DIR: the metadata database, with its keys).
    pub fn data_dir(&self) -> &Path {
        self._data.path()
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Polls until the port accepts connections (deadline 60 s); panics if the process died.
    pub fn wait_ready(self) -> Server {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if !self.is_running() {
                panic!("sokuji serve exited early");
            }
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return self;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("server on port {} not ready within 60 s", self.port);
    }

    pub fn pid(&self) -> u32 {
        self.child.lock().unwrap_or_else(|e| e.into_inner()).id()
    }

    pub fn is_running(&self) -> bool {
        matches!(self.child.lock().unwrap_or_else(|e| e.into_inner()).try_wait(), Ok(None))
    }
}

pub fn wav_bytes(samples: &[f32]) -> Vec<u8> {
    sokuji_audio::wav::encode_wav(samples, 16_000)
}

/// Deterministic white noise.
pub fn noise(secs: f32, amplitude: f32) -> Vec<f32> {
    let mut seed = 0x2545_f491u32;
    (0..(secs * 16_000.0) as usize)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            (seed as f32 / u32::MAX as f32 * 2.0 - 1.0) * amplitude
        })
        .collect()
}

pub fn int16_bytes(samples: &[f32]) -> Vec<u8> {
    samples.iter().flat_map(|s| ((s.clamp(-1.0, 1.0) * 32767.0) as i16).to_le_bytes()).collect()
}

/// Whisper base's English for "Chúng ta có thể áp dụng logic tương tự với người khác." ("We can
/// apply the same logic to other people") varies in wording between builds; it must be English
/// and keep the content: "logic" and the subject.
pub fn assert_translation_of_ly(text: &str) {
    let t = text.to_lowercase();
    assert!(t.is_ascii() && !t.trim().is_empty(), "not English: {text}");
    assert!(t.contains("logic"), "translation lost the content word: {text}");
    let hits = ["we", "can", "apply", "use", "same", "other", "people"].iter().filter(|w| t.contains(*w)).count();
    assert!(hits >= 2, "translation lacks the sentence's words: {text}");
}

/// The English of "Anh chỉ muốn được nhìn nhận như là một huấn luyện viên." ("He only wants to be
/// seen as a coach") through Whisper and the LLM: English with at least three of the sentence's
/// words (Whisper base mishears "huấn luyện viên", so "coach" itself cannot be required; a
/// translator answering anything else fails).
pub fn assert_translation_of_binh(text: &str) {
    let t = text.to_lowercase();
    assert!(t.is_ascii() && !t.trim().is_empty(), "not English: {text}");
    let words = ["he ", "only", "want", "seen", "recogni", "regarded", "viewed", "as a", "coach", "trainer"];
    let found: Vec<&str> = words.iter().copied().filter(|w| t.contains(w)).collect();
    assert!(found.len() >= 3, "translation lost the sentence ({found:?}): {text}");
}

/// The English of "Chúng ta có thể áp dụng logic tương tự với người khác." through Whisper's
/// Vietnamese and the LLM, which may lose "logic" to a mishearing ("lô diết"): English with at
/// least three of the rest of the sentence's words.
pub fn assert_llm_translation_of_ly(text: &str) {
    let t = text.to_lowercase();
    assert!(t.is_ascii() && !t.trim().is_empty(), "not English: {text}");
    let words = ["we", "can", "apply", "same", "similar", "other", "people", "logic"];
    let found: Vec<&str> = words.iter().copied().filter(|w| t.contains(w)).collect();
    assert!(found.len() >= 3, "translation lost the sentence ({found:?}): {text}");
}

/// GET `url`: the status and the JSON body (null when there is none).
pub async fn get_json(http: &reqwest::Client, url: String) -> (u16, serde_json::Value) {
    let r = http.get(url).send().await.expect("request");
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(serde_json::Value::Null))
}

/// An HTTP POST of JSON, answered with (status, JSON body).
pub async fn post_json(http: &reqwest::Client, url: String, body: serde_json::Value) -> (u16, serde_json::Value) {
    let r = http.post(url).json(&body).send().await.expect("request");
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(serde_json::Value::Null))
}

/// Connects a gRPC channel to a local port, retrying until the server listens (deadline 60 s).
pub async fn grpc_channel(port: u16) -> tonic::transport::Channel {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let endpoint = tonic::transport::Channel::from_shared(format!("http://127.0.0.1:{port}")).expect("url");
        match endpoint.connect().await {
            Ok(c) => return c,
            Err(e) if Instant::now() > deadline => panic!("gRPC on {port} not reachable: {e}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

/// Runs a browser script of `tests/web` (node, playwright-core and Debian's chromium, installed
/// by `make testdata`) with `args`, and returns the JSON it prints.
pub fn page_run(script: &str, args: &[&str]) -> serde_json::Value {
    let node_modules = testdata().join("web/node_modules");
    assert!(
        node_modules.join("playwright-core").is_dir(),
        "no playwright-core in {}: run `make testdata`",
        node_modules.display()
    );
    assert!(Path::new("/usr/bin/chromium").is_file(), "no /usr/bin/chromium: run `make testdata`");
    let out = Command::new("node")
        .arg(crate_dir().join("tests/web").join(script))
        .args(args)
        .env("NODE_PATH", &node_modules)
        .output()
        .expect("run node");
    assert!(out.status.success(), "{script} failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("JSON from the page run")
}
