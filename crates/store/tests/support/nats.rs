//! A NATS server with JetStream on a loopback port for one test (Debian `nats-server`, installed
//! by `make testdata`; or set `SOKUJI_NATS_SERVER`), its store in a temporary directory. It can
//! be stopped and started again on the same port and store, as a restart would. Killed when
//! dropped, or by its watchdog when the test process is killed.
#![allow(dead_code)] // each test binary uses a part
use crate::watchdog::{Watchdog, kill_and_remove};
use std::{
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

pub struct Nats {
    bin: PathBuf,
    child: Option<(Child, Watchdog)>,
    port: u16,
    dir: tempfile::TempDir,
}

impl Nats {
    pub fn start() -> Self {
        let bin = std::env::var_os("SOKUJI_NATS_SERVER").map(PathBuf::from).unwrap_or_else(|| {
            ["/usr/sbin/nats-server", "/usr/bin/nats-server"]
                .iter()
                .map(PathBuf::from)
                .find(|p| p.is_file())
                .unwrap_or_else(|| PathBuf::from("nats-server"))
        });
        let port =
            std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("port");
        let mut n = Self { bin, child: None, port, dir: tempfile::tempdir().expect("dir") };
        n.resume();
        n
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Where its store is.
    pub fn dir(&self) -> &std::path::Path {
        self.dir.path()
    }

    /// Kills the server (as a crash would).
    pub fn stop(&mut self) {
        if let Some((mut c, watchdog)) = self.child.take() {
            drop(watchdog);
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts it (again) on the same port and store, and waits until it accepts connections.
    pub fn resume(&mut self) {
        let child = Command::new(&self.bin)
            .args(["-a", "127.0.0.1", "-p", &self.port.to_string(), "-js", "-sd"])
            .arg(self.dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{}: {e} (run `make testdata`, or set SOKUJI_NATS_SERVER)", self.bin.display()));
        let watchdog = Watchdog::new(&kill_and_remove(&child, self.dir.path()));
        self.child = Some((child, watchdog));
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "nats-server did not start on {}", self.port);
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Nats {
    fn drop(&mut self) {
        self.stop();
    }
}
