//! `sokuji bench-hops`: what one gRPC hop costs. The same calls on the same engines, made on
//! the engine directly (in-process) and through a loopback gRPC server and client in this
//! process (the production client: deadline and circuit breaker layer, lazy channel). The two
//! alternate call by call so that machine noise hits both alike; medians and p99s are printed
//! as a Markdown table. Hidden from help: a measuring tool for bench/hops.sh.
use crate::{cmd::engines, config::Config};
use sokuji_core::{
    Audio, NormalizeMode, SpeechToText, SynthesizeRequest, Synthesizer, TextNormalizer, TranscribeOptions,
    TranslateRequest, Translator,
};
use sokuji_services::grpc::{GrpcLimits, Services, serve};
use std::{
    path::PathBuf,
    sync::Arc,
    time::{Duration, Instant},
};

#[derive(clap::Args)]
pub struct Args {
    /// Calls per engine and side (translation makes a fifth as many: it takes seconds).
    #[arg(long, default_value_t = 50)]
    iterations: usize,
    /// A speech file for the speech-to-text calls.
    #[arg(long)]
    speech: PathBuf,
}

/// Times `n` alternating calls of two futures-producing closures; returns both samples in ms.
async fn alternate<A, B, FA, FB, T>(n: usize, mut local: A, mut remote: B) -> anyhow::Result<(Vec<f64>, Vec<f64>)>
where
    A: FnMut() -> FA,
    B: FnMut() -> FB,
    FA: Future<Output = sokuji_core::Result<T>>,
    FB: Future<Output = sokuji_core::Result<T>>,
{
    // One warm-up call each: connection set-up and first-touch costs are not per-hop costs.
    local().await?;
    remote().await?;
    let (mut l, mut r) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for i in 0..n {
        // Which side goes first alternates too.
        for side in [i % 2, 1 - i % 2] {
            let t = Instant::now();
            if side == 0 {
                local().await?;
                l.push(t.elapsed().as_secs_f64() * 1000.0);
            } else {
                remote().await?;
                r.push(t.elapsed().as_secs_f64() * 1000.0);
            }
        }
    }
    Ok((l, r))
}

fn pct(xs: &[f64], p: f64) -> f64 {
    let mut xs = xs.to_vec();
    xs.sort_by(f64::total_cmp);
    xs.get(((p / 100.0) * (xs.len().saturating_sub(1)) as f64).round() as usize).copied().unwrap_or(f64::NAN)
}

fn row(what: &str, (l, r): &(Vec<f64>, Vec<f64>)) {
    let (l50, r50) = (pct(l, 50.0), pct(r, 50.0));
    println!(
        "| {what} | {} | {l50:.2} / {:.2} | {r50:.2} / {:.2} | {:+.2} |",
        l.len(),
        pct(l, 99.0),
        pct(r, 99.0),
        r50 - l50
    );
}

pub fn run(cfg: Config, args: Args) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(async move {
        let audio = sokuji_audio::decode_file(&args.speech, &mut |_| {})?;
        let [stt, _] = engines::local_stt(&cfg, &Default::default()).await?;
        let text: Arc<dyn TextNormalizer> = Arc::new(sokuji_services::VietnameseNormalizer);
        let translator = engines::translator(&cfg)?;
        let tts = engines::tts(&cfg).await?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        let services = Services {
            stt: Some(stt.clone()),
            text: Some(text.clone()),
            translation: translator.clone(),
            tts: tts.clone(),
            embedding: None,
            live: None,
            auth: None,
        };
        tokio::spawn(serve(listener, services, GrpcLimits::default(), std::future::pending()));
        let deadline = Duration::from_secs(600);

        println!("| call | calls per side | in-process p50 / p99 (ms) | loopback gRPC p50 / p99 (ms) | hop cost at p50 (ms) |");
        println!("|---|---|---|---|---|");
        let remote_text: Arc<dyn TextNormalizer> = Arc::new(sokuji_services::RemoteText::connect_lazy(&url, deadline)?);
        let lines = vec!["ngày 2 tháng 9 năm 1945 lúc 14 giờ 30 phút".to_string()];
        let norm = |t: Arc<dyn TextNormalizer>| {
            let lines = lines.clone();
            async move { t.normalize(lines, NormalizeMode::Tn, "vi", false).await }
        };
        row(
            "Normalize (one sentence: the bare hop)",
            &alternate(args.iterations * 4, || norm(text.clone()), || norm(remote_text.clone())).await?,
        );

        let remote_stt: Arc<dyn SpeechToText> = Arc::new(sokuji_services::RemoteStt::connect_lazy(&url, deadline)?);
        let opts = TranscribeOptions { language: Some("vi".into()), ..Default::default() };
        let heard = |s: Arc<dyn SpeechToText>| {
            let (samples, opts) = (audio.samples().to_vec(), opts.clone());
            async move { s.transcribe(Audio::new(samples), opts).await }
        };
        let secs = audio.samples().len() as f64 / 16_000.0;
        row(
            &format!("Transcribe ({secs:.1} s of speech)"),
            &alternate(args.iterations / 5, || heard(stt.clone()), || heard(remote_stt.clone())).await?,
        );

        if let Some(tts) = &tts {
            let remote_tts: Arc<dyn Synthesizer> = Arc::new(sokuji_services::RemoteTts::connect_lazy(&url, deadline)?);
            let req = SynthesizeRequest {
                text: "The birch canoe slid on the smooth planks.".into(),
                voice: "default".into(),
                language: Some("en".into()),
                speed: None,
                pitch: None,
            };
            let say = |s: Arc<dyn Synthesizer>| {
                let req = req.clone();
                async move { s.synthesize(req).await }
            };
            row(
                "Synthesize (one sentence, Piper)",
                &alternate(args.iterations / 2, || say(tts.clone()), || say(remote_tts.clone())).await?,
            );
        }

        if let Some(mt) = &translator {
            let remote_mt: Arc<dyn Translator> =
                Arc::new(sokuji_services::RemoteTranslator::connect_lazy(&url, deadline)?);
            let req = TranslateRequest {
                text: "Mẹ tôi là giáo viên.".into(),
                source: "vi".into(),
                target: "en".into(),
                context: None,
                keep: Vec::new(),
                ..Default::default()
            };
            let tr = |t: Arc<dyn Translator>| {
                let req = req.clone();
                async move { t.translate(req).await }
            };
            row(
                "Translate (one short sentence)",
                &alternate((args.iterations / 10).max(3), || tr(mt.clone()), || tr(remote_mt.clone())).await?,
            );
        }
        Ok(())
    })
}
