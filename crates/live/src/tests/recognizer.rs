use super::{Edited, comma_where_louder, finals, guess, interims, kinds, quick};
use crate::{LiveEvent, Recognizer, RecognizerConfig, Turns};
use sokuji_core::{ErrorCode, SpeechToText, TranscribeOptions, Transcript};
use sokuji_testkit::{FlakyStt, LevelStt, LoudnessVad, StreamingStt, WORD_SAMPLES, silence, speech};
use std::sync::Arc;

fn recognizer(stt: Arc<dyn SpeechToText>, cfg: RecognizerConfig) -> Recognizer {
    let options = TranscribeOptions { language: Some("en".into()), ..Default::default() };
    Recognizer::new(stt, cfg, options, Box::new(LoudnessVad::default()))
}

/// Audio from (seconds, level) parts; level 0 is silence.
fn layout(parts: &[(f32, f32)]) -> Vec<f32> {
    parts.iter().flat_map(|&(secs, level)| if level == 0.0 { silence(secs) } else { speech(secs, level) }).collect()
}

/// Pushes `audio` at 16 kHz in chunks of `chunk` samples, then ends the stream.
async fn run(r: &mut Recognizer, audio: &[f32], chunk: usize) -> Vec<LiveEvent> {
    let mut events = Vec::new();
    for c in audio.chunks(chunk) {
        events.extend(r.push(16_000, c).await.expect("a valid rate"));
    }
    events.extend(r.finish().await);
    events
}

/// [`run`] in real time, with interim decodes run aside: while a chunk's audio is arriving,
/// what the recognizer decodes aside is taken (as a live session's recognition stage does).
async fn run_aside(r: &mut Recognizer, audio: &[f32], chunk: usize) -> Vec<LiveEvent> {
    let mut events = Vec::new();
    for c in audio.chunks(chunk) {
        let arrived = tokio::time::sleep(std::time::Duration::from_secs_f64(c.len() as f64 / 16_000.0));
        tokio::pin!(arrived);
        loop {
            tokio::select! {
                biased;
                done = r.interim_done() => events.extend(done),
                _ = &mut arrived => break,
            }
        }
        events.extend(r.push(16_000, c).await.expect("a valid rate"));
    }
    events.extend(r.finish().await);
    events
}

/// Utterance `id`'s speech start and stop, its commit and its final, in the order they came.
fn order(events: &[LiveEvent], id: u64) -> Vec<&'static str> {
    events
        .iter()
        .filter_map(|e| match e {
            LiveEvent::SpeechStarted { segment_id, .. } if *segment_id == id => Some("started"),
            LiveEvent::SpeechStopped { segment_id, .. } if *segment_id == id => Some("stopped"),
            LiveEvent::Committed { segment_id, .. } if *segment_id == id => Some("committed"),
            LiveEvent::Transcription(t) if t.segment_id == id && t.is_final => Some("final"),
            _ => None,
        })
        .collect()
}

/// (audio layout, chunk in samples, the words of each final)
type Case<'a> = (&'a [(f32, f32)], usize, &'a [&'a [&'a str]]);

#[tokio::test]
async fn utterances_come_out_in_order_with_their_own_words() {
    let cases: &[Case] = &[
        (&[(0.5, 0.0), (1.0, 0.3), (1.0, 0.0), (1.2, 0.6), (1.0, 0.0)], 1_600, &[&["w3"], &["w6"]]),
        (&[(0.5, 0.0), (1.0, 0.3), (1.0, 0.0), (1.2, 0.6), (1.0, 0.0)], 48_000, &[&["w3"], &["w6"]]),
        (&[(1.0, 0.4), (0.2, 0.0), (1.0, 0.7)], 800, &[&["w4", "w7"]]),
        (&[(3.0, 0.0)], 1_600, &[]),
        (&[(0.8, 0.5)], 1_600, &[&["w5"]]),
    ];
    for (parts, chunk, expected) in cases {
        let mut r = recognizer(Arc::new(LevelStt), quick());
        let events = run(&mut r, &layout(parts), *chunk).await;
        let got: Vec<Vec<&str>> = finals(&events).iter().map(|t| kinds(&t.text)).collect();
        assert_eq!(&got, expected, "{parts:?} in chunks of {chunk}: {events:#?}");
        for (i, f) in finals(&events).iter().enumerate() {
            assert_eq!(f.segment_id, i as u64);
            assert!(f.start < f.end && !f.words.is_empty());
        }
        // Per utterance: started, stopped, committed, then its final; interims before that.
        for id in 0..expected.len() as u64 {
            assert_eq!(order(&events, id), ["started", "stopped", "committed", "final"], "utterance {id} of {parts:?}");
        }
    }
}

/// An engine that streams natively is fed each sample once (no re-decoding for interims or the
/// final) and gives the same finals as one that decodes whole utterances.
#[tokio::test]
async fn a_streaming_engine_reads_each_sample_once() {
    let audio = layout(&[(0.5, 0.0), (2.6, 0.3), (1.0, 0.0), (1.8, 0.6), (0.2, 0.0), (1.0, 0.7), (1.0, 0.0)]);
    let mut whole = recognizer(Arc::new(LevelStt), quick());
    let expected: Vec<String> = finals(&run(&mut whole, &audio, 1_600).await).iter().map(|t| t.text.clone()).collect();
    assert_eq!(expected.len(), 2, "{expected:?}");
    let stt = Arc::new(StreamingStt::default());
    let mut r = recognizer(stt.clone(), quick());
    let events = run(&mut r, &audio, 1_600).await;
    let got: Vec<String> = finals(&events).iter().map(|t| t.text.clone()).collect();
    assert_eq!(got, expected);
    assert!(events.iter().any(|e| matches!(e, LiveEvent::Transcription(t) if !t.is_final)), "interims too");
    // Its words stay as more is heard: all but the last one are translated ahead.
    for e in &events {
        if let LiveEvent::Transcription(t) = e
            && !t.is_final
        {
            let mut words: Vec<&str> = t.text.split_whitespace().collect();
            words.pop();
            assert_eq!(t.ahead, words.join(" "), "{t:?}");
        }
    }
    assert_eq!(stt.transcribes.load(std::sync::atomic::Ordering::SeqCst), 0, "nothing decoded whole");
    let fed = stt.fed.load(std::sync::atomic::Ordering::SeqCst);
    assert!(fed > 0 && fed <= audio.len(), "fed {fed} samples of {}", audio.len());
    // A cleared utterance drops its stream: the next one starts afresh.
    let mut r = recognizer(stt.clone(), quick());
    r.push(16_000, &speech(1.5, 0.4)).await.expect("push");
    r.clear();
    let events = run(&mut r, &layout(&[(0.3, 0.0), (1.2, 0.8), (1.0, 0.0)]), 1_600).await;
    let got: Vec<Vec<&str>> = finals(&events).iter().map(|t| kinds(&t.text)).collect();
    assert_eq!(got, [["w8"]]);
}

#[tokio::test]
async fn interim_results_only_grow_their_committed_prefix() {
    let mut r = recognizer(Arc::new(LevelStt), quick());
    let events = run(&mut r, &layout(&[(0.3, 0.0), (2.4, 0.5), (1.0, 0.0)]), 1_600).await;
    let interims = interims(&events);
    assert!(interims.len() >= 3, "{events:#?}");
    let mut committed = String::new();
    for (i, t) in interims.iter().enumerate() {
        assert!(t.committed.starts_with(&committed), "{:?} does not extend {committed:?}", t.committed);
        assert!(t.text.starts_with(&t.committed));
        // All of it is translated ahead but the first guess: the translation is a draft, or
        // the final's own.
        assert_eq!(t.ahead, if i == 0 { "" } else { &t.text });
        committed = t.committed.clone();
    }
    assert!(!committed.is_empty());
    let f = finals(&events);
    assert_eq!(f.len(), 1);
    assert!(f[0].text.starts_with(&committed), "the final keeps the committed prefix");
}

/// A whole-decoding engine's interims are translated ahead from its second decode on, agreed
/// with the first or not; never its first guess.
#[tokio::test]
async fn a_first_guess_is_not_translated_ahead_the_second_is() {
    let stt = Arc::new(Edited::new(|decode, t| {
        if decode == 0 {
            guess(t)
        }
    }));
    let mut r = recognizer(stt, quick());
    let events = run(&mut r, &layout(&[(0.3, 0.0), (2.4, 0.5), (1.0, 0.0)]), 1_600).await;
    let interims = interims(&events);
    assert!(interims.len() >= 3, "{events:#?}");
    assert!(interims[0].text.starts_with("guess") && interims[0].ahead.is_empty(), "{:?}", interims[0]);
    // The second disagrees with the first: nothing committed, all of it translated ahead.
    assert!(interims[1].committed.is_empty() && !interims[1].text.contains("guess"), "{:?}", interims[1]);
    assert_eq!(interims[1].ahead, interims[1].text);
}

/// With no language given, an engine that identifies the language of under 2 s of speech
/// wrongly and unsure ("zh" at 0.6, as Whisper base did the start of a Vietnamese sentence) and,
/// told that wrong language, hears nothing in the rest (its loop dropped by the guards); or,
/// `sure`, identifies it right and sure from the start. Each decode counted.
#[derive(Default)]
struct MisheardStart {
    sure: bool,
    decodes: std::sync::Mutex<Vec<(f64, Option<String>)>>,
}

#[async_trait::async_trait]
impl SpeechToText for MisheardStart {
    async fn transcribe(
        &self,
        audio: sokuji_core::Audio,
        options: TranscribeOptions,
    ) -> sokuji_core::Result<Transcript> {
        let secs = audio.duration_secs();
        let asked = options.language_hint().map(String::from);
        self.decodes.lock().expect("decodes").push((secs, asked.clone()));
        let identified = match (&asked, self.sure) {
            (Some(_), _) => None,
            (None, true) => Some(("vi", 0.97)),
            (None, false) => Some(if secs < 2.0 { ("zh", 0.6) } else { ("vi", 0.64) }),
        };
        let language = asked.unwrap_or_else(|| identified.map(|(l, _)| l.to_string()).unwrap_or_default());
        if language == "zh" && secs >= 2.0 {
            return Ok(Transcript { language, duration: secs, ..Default::default() });
        }
        let t = LevelStt.transcribe(audio, TranscribeOptions { language: Some(language), ..options }).await?;
        Ok(Transcript { language_probability: identified.map(|(_, p)| p), ..t })
    }

    async fn languages(&self) -> sokuji_core::Result<Vec<String>> {
        LevelStt.languages().await
    }

    async fn health(&self) -> sokuji_core::Health {
        LevelStt.health().await
    }
}

/// The language found unsure by the first second's decodes is not kept for the whole utterance:
/// it is kept once two decodes in a row find it, the second of at least 2 s, or from the first
/// decode when that was sure; a cleared or closed utterance's is not the next one's.
#[tokio::test]
async fn a_language_found_on_the_first_second_is_not_kept_for_the_utterance() {
    let stt = Arc::new(MisheardStart::default());
    let options = TranscribeOptions::default();
    let mut r = Recognizer::new(stt.clone(), quick(), options, Box::new(LoudnessVad::default()));
    let events = run(&mut r, &layout(&[(0.3, 0.0), (3.6, 0.5), (1.0, 0.0)]), 1_600).await;
    let f = finals(&events);
    assert_eq!(f.len(), 1, "the utterance is not lost: {events:#?}");
    assert_eq!((f[0].language.as_str(), kinds(&f[0].text)), ("vi", vec!["w5"]), "{:?}", f[0]);
    assert!(interims(&events).iter().any(|t| t.language == "zh"), "the first guesses were Chinese: {events:#?}");
    // Kept from the second decode of 2 s or more that agreed with the one before it.
    let decodes = stt.decodes.lock().expect("decodes").clone();
    let kept = decodes.iter().position(|(_, asked)| asked.is_some()).expect("the language was kept at last");
    assert!(decodes[..kept].iter().all(|(_, asked)| asked.is_none()), "{decodes:?}");
    assert!(decodes[kept - 2].0 >= 2.0 && decodes[kept - 3].0 < 2.0, "{decodes:?}");
    assert!(decodes[kept..].iter().all(|(_, asked)| asked.as_deref() == Some("vi")), "{decodes:?}");

    // Long enough to keep its language, then cleared: the next utterance's is found afresh.
    stt.decodes.lock().expect("decodes").clear();
    let mut r = Recognizer::new(stt.clone(), quick(), TranscribeOptions::default(), Box::new(LoudnessVad::default()));
    for c in layout(&[(0.3, 0.0), (3.0, 0.4)]).chunks(1_600) {
        r.push(16_000, c).await.expect("push");
    }
    assert!(stt.decodes.lock().expect("decodes").iter().any(|(_, asked)| asked.is_some()), "kept before the clear");
    r.clear();
    let events = run(&mut r, &layout(&[(0.3, 0.0), (1.0, 0.8), (1.0, 0.0)]), 1_600).await;
    assert_eq!(finals(&events).iter().map(|t| t.language.as_str()).collect::<Vec<_>>(), ["zh"], "{events:#?}");

    // Sure from the first decode: kept from it on (a streaming engine would take over there).
    let stt = Arc::new(MisheardStart { sure: true, ..Default::default() });
    let mut r = Recognizer::new(stt.clone(), quick(), TranscribeOptions::default(), Box::new(LoudnessVad::default()));
    let events = run(&mut r, &layout(&[(0.3, 0.0), (3.6, 0.5), (1.0, 0.0)]), 1_600).await;
    assert_eq!(finals(&events).iter().map(|t| t.language.as_str()).collect::<Vec<_>>(), ["vi"], "{events:#?}");
    let decodes = stt.decodes.lock().expect("decodes").clone();
    assert!(decodes.len() > 2 && decodes[0].1.is_none(), "{decodes:?}");
    assert!(decodes[1..].iter().all(|(_, asked)| asked.as_deref() == Some("vi")), "{decodes:?}");
}

/// A final keeps the committed words where its own decode heard others: its word list says the
/// same words as its text (it gave the decode's, which a client showing words saw disagree).
#[tokio::test]
async fn a_final_lists_the_words_its_text_says() {
    // The first two decodes agree; the later ones hear other words.
    let stt = Arc::new(Edited::new(|decode, t| {
        if decode >= 2 {
            guess(t)
        }
    }));
    let mut r = recognizer(stt, quick());
    let events = run(&mut r, &layout(&[(0.3, 0.0), (3.4, 0.5), (1.0, 0.0)]), 1_600).await;
    let f = finals(&events);
    assert_eq!(f.len(), 1, "{events:#?}");
    assert!(
        f[0].text.starts_with("w5") && f[0].text.contains("guess"),
        "committed words and the final's own: {:?}",
        f[0].text
    );
    let listed: Vec<&str> = f[0].words.iter().map(|w| w.text.as_str()).collect();
    assert_eq!(listed.join(" "), f[0].text);
    assert!(f[0].words.windows(2).all(|w| w[0].start <= w[1].start), "{:?}", f[0].words);
}

#[tokio::test]
async fn a_failed_decode_spoils_only_its_own_utterance() {
    // Every decode that hears the whole first utterance (5 or more "w3") fails, as a remote
    // engine behind an open circuit breaker would: the final of utterance 0 and any interim
    // decode after its end. Both utterances and the silence are pushed in one chunk, so the
    // failure happens in the middle of a chunk.
    let fails = |_: usize, s: &[f32]| LevelStt::hear(s).iter().filter(|w| w.text == "w3").count() >= 5;
    for chunk in [1_600, 200_000] {
        let stt = Arc::new(FlakyStt::new(LevelStt, ErrorCode::EngineUnavailable, fails));
        let mut r = recognizer(stt.clone(), quick());
        let audio = layout(&[(0.3, 0.0), (1.2, 0.3), (1.0, 0.0), (1.2, 0.6), (1.0, 0.0), (1.0, 0.7), (1.0, 0.0)]);
        let events = run(&mut r, &audio, chunk).await;
        assert!(stt.failures() >= 1, "the scripted failure happened");
        let errors: Vec<_> = events
            .iter()
            .filter_map(|e| match e {
                LiveEvent::Error(e) => Some(e),
                _ => None,
            })
            .collect();
        assert_eq!(errors.len(), 1, "one error, for utterance 0: {events:#?}");
        assert_eq!((errors[0].segment_id, errors[0].code), (Some(0), ErrorCode::EngineUnavailable));
        // The utterances after it are heard whole, with their own words only.
        let got: Vec<(u64, Vec<&str>)> = finals(&events).iter().map(|t| (t.segment_id, kinds(&t.text))).collect();
        assert_eq!(got, [(1, vec!["w6"]), (2, vec!["w7"])], "chunk {chunk}: {events:#?}");
    }
}

/// A decode that never answers fails its utterance after the decode deadline (a timeout, said
/// for that segment) and the session hears the next utterance.
#[tokio::test(start_paused = true)]
async fn a_hung_decode_times_out_and_spoils_only_its_own_utterance() {
    let cfg = RecognizerConfig { decode_timeout: std::time::Duration::from_secs(1), ..quick() };
    // Every decode that hears the whole first utterance never answers.
    let hangs = |_: usize, s: &[f32]| LevelStt::hear(s).iter().filter(|w| w.text == "w3").count() >= 5;
    let stt = Arc::new(FlakyStt::hanging(LevelStt, hangs));
    let mut r = recognizer(stt.clone(), cfg);
    let audio = layout(&[(0.3, 0.0), (1.2, 0.3), (1.0, 0.0), (1.2, 0.6), (1.0, 0.0)]);
    let started = tokio::time::Instant::now();
    let events = run(&mut r, &audio, 1_600).await;
    let errors: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            LiveEvent::Error(e) => Some((e.segment_id, e.code)),
            _ => None,
        })
        .collect();
    assert!(stt.failures() >= 1, "the scripted hang happened");
    assert_eq!(errors, [(Some(0), ErrorCode::Timeout)], "{events:#?}");
    let got: Vec<(u64, Vec<&str>)> = finals(&events).iter().map(|t| (t.segment_id, kinds(&t.text))).collect();
    assert_eq!(got, [(1, vec!["w6"])]);
    // The hung decodes (the pause's is off here: interims and the final) each waited the deadline.
    assert!(started.elapsed() < std::time::Duration::from_secs(10), "{:?}", started.elapsed());
}

#[tokio::test]
async fn a_failing_engine_never_breaks_the_session() {
    // Every call fails: each utterance gets its error, and the session keeps its positions.
    for chunk in [1_600, 100_000] {
        let stt = Arc::new(FlakyStt::new(LevelStt, ErrorCode::EngineUnavailable, |_, _| true));
        let mut r = recognizer(stt.clone(), RecognizerConfig { max_utterance_secs: 1.5, ..quick() });
        let audio = layout(&[(0.2, 0.0), (4.0, 0.4), (0.6, 0.0), (1.0, 0.5), (0.6, 0.0)]);
        let events = run(&mut r, &audio, chunk).await;
        assert!(finals(&events).is_empty());
        let ids: Vec<u64> = events
            .iter()
            .filter_map(|e| match e {
                LiveEvent::Error(e) => e.segment_id,
                _ => None,
            })
            .collect();
        assert!(ids.len() >= 3, "{events:#?}");
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "segment ids only grow: {ids:?}");
        assert!((r.received_secs() - audio.len() as f64 / 16_000.0).abs() < 0.01);
    }
}

#[tokio::test]
async fn long_speech_is_cut_at_committed_words_losing_nothing() {
    let stt = Arc::new(LevelStt);
    let mut r = recognizer(stt.clone(), RecognizerConfig { max_utterance_secs: 4.0, ..quick() });
    let audio = layout(&[(0.4, 0.0), (11.0, 0.4), (1.0, 0.0)]);
    let events = run(&mut r, &audio, 1_600).await;
    let f = finals(&events);
    assert!(f.len() >= 3, "{} finals", f.len());
    for t in &f {
        assert!(t.end - t.start <= 4.5, "a final spans {} s", t.end - t.start);
        assert_eq!(kinds(&t.text), ["w4"]);
    }
    // 11 s of speech is 55 words: the cuts neither lose nor repeat more than a boundary word.
    let total: usize = f.iter().map(|t| t.text.split_whitespace().count()).sum();
    assert!((53..=57).contains(&total), "{total} words from 55");
    assert!(f.windows(2).all(|w| w[0].end <= w[1].start + 1e-9), "finals overlap");
}

#[tokio::test]
async fn manual_turns_decode_on_commit_and_clear_drops() {
    let cfg = RecognizerConfig { turns: Turns::Manual, interim: false, ..quick() };
    let mut r = recognizer(Arc::new(LevelStt), cfg);
    assert_eq!(r.commit().await.map_err(|e| e.code).err(), Some(ErrorCode::InvalidRequest), "nothing to commit");
    assert!(r.push(16_000, &speech(1.0, 0.3)).await.expect("push").is_empty(), "no VAD, no decode");
    let events = r.commit().await.expect("commit");
    assert!(matches!(events[0], LiveEvent::Committed { segment_id: 0, .. }), "{events:#?}");
    assert_eq!(finals(&events).iter().map(|t| kinds(&t.text)).collect::<Vec<_>>(), [vec!["w3"]]);
    // Cleared audio is never decoded; what follows is its own utterance.
    let _ = r.push(16_000, &speech(1.0, 0.5)).await.expect("push");
    r.clear();
    let _ = r.push(16_000, &speech(1.0, 0.8)).await.expect("push");
    let events = r.commit().await.expect("commit");
    let f = finals(&events);
    assert_eq!((f[0].segment_id, kinds(&f[0].text)), (2, vec!["w8"]));
    assert_eq!(f[0].text.split_whitespace().count(), 5);
    // A commit of silence gives an empty final: the client's item is answered.
    let _ = r.push(16_000, &silence(0.5)).await.expect("push");
    let f = r.commit().await.expect("commit");
    assert_eq!(finals(&f).iter().map(|t| t.text.as_str()).collect::<Vec<_>>(), [""]);
}

#[tokio::test]
async fn a_commit_during_speech_closes_the_utterance_and_speech_goes_on() {
    let mut r = recognizer(Arc::new(LevelStt), RecognizerConfig { interim: false, ..quick() });
    let _ = r.push(16_000, &layout(&[(0.3, 0.0), (1.0, 0.3)])).await.expect("push");
    let first = r.commit().await.expect("commit");
    let rest = run(&mut r, &layout(&[(1.0, 0.6), (1.0, 0.0)]), 1_600).await;
    let got: Vec<_> =
        finals(&first).iter().chain(finals(&rest).iter()).map(|t| (t.segment_id, kinds(&t.text))).collect();
    assert_eq!(got, [(0, vec!["w3"]), (1, vec!["w6"])]);
}

#[tokio::test]
async fn an_unusable_rate_is_refused_and_changes_nothing() {
    let mut r = recognizer(Arc::new(LevelStt), quick());
    assert!(r.push(0, &speech(0.5, 0.3)).await.is_err());
    assert_eq!(r.received_secs(), 0.0);
    // The same speech at 48 kHz, resampled by the session.
    let at48: Vec<f32> = layout(&[(0.3, 0.0), (1.0, 0.3), (1.0, 0.0)]).iter().flat_map(|s| [*s, *s, *s]).collect();
    let mut events = Vec::new();
    for c in at48.chunks(4_800) {
        events.extend(r.push(48_000, c).await.expect("48 kHz"));
    }
    events.extend(r.finish().await);
    assert_eq!(finals(&events).iter().map(|t| kinds(&t.text)).collect::<Vec<_>>(), [vec!["w3"]]);
}

#[tokio::test]
async fn words_per_second_match_the_fake() {
    // The fake's own contract, which the other tests rely on.
    assert_eq!(LevelStt::hear(&speech(1.0, 0.3)).len(), 16_000 / WORD_SAMPLES);
    assert!(LevelStt::hear(&silence(1.0)).is_empty());
}

#[tokio::test]
async fn the_decode_at_the_last_pause_is_the_final_one_unless_speech_went_on() {
    let stt = Arc::new(FlakyStt::new(LevelStt, ErrorCode::EngineUnavailable, |_, _| false));
    let mut r = recognizer(stt.clone(), RecognizerConfig { interim: false, ..quick() });
    r.set_pause_interim(true);
    // A 0.25 s pause (shorter than the 0.32 s that closes an utterance), more speech, the end.
    let audio = layout(&[(0.3, 0.0), (1.0, 0.3), (0.25, 0.0), (0.6, 0.5), (1.0, 0.0)]);
    let events = run(&mut r, &audio, 800).await;
    let pauses: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            LiveEvent::Transcription(t) if t.at_pause => Some(t),
            _ => None,
        })
        .collect();
    assert_eq!(pauses.iter().map(|t| kinds(&t.text)).collect::<Vec<_>>(), [vec!["w3"], vec!["w3", "w5"]]);
    // The first pause is decoded 0.12 s into its silence (the speech ends at 1.3 s), give or take
    // a chunk of audio and a VAD frame: every 0.1 s sooner is 0.1 s off each translation.
    assert!((1.42..=1.42 + 0.09).contains(&pauses[0].end), "the pause was decoded at {}", pauses[0].end);
    let f = finals(&events);
    assert_eq!(
        f.iter().map(|t| kinds(&t.text)).collect::<Vec<_>>(),
        [vec!["w3", "w5"]],
        "nothing after the first pause lost"
    );
    // Two decodes, one per pause: the second was also the final.
    assert_eq!(stt.calls(), 2);
}

/// [`LevelStt`] whose first decode takes `slow` (as Whisper's takes a third of a second).
struct SlowFirst {
    slow: std::time::Duration,
    calls: std::sync::atomic::AtomicUsize,
}

#[async_trait::async_trait]
impl SpeechToText for SlowFirst {
    async fn transcribe(
        &self,
        audio: sokuji_core::Audio,
        options: TranscribeOptions,
    ) -> sokuji_core::Result<Transcript> {
        if self.calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
            tokio::time::sleep(self.slow).await;
        }
        LevelStt.transcribe(audio, options).await
    }

    async fn languages(&self) -> sokuji_core::Result<Vec<String>> {
        LevelStt.languages().await
    }

    async fn health(&self) -> sokuji_core::Health {
        LevelStt.health().await
    }
}

/// An interim decode run aside is given up when the speaker pauses: the pause's decode starts at
/// once instead of after it, no stale interim follows the pause's, and no second interim starts
/// while one runs.
#[tokio::test(start_paused = true)]
async fn an_interim_decode_aside_gives_way_to_the_pause() {
    // Done after the pause (1.62 s) and before the close (1.82 s) when started at 0.8 s.
    let slow = std::time::Duration::from_millis(950);
    let stt = Arc::new(SlowFirst { slow, calls: 0.into() });
    let mut r = recognizer(stt.clone(), quick());
    r.set_pause_interim(true);
    r.set_interims_aside(true);
    let audio = layout(&[(0.3, 0.0), (1.2, 0.3), (1.0, 0.0)]);
    let started = tokio::time::Instant::now();
    let events = run_aside(&mut r, &audio, 800).await;
    // Real time: the audio's own 2.5 s, never held up by the slow decode.
    let took = started.elapsed().as_secs_f64();
    assert!(took < audio.len() as f64 / 16_000.0 + 0.2, "held up: {took} s");
    let transcripts = interims(&events);
    assert_eq!(transcripts.iter().map(|t| (t.at_pause, kinds(&t.text))).collect::<Vec<_>>(), [(true, vec!["w3"])]);
    assert_eq!(finals(&events).iter().map(|t| kinds(&t.text)).collect::<Vec<_>>(), [vec!["w3"]]);
    // The slow interim and the pause's decode (also the final): none started beside the first.
    assert_eq!(stt.calls.load(std::sync::atomic::Ordering::SeqCst), 2);
}

/// An utterance that closes while its interim is decoded aside gives that interim up: nothing
/// of it comes after the final.
#[tokio::test(start_paused = true)]
async fn an_interim_decode_aside_never_outlives_its_utterance() {
    let stt = Arc::new(SlowFirst { slow: std::time::Duration::from_secs(2), calls: 0.into() });
    let mut r = recognizer(stt.clone(), quick());
    r.set_interims_aside(true);
    let events = run_aside(&mut r, &layout(&[(0.3, 0.0), (1.2, 0.3), (3.0, 0.0)]), 800).await;
    let last = events.iter().rposition(|e| matches!(e, LiveEvent::Transcription(_)));
    assert!(last.is_some_and(|i| matches!(&events[i], LiveEvent::Transcription(t) if t.is_final)), "{events:#?}");
    assert_eq!(finals(&events).iter().map(|t| kinds(&t.text)).collect::<Vec<_>>(), [vec!["w3"]]);
}

/// Without a pause, the decode run aside hands its interim out when done.
#[tokio::test]
async fn an_interim_decoded_aside_comes_from_interim_done() {
    let mut r = recognizer(Arc::new(LevelStt), quick());
    r.set_interims_aside(true);
    let mut events = Vec::new();
    for c in layout(&[(0.3, 0.0), (0.6, 0.3)]).chunks(800) {
        events.extend(r.push(16_000, c).await.expect("a valid rate"));
    }
    assert!(interims(&events).is_empty(), "decoded in push: {events:#?}");
    let done = r.interim_done().await;
    let got: Vec<Vec<&str>> = interims(&done).iter().map(|t| kinds(&t.text)).collect();
    assert_eq!(got, [vec!["w3"]], "{done:#?}");
}

/// A long utterance is closed at a pause whose decode ends a clause: that decode is its final,
/// and what follows is the next utterance, with its own start. A shorter one, an engine that
/// wrote no punctuation there, or a session that decodes no pauses keep the utterance whole; a
/// close that no speech follows leaves nothing behind (no decode of the silence).
#[tokio::test]
async fn a_long_utterance_closes_at_a_pause_that_ends_a_clause() {
    // (engine punctuates, pause decodes on, speech before the 0.25 s pause in s, finals' words)
    let cases: &[(bool, bool, f32, &[&[&str]])] = &[
        (true, true, 3.2, &[&["w3"], &["w6"]]),
        (true, true, 2.4, &[&["w3", "w6"]]),
        (false, true, 3.2, &[&["w3", "w6"]]),
        (true, false, 3.2, &[&["w3", "w6"]]),
    ];
    for &(punctuates, pauses, long, expected) in cases {
        // Whisper ends a clause with its punctuation.
        let stt: Arc<dyn SpeechToText> =
            if punctuates { Arc::new(Edited::new(|_, t| t.text.push('.'))) } else { Arc::new(LevelStt) };
        let mut r = recognizer(stt, RecognizerConfig { clause_secs: 3.0, ..quick() });
        r.set_pause_interim(pauses);
        let audio = layout(&[(0.3, 0.0), (long, 0.3), (0.25, 0.0), (1.0, 0.6), (1.0, 0.0)]);
        let events = run(&mut r, &audio, 800).await;
        let what = format!("punctuates {punctuates}, pauses {pauses}, {long} s");
        let got: Vec<Vec<&str>> = finals(&events).iter().map(|t| kinds(&t.text)).collect();
        assert_eq!(got, expected, "{what}: {events:#?}");
        for id in 0..expected.len() as u64 {
            assert_eq!(order(&events, id), ["started", "stopped", "committed", "final"], "{what}, utterance {id}");
        }
        if expected.len() == 2 {
            let f = finals(&events);
            // Closed at the pause (the speech ends at 3.5 s, the pause decoded 0.12 s in), and
            // the next utterance starts no earlier.
            assert!((3.62..=3.62 + 0.09).contains(&f[0].end), "{what}: closed at {}", f[0].end);
            assert!(f[1].start >= f[0].end, "{what}: {} overlaps {}", f[1].start, f[0].end);
        }
    }
    // Closed at the pause, then silence: the close's final and nothing else.
    let stt = Arc::new(FlakyStt::new(Edited::new(|_, t| t.text.push('.')), ErrorCode::EngineUnavailable, |_, _| false));
    let mut r = recognizer(stt.clone(), RecognizerConfig { clause_secs: 3.0, interim: false, ..quick() });
    r.set_pause_interim(true);
    let events = run(&mut r, &layout(&[(0.3, 0.0), (3.2, 0.3), (2.0, 0.0)]), 800).await;
    assert_eq!(finals(&events).iter().map(|t| kinds(&t.text)).collect::<Vec<_>>(), [vec!["w3"]], "{events:#?}");
    assert_eq!(stt.calls(), 1, "only the pause's decode");
}

/// Speech that goes on without a pause is cut after a committed word that ends a clause, once
/// what it closes is long enough: its committed words are that utterance's final while the
/// speaker talks on, and the rest is the next utterance (no word lost or heard twice). A
/// shorter clause, an engine that wrote no punctuation, or a session that decodes no pauses keep
/// the utterance whole.
#[tokio::test]
async fn speech_without_a_pause_is_cut_after_a_committed_clause() {
    // (engine punctuates, pause decodes on, quiet speech before the louder in s, finals' words)
    let cases: &[(bool, bool, f32, &[&[&str]])] = &[
        (true, true, 3.4, &[&["w3"], &["w6"]]),
        (true, true, 2.4, &[&["w3", "w6"]]),
        (false, true, 3.4, &[&["w3", "w6"]]),
        (true, false, 3.4, &[&["w3", "w6"]]),
    ];
    for &(punctuates, pauses, quiet, expected) in cases {
        let stt: Arc<dyn SpeechToText> =
            if punctuates { Arc::new(Edited::new(comma_where_louder)) } else { Arc::new(LevelStt) };
        let mut r = recognizer(stt, RecognizerConfig { clause_secs: 3.0, ..quick() });
        r.set_pause_interim(pauses);
        r.set_keep_final_audio(true);
        let audio = layout(&[(0.3, 0.0), (quiet, 0.3), (3.0, 0.6), (1.0, 0.0)]);
        let events = run(&mut r, &audio, 800).await;
        let what = format!("punctuates {punctuates}, pauses {pauses}, {quiet} s");
        let f = finals(&events);
        let texts: Vec<String> = f.iter().map(|t| t.text.replace(',', "")).collect();
        let got: Vec<Vec<&str>> = texts.iter().map(|t| kinds(t)).collect();
        assert_eq!(got, expected, "{what}: {events:#?}");
        let words: usize = f.iter().map(|t| t.text.split_whitespace().count()).sum();
        let whole = LevelStt::hear(&audio).len();
        assert!(words.abs_diff(whole) <= 1, "{what}: {words} words of {whole}");
        // Each final's audio is kept for a second pass (speech translation); a cut one's is
        // its own span.
        let kept: Vec<usize> = f.iter().filter_map(|t| r.take_final_audio(t.segment_id)).map(|a| a.len()).collect();
        assert_eq!(kept.len(), f.len(), "{what}");
        let span = ((f[0].end - f[0].start) * 16_000.0).round() as usize;
        assert!(expected.len() == 1 || kept[0] == span, "{what}: {} of {span}", kept[0]);
        if expected.len() == 2 {
            // Cut where the louder speech starts (3.7 s, on the engine's 0.2 s word grid), while
            // the speaker talks: before the speech stops, the next utterance starting there.
            assert!((3.5..=3.9).contains(&f[0].end), "{what}: cut at {}", f[0].end);
            assert!((f[1].start - f[0].end).abs() < 1e-9, "{what}: {} then {}", f[0].end, f[1].start);
            assert_eq!(order(&events, 0), ["started", "committed", "final"], "{what}");
            assert_eq!(order(&events, 1), ["stopped", "committed", "final"], "{what}");
            // Its interims go on with the words after the cut.
            assert!(interims(&events).iter().any(|t| t.segment_id == 1 && kinds(&t.text) == ["w6"]), "{what}");
        }
    }
}
