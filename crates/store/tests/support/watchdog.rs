//! Stops a server a test started when the test process is killed outright (kill -9 runs no
//! `Drop`): a shell polls the test process twice a second and, once it is gone, runs the server's
//! stop command. Dropped with the server it guards, so it never acts on a pid that was reused.
#![allow(dead_code)] // each test binary uses a part
use std::{
    ffi::OsStr,
    path::Path,
    process::{Child, Command, Stdio},
};

pub struct Watchdog(Option<Child>);

impl Watchdog {
    /// Runs `stop` (a `sh` command line) once this test process is gone.
    pub fn new(stop: &str) -> Self {
        Self::watching(std::process::id(), stop)
    }

    /// Runs `stop` once the process `pid` is gone.
    pub fn watching(pid: u32, stop: &str) -> Self {
        let script = format!("while kill -0 {pid} 2>/dev/null; do sleep 0.5; done; {stop}");
        let child = Command::new("sh")
            .args(["-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok();
        Self(child)
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        if let Some(mut c) = self.0.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// `word` as one `sh` word.
pub fn quoted(word: impl AsRef<OsStr>) -> String {
    format!("'{}'", word.as_ref().to_string_lossy().replace('\'', r"'\''"))
}

/// `command` (program and arguments, not its environment) as a `sh` command line.
pub fn shell_line(command: &Command) -> String {
    std::iter::once(command.get_program()).chain(command.get_args()).map(quoted).collect::<Vec<_>>().join(" ")
}

/// The command line that kills `child` at once and removes its temporary directory.
pub fn kill_and_remove(child: &Child, dir: &Path) -> String {
    format!("kill -9 {} 2>/dev/null; sleep 0.2; rm -rf {}", child.id(), quoted(dir))
}
