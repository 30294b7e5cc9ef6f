//! `sokuji live`: streams a file through a running server's live-translation WebSocket at
//! real-time speed and prints the events with their latencies: a terminal client for demos and
//! measurements.
use crate::config::Config;
use base64::Engine as _;
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::{path::PathBuf, time::Duration};
use tokio_tungstenite::tungstenite::Message;

#[derive(clap::Args)]
pub struct Args {
    /// Spoken language (ISO 639-1) or "auto".
    #[arg(long, default_value = "auto")]
    from: String,
    /// Language to translate into.
    #[arg(long)]
    to: String,
    /// Voice for the translated speech; "" for none.
    #[arg(long, default_value = "default")]
    voice: String,
    /// The server's base URL.
    #[arg(long, default_value = "http://127.0.0.1:8000")]
    server: String,
    /// Playback speed: 1 is real time, 0 as fast as the server takes it.
    #[arg(long, default_value_t = 1.0)]
    speed: f64,
    /// Write each translated sentence's audio here as NNN.wav.
    #[arg(long)]
    save_audio: Option<PathBuf>,
    /// Print every server message as one JSON line (audio data replaced by `audio_secs`), for
    /// scripts and benchmarks.
    #[arg(long)]
    json: bool,
    /// Audio file (any format `transcribe` reads).
    file: PathBuf,
}

const CHUNK_SECS: f64 = 0.1;

pub fn run(_cfg: Config, args: Args) -> anyhow::Result<()> {
    let audio = sokuji_audio::decode_file(&args.file, &mut |_| {})?;
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(async move {
        let url = format!("{}/api/v1/ws/translate", args.server.replacen("http", "ws", 1));
        let (ws, _) = tokio_tungstenite::connect_async(&url)
            .await
            .map_err(|e| anyhow::anyhow!("cannot connect to {url}: {e} (is `sokuji serve` running?)"))?;
        let (mut tx, mut rx) = ws.split();
        let config = json!({"type": "config", "source_language": args.from, "target_language": args.to,
            "voice_id": args.voice, "sample_rate": 16000, "channels": 1});
        tx.send(Message::Text(config.to_string().into())).await?;
        let samples = audio.samples().to_vec();
        let speed = args.speed;
        let sender = tokio::spawn(async move {
            let chunk = (CHUNK_SECS * 16_000.0) as usize;
            // A second of silence at the end lets the last utterance end naturally.
            let tail = vec![0.0f32; 16_000];
            for piece in samples.chunks(chunk).chain(tail.chunks(chunk)) {
                let pcm: Vec<u8> =
                    piece.iter().flat_map(|s| ((s.clamp(-1.0, 1.0) * 32767.0) as i16).to_le_bytes()).collect();
                if tx.send(Message::Binary(pcm.into())).await.is_err() {
                    return;
                }
                if speed > 0.0 {
                    tokio::time::sleep(Duration::from_secs_f64(CHUNK_SECS / speed)).await;
                }
            }
            let _ = tx.send(Message::Text(json!({"type": "end"}).to_string().into())).await;
        });
        let mut e2e: Vec<(String, f64)> = Vec::new();
        let mut saved = 0;
        while let Some(msg) = rx.next().await {
            let text = match msg? {
                Message::Text(t) => t.to_string(),
                Message::Close(_) => break,
                _ => continue,
            };
            let mut v: Value = serde_json::from_str(&text)?;
            if args.json {
                if v["type"] == "audio" {
                    v["audio_secs"] = json!(audio_secs(&v));
                    v["data"] = Value::Null;
                }
                println!("{v}");
                continue;
            }
            let lat = |k: &str| v[k].as_f64().map(|x| format!(" {k}={x:.0}")).unwrap_or_default();
            match v["type"].as_str().unwrap_or_default() {
                "transcription" if v["is_final"] == true => {
                    println!(
                        "[{}] {}   ({}{} )",
                        v["language"].as_str().unwrap_or(""),
                        v["text"].as_str().unwrap_or(""),
                        lat("stt_ms"),
                        lat("e2e_ms")
                    );
                    if let Some(x) = v["e2e_ms"].as_f64() {
                        e2e.push(("transcript".into(), x));
                    }
                }
                "translation" if v["is_final"] == true => {
                    println!("  -> {}   ({}{} )", v["text"].as_str().unwrap_or(""), lat("mt_ms"), lat("e2e_ms"));
                    if let Some(x) = v["e2e_ms"].as_f64() {
                        e2e.push(("translation".into(), x));
                    }
                }
                "audio" => {
                    println!("  ♪ {:.1} s of speech   ({}{} )", audio_secs(&v), lat("tts_ms"), lat("e2e_ms"));
                    if let Some(x) = v["e2e_ms"].as_f64() {
                        e2e.push(("audio".into(), x));
                    }
                    if let (Some(dir), Some(data)) = (&args.save_audio, v["data"].as_str()) {
                        std::fs::create_dir_all(dir)?;
                        std::fs::write(
                            dir.join(format!("{saved:03}.wav")),
                            base64::engine::general_purpose::STANDARD.decode(data)?,
                        )?;
                        saved += 1;
                    }
                }
                "error" => eprintln!("error: {} {}", v["code"], v["message"]),
                _ => {}
            }
        }
        sender.abort();
        for stage in ["transcript", "translation", "audio"].into_iter().filter(|_| !args.json) {
            let mut xs: Vec<f64> = e2e.iter().filter(|(s, _)| s == stage).map(|(_, x)| *x).collect();
            xs.sort_by(f64::total_cmp);
            if !xs.is_empty() {
                println!("end of utterance -> {stage}: median {:.0} ms over {}", xs[xs.len() / 2], xs.len());
            }
        }
        Ok(())
    })
}

fn audio_secs(v: &Value) -> f64 {
    let bytes = v["data"].as_str().map_or(0, |d| d.len() * 3 / 4);
    let rate = v["sample_rate"].as_f64().unwrap_or(22050.0);
    bytes.saturating_sub(44) as f64 / 2.0 / rate
}
