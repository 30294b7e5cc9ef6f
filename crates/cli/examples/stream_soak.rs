//! Streaming soak: sends a long stream (a recording looped to N minutes) to a running STT
//! service as fast as it takes it, and reports, per slice of stream time, how many finals came
//! back, their median decode time and the server's resident memory. Steady numbers from the
//! first slice to the last show the session trims its buffer and stays bounded.
//!
//! cargo run --release --example stream_soak -- URL WAV MINUTES SERVER_PID
use sokuji_proto::{common::AudioChunk, stt::stt_service_client::SttServiceClient};
use std::time::Instant;
use tokio_stream::StreamExt;

fn rss_mb(pid: &str) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmRSS:")).map(str::to_string))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse::<f64>().ok()))
        .map_or(0.0, |kb| kb / 1024.0)
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    if v.is_empty() { 0.0 } else { v[v.len() / 2] }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let [_, url, wav, minutes, pid] = args.as_slice() else {
        anyhow::bail!("usage: stream_soak URL WAV MINUTES SERVER_PID");
    };
    let minutes: f64 = minutes.parse()?;
    let audio = sokuji_audio::decode_bytes(std::fs::read(wav)?, Some("wav")).map_err(|e| anyhow::anyhow!("{e}"))?;
    let once: Vec<u8> = audio.samples().iter().flat_map(|s| ((s * 32767.0) as i16).to_le_bytes()).collect();
    let total_bytes = (minutes * 60.0 * 16_000.0 * 2.0) as usize;
    let chunk = 3_200; // 100 ms
    let n_chunks = total_bytes / chunk;
    let chunks = (0..n_chunks).map(move |i| {
        let start = (i * chunk) % (once.len() - chunk);
        AudioChunk {
            data: once[start..start + chunk].to_vec(),
            sample_rate: 16_000,
            timestamp: 0.0,
            channels: 1,
            format: "int16".into(),
            language: (i == 0).then(|| "vi".to_string()),
            task: None,
            interim_results: (i == 0).then_some(true),
        }
    });
    let mut client = SttServiceClient::connect(url.clone()).await?;
    let started = Instant::now();
    let mut res = client.transcribe_stream(tokio_stream::iter(chunks)).await?.into_inner();
    let slice = 300.0; // seconds of stream time per report row
    let mut rows: Vec<(usize, Vec<f64>, f64)> = Vec::new();
    let mut interims = 0usize;
    while let Some(r) = res.next().await {
        let r = r?;
        if !r.is_final {
            interims += 1;
            continue;
        }
        let k = (r.end_time.unwrap_or(0.0) / slice) as usize;
        while rows.len() <= k {
            rows.push((0, Vec::new(), 0.0));
        }
        rows[k].0 += 1;
        rows[k].1.push(r.processing_time_ms);
        rows[k].2 = rss_mb(pid);
    }
    println!(
        "stream: {minutes} min of audio, sent as fast as accepted; wall {:.0} s; {interims} interim results",
        started.elapsed().as_secs_f64()
    );
    println!();
    println!("| stream time | finals | median final decode (ms) | server RSS (MB) |");
    println!("|---|---|---|---|");
    for (i, (n, ms, rss)) in rows.iter_mut().enumerate() {
        println!("| {}-{} min | {n} | {:.0} | {rss:.0} |", i * 5, i * 5 + 5, median(ms));
    }
    Ok(())
}
