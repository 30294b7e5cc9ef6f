//! `sokuji live`: streams a file through a running server's live-translation WebSocket at
//! real-time speed and prints the events with their latencies: a terminal client for demos and
//! measurements.
use crate::config::Config;
use base64::Engine as _;
use futures::{SinkExt, StreamExt};
use sokuji_api::live::{ClientMessage, Config as SessionConfig, ServerMessage};
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
    /// Into English: let Whisper's translate task make the English from the speech itself.
    #[arg(long)]
    speech_translation: bool,
    /// Translate every sentence whole (interim translations only draft it) instead of
    /// continuing the interim translation it begins with.
    #[arg(long)]
    whole_sentences: bool,
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
        let config = ClientMessage::Config(SessionConfig {
            source_language: args.from.clone(),
            target_language: args.to.clone(),
            voice_id: args.voice.clone(),
            speech_translation: args.speech_translation,
            whole_sentences: args.whole_sentences,
            ..SessionConfig::default()
        });
        tx.send(Message::Text(serde_json::to_string(&config)?.into())).await?;
        let samples = audio.samples().to_vec();
        let speed = args.speed;
        let sender = tokio::spawn(async move {
            let chunk = (CHUNK_SECS * 16_000.0) as usize;
            // A second of silence at the end lets the last utterance end naturally.
            let tail = vec![0.0f32; 16_000];
            for piece in samples.chunks(chunk).chain(tail.chunks(chunk)) {
                let pcm: Vec<u8> = piece.iter().flat_map(|s| sokuji_audio::wav::to_i16(*s).to_le_bytes()).collect();
                if tx.send(Message::Binary(pcm.into())).await.is_err() {
                    return;
                }
                if speed > 0.0 {
                    tokio::time::sleep(Duration::from_secs_f64(CHUNK_SECS / speed)).await;
                }
            }
            let end = serde_json::to_string(&ClientMessage::End).unwrap_or_default();
            let _ = tx.send(Message::Text(end.into())).await;
        });
        let mut e2e: Vec<(&str, f64)> = Vec::new();
        let mut saved = 0;
        while let Some(msg) = rx.next().await {
            let text = match msg? {
                Message::Text(t) => t.to_string(),
                Message::Close(_) => break,
                _ => continue,
            };
            let mut m: ServerMessage = serde_json::from_str(&text)
                .map_err(|e| anyhow::anyhow!("the server sent a message this client does not know ({e}): {text}"))?;
            if args.json {
                // Audio as its length, not its bytes.
                let mut v = serde_json::to_value(&m)?;
                if let ServerMessage::Audio(a) = &m {
                    v["audio_secs"] = serde_json::json!(audio_secs(&a.data, a.sample_rate));
                    v["data"] = serde_json::Value::Null;
                }
                println!("{v}");
                continue;
            }
            let lat = |k: &str, x: Option<f64>| x.map(|x| format!(" {k}={x:.0}")).unwrap_or_default();
            match &mut m {
                ServerMessage::Transcription(t) if t.is_final => {
                    println!(
                        "[{}] {}   ({}{} )",
                        t.language,
                        t.text,
                        lat("stt_ms", Some(t.stt_ms)),
                        lat("e2e_ms", t.e2e_ms)
                    );
                    e2e.extend(t.e2e_ms.map(|x| ("transcript", x)));
                }
                ServerMessage::Translation(t) if t.is_final => {
                    println!("  -> {}   ({}{} )", t.text, lat("mt_ms", Some(t.mt_ms)), lat("e2e_ms", t.e2e_ms));
                    e2e.extend(t.e2e_ms.map(|x| ("translation", x)));
                }
                ServerMessage::Audio(a) => {
                    let secs = audio_secs(&a.data, a.sample_rate);
                    println!(
                        "  ♪ {secs:.1} s of speech   ({}{} )",
                        lat("tts_ms", Some(a.tts_ms)),
                        lat("e2e_ms", a.e2e_ms)
                    );
                    e2e.extend(a.e2e_ms.map(|x| ("audio", x)));
                    if let Some(dir) = &args.save_audio {
                        std::fs::create_dir_all(dir)?;
                        let wav = base64::engine::general_purpose::STANDARD.decode(&a.data)?;
                        std::fs::write(dir.join(format!("{saved:03}.wav")), wav)?;
                        saved += 1;
                    }
                }
                ServerMessage::Error(e) => eprintln!("error: {} {}", e.code, e.message),
                _ => {}
            }
        }
        sender.abort();
        for stage in ["transcript", "translation", "audio"].into_iter().filter(|_| !args.json) {
            let mut xs: Vec<f64> = e2e.iter().filter(|(s, _)| *s == stage).map(|(_, x)| *x).collect();
            xs.sort_by(f64::total_cmp);
            if !xs.is_empty() {
                println!("end of utterance -> {stage}: median {:.0} ms over {}", xs[xs.len() / 2], xs.len());
            }
        }
        Ok(())
    })
}

/// Seconds of 16-bit mono speech in a base64 WAV.
fn audio_secs(data: &str, rate: u32) -> f64 {
    (data.len() * 3 / 4).saturating_sub(44) as f64 / 2.0 / f64::from(rate.max(1))
}
