//! `sokuji serve --isolate`: each engine runs as a child process (`sokuji serve stt|translation|tts`)
//! on a loopback port; a supervisor per child restarts it with exponential backoff when it exits,
//! and kills and restarts it when grpc.health.v1 stops answering while it runs. A crash in native
//! code (whisper.cpp, ONNX Runtime, libespeak-ng) costs that engine a restart, not the platform.
use crate::config::Config;
use sokuji_gateway::metrics::Metrics;
use std::time::{Duration, Instant};
use tokio::{process::Command, sync::watch};
use tonic_health::pb::{HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient};

/// Set in a child's environment to the supervisor's pid: it exits when its supervisor does (see
/// `exit_with_parent`).
pub const SUPERVISED: &str = "SOKUJI_SUPERVISED";

const FIRST_BACKOFF: Duration = Duration::from_millis(500);
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// A child that ran this long without trouble starts again from the first backoff.
const STABLE_AFTER: Duration = Duration::from_secs(60);
const HEALTH_EVERY: Duration = Duration::from_secs(2);
/// Failed health checks in a row before a running child is taken for hung.
const HEALTH_STRIKES: u32 = 5;
/// No health judgement while a child starts (models load).
const GRACE: Duration = Duration::from_secs(30);

/// Starts the engines the configuration runs locally as children and points `cfg` at them.
pub fn isolate(cfg: &mut Config, metrics: &Metrics, stop: watch::Receiver<bool>) -> anyhow::Result<()> {
    let exe = std::env::current_exe()?;
    let mut children = vec![("stt", &mut cfg.stt_url)];
    if cfg.translation_provider != "none" {
        children.push(("translation", &mut cfg.translation_url));
    }
    if cfg.tts_provider != "none" {
        children.push(("tts", &mut cfg.tts_url));
    }
    for (name, url) in children {
        if url.is_some() {
            continue; // already remote
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        *url = Some(format!("http://127.0.0.1:{port}"));
        let args = vec!["serve".to_string(), name.to_string(), "--listen".into(), format!("127.0.0.1:{port}")];
        tokio::spawn(supervise(name, exe.clone(), args, port, metrics.clone(), stop.clone()));
    }
    Ok(())
}

async fn supervise(
    name: &'static str,
    exe: std::path::PathBuf,
    args: Vec<String>,
    port: u16,
    metrics: Metrics,
    mut stop: watch::Receiver<bool>,
) {
    let mut backoff = FIRST_BACKOFF;
    loop {
        let started = Instant::now();
        // `MODEL` names one service's model; each child takes its own from the SOKUJI_* variables.
        let mut child = match Command::new(&exe)
            .args(&args)
            .env(SUPERVISED, std::process::id().to_string())
            .env_remove("MODEL")
            .kill_on_drop(true)
            .spawn()
        {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(engine = name, "cannot start: {e}");
                return;
            }
        };
        tracing::info!(engine = name, pid = child.id(), port, "engine started");
        let why = tokio::select! {
            status = child.wait() => format!("exited ({})", status.map(|s| s.to_string()).unwrap_or_else(|e| e.to_string())),
            () = hung(port, started) => {
                let _ = child.kill().await;
                "stopped answering health checks; killed".to_string()
            }
            () = stopped(&mut stop) => {
                let _ = child.kill().await;
                return;
            }
        };
        metrics.engine_restarts.with_label_values(&[name]).inc();
        if started.elapsed() > STABLE_AFTER {
            backoff = FIRST_BACKOFF;
        }
        tracing::warn!(engine = name, "engine {why}; restarting in {backoff:?}");
        tokio::select! {
            () = tokio::time::sleep(backoff) => {}
            () = stopped(&mut stop) => return,
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// Completes when the child's grpc.health.v1 fails `HEALTH_STRIKES` times in a row after the
/// grace period; never otherwise.
async fn hung(port: u16, started: Instant) {
    let mut strikes = 0;
    loop {
        tokio::time::sleep(HEALTH_EVERY).await;
        if started.elapsed() < GRACE {
            continue;
        }
        let ok = async {
            let channel = tonic::transport::Endpoint::from_shared(format!("http://127.0.0.1:{port}"))
                .ok()?
                .connect_timeout(Duration::from_secs(1))
                .timeout(Duration::from_secs(2))
                .connect()
                .await
                .ok()?;
            let r = HealthClient::new(channel).check(HealthCheckRequest { service: String::new() }).await.ok()?;
            (r.into_inner().status == ServingStatus::Serving as i32).then_some(())
        }
        .await
        .is_some();
        strikes = if ok { 0 } else { strikes + 1 };
        if strikes >= HEALTH_STRIKES {
            return;
        }
    }
}

/// Completes when the server shuts down (the guard `wait_for` returns is not kept across awaits).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await.map(|_| ());
}

/// In a supervised child: exits when the supervisor is gone (kill -9 included, where no cleanup
/// of ours runs), so no engine outlives the server. Polls the parent pid: no signals, no unsafe.
///
/// The supervisor's pid comes from `SOKUJI_SUPERVISED`: a supervisor killed before this child
/// got here has already left it to init, whose pid would otherwise be taken for the supervisor's.
pub fn exit_with_parent() {
    let Some(value) = std::env::var_os(SUPERVISED) else {
        return;
    };
    let parent = value.to_str().and_then(|v| v.parse().ok()).unwrap_or_else(std::os::unix::process::parent_id);
    std::thread::spawn(move || {
        loop {
            std::thread::sleep(Duration::from_millis(500));
            if std::os::unix::process::parent_id() != parent {
                tracing::warn!("supervisor gone; exiting");
                std::process::exit(0);
            }
        }
    });
}
