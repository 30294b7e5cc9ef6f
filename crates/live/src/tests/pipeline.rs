use super::{finals, kinds, quick};
use crate::{LiveConfig, LiveEngines, LiveEvent, LiveInput, LiveUpdate, RecognizerConfig, start};
use sokuji_audio::PcmSpec;
use sokuji_core::{ErrorCode, SpeechToText, Translator};
use sokuji_testkit::{FixedTranslator, FlakyStt, Lag, LevelStt, LoudnessVad, ToneTts, pcm16, silence, speech};
use std::{sync::Arc, time::Duration};
use tokio::sync::mpsc;

fn engines(stt: Arc<dyn SpeechToText>, translator: Option<Arc<dyn Translator>>, tts: bool) -> LiveEngines {
    LiveEngines {
        vad: Arc::new(|| Box::new(LoudnessVad::default())),
        meter: None,
        ..LiveEngines::new(
            stt,
            translator,
            tts.then(|| Arc::new(ToneTts::default()) as Arc<dyn sokuji_core::Synthesizer>),
        )
    }
}

fn config(target: Option<&str>) -> LiveConfig {
    let mut cfg = match target {
        Some(t) => LiveConfig::translate("en", t, "default"),
        None => LiveConfig::transcribe("en"),
    };
    cfg.recognizer = quick();
    cfg
}

/// `n` utterances at levels 0.3, 0.4, … with a second of silence after each.
fn utterances(n: usize) -> Vec<f32> {
    let mut audio = silence(0.3);
    for i in 0..n {
        audio.extend(speech(1.0, 0.3 + 0.1 * i as f32));
        audio.extend(silence(1.0));
    }
    audio
}

async fn send_audio(tx: &mpsc::Sender<LiveInput>, audio: &[f32], chunk: usize) {
    let spec = PcmSpec::new("int16", 16_000, 1).expect("spec");
    for c in audio.chunks(chunk) {
        tx.send(LiveInput::Pcm { spec, data: pcm16(c) }).await.expect("session open");
    }
}

/// The session's errors: (utterance, code).
fn errors(events: &[LiveEvent]) -> Vec<(Option<u64>, ErrorCode)> {
    events
        .iter()
        .filter_map(|e| match e {
            LiveEvent::Error(e) => Some((e.segment_id, e.code)),
            _ => None,
        })
        .collect()
}

/// Sends `audio` in 0.1 s chunks at real time (virtual time under a paused test runtime).
async fn send_realtime(tx: &mpsc::Sender<LiveInput>, audio: &[f32]) {
    let spec = PcmSpec::new("int16", 16_000, 1).expect("spec");
    for c in audio.chunks(1_600) {
        tx.send(LiveInput::Pcm { spec, data: pcm16(c) }).await.expect("session open");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn collect(mut rx: mpsc::Receiver<LiveEvent>) -> Vec<LiveEvent> {
    let mut out = Vec::new();
    while let Ok(Some(e)) = tokio::time::timeout(Duration::from_secs(20), rx.recv()).await {
        out.push(e);
    }
    out
}

#[tokio::test]
async fn each_utterance_is_transcribed_translated_and_spoken_in_order() {
    let translator = Arc::new(FixedTranslator::default());
    let (tx, rx) = start(engines(Arc::new(LevelStt), Some(translator.clone()), true), config(Some("vi")));
    send_audio(&tx, &utterances(3), 1_600).await;
    tx.send(LiveInput::End).await.expect("end");
    let events = collect(rx).await;
    let f = finals(&events);
    assert_eq!(f.iter().map(|t| kinds(&t.text)).collect::<Vec<_>>(), [vec!["w3"], vec!["w4"], vec!["w5"]]);
    for t in &f {
        let id = t.segment_id;
        let pos = |pred: &dyn Fn(&LiveEvent) -> bool| events.iter().position(pred);
        let fin = pos(&|e| matches!(e, LiveEvent::Transcription(x) if x.segment_id == id && x.is_final));
        let tr = pos(&|e| matches!(e, LiveEvent::Translation(x) if x.segment_id == id && x.is_final));
        let au = pos(&|e| matches!(e, LiveEvent::Audio(x) if x.segment_id == id));
        assert!(fin < tr && tr < au && au.is_some(), "utterance {id}: {fin:?} {tr:?} {au:?}");
        let Some(LiveEvent::Translation(x)) = tr.map(|i| &events[i]) else { unreachable!() };
        assert_eq!(x.text, FixedTranslator::render(&t.text, "vi"), "the translator's own answer, unchanged");
        assert_eq!((x.source_language.as_str(), x.target_language.as_str()), ("en", "vi"));
        let Some(LiveEvent::Audio(a)) = au.map(|i| &events[i]) else { unreachable!() };
        assert_eq!(a.samples.len(), ToneTts::samples_for(&x.text));
        assert!(t.e2e_ms.is_some() && x.e2e_ms.is_some() && a.e2e_ms.is_some());
    }
    // Finals of later utterances never overtake earlier ones' translations.
    let order: Vec<u64> = events
        .iter()
        .filter_map(|e| match e {
            LiveEvent::Translation(x) if x.is_final => Some(x.segment_id),
            _ => None,
        })
        .collect();
    assert_eq!(order, [0, 1, 2]);
}

#[tokio::test]
async fn a_slow_client_loses_interim_events_never_finals() {
    let translator = Arc::new(FixedTranslator::default());
    let (tx, mut rx) = start(engines(Arc::new(LevelStt), Some(translator.clone()), true), config(Some("vi")));
    // Audio for twelve utterances, sent while nobody reads the events.
    let feeder = tokio::spawn(async move {
        send_audio(&tx, &utterances(12), 800).await;
        tx.send(LiveInput::End).await.expect("end");
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut events = Vec::new();
    while let Ok(Some(e)) = tokio::time::timeout(Duration::from_secs(20), rx.recv()).await {
        events.push(e);
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    feeder.await.expect("feeder");
    let f = finals(&events);
    assert_eq!(f.len(), 12, "every final arrives");
    let spoken = events.iter().filter(|e| matches!(e, LiveEvent::Audio(_))).count();
    assert_eq!(spoken, 12, "every final is spoken");
}

#[tokio::test]
async fn engine_failures_are_reported_and_the_session_goes_on() {
    // STT: the second utterance's decodes fail. Translation: slower than the call deadline for
    // the third.
    let fails = |_: usize, s: &[f32]| LevelStt::hear(s).iter().any(|w| w.text == "w4");
    let stt = Arc::new(FlakyStt::new(LevelStt, ErrorCode::EngineUnavailable, fails));
    let mut cfg = config(Some("vi"));
    cfg.translate_interim = false;
    cfg.call_timeout = Duration::from_millis(200);
    let translator = Arc::new(FixedTranslator::default());
    let (tx, rx) = start(engines(stt, Some(translator), false), cfg);
    send_audio(&tx, &utterances(3), 1_600).await;
    tx.send(LiveInput::End).await.expect("end");
    let events = collect(rx).await;
    let errors = errors(&events);
    assert_eq!(errors, [(Some(1), ErrorCode::EngineUnavailable)], "{events:#?}");
    let translated: Vec<u64> = events
        .iter()
        .filter_map(|e| match e {
            LiveEvent::Translation(t) => Some(t.segment_id),
            _ => None,
        })
        .collect();
    assert_eq!(translated, [0, 2]);
}

/// The session's call timeout bounds its decodes too (the recognizer's own default is 20 s).
#[tokio::test]
async fn decodes_that_miss_their_deadline_are_errors_not_stalls() {
    let mut cfg = config(None);
    cfg.call_timeout = Duration::from_millis(50);
    let hung = Arc::new(FlakyStt::hanging(LevelStt, |_, _| true));
    let (tx, rx) = start(engines(hung, None, false), cfg);
    send_audio(&tx, &utterances(2), 1_600).await;
    tx.send(LiveInput::End).await.expect("end");
    let events = collect(rx).await;
    assert_eq!(errors(&events), [(Some(0), ErrorCode::Timeout), (Some(1), ErrorCode::Timeout)]);
}

#[tokio::test]
async fn translations_that_miss_their_deadline_are_errors_not_stalls() {
    let mut cfg = config(Some("vi"));
    cfg.translate_interim = false;
    cfg.call_timeout = Duration::from_millis(50);
    let slow = Arc::new(FixedTranslator::with_delay(Duration::from_secs(5)));
    let (tx, rx) = start(engines(Arc::new(LevelStt), Some(slow), false), cfg);
    send_audio(&tx, &utterances(2), 1_600).await;
    tx.send(LiveInput::End).await.expect("end");
    let events = collect(rx).await;
    assert_eq!(errors(&events), [(Some(0), ErrorCode::Timeout), (Some(1), ErrorCode::Timeout)]);
    assert_eq!(finals(&events).len(), 2);
}

#[tokio::test]
async fn languages_and_voice_change_mid_session() {
    let translator = Arc::new(FixedTranslator::default());
    let mut cfg = config(Some("vi"));
    cfg.translate_interim = false;
    let (tx, rx) = start(engines(Arc::new(LevelStt), Some(translator), true), cfg);
    let audio = utterances(1);
    send_audio(&tx, &audio, 1_600).await;
    // A bad change is refused and changes nothing; a good one applies to the next utterance.
    let bad = LiveUpdate { target: Some("xx".into()), ..Default::default() };
    tx.send(LiveInput::Update(bad)).await.expect("update");
    send_audio(&tx, &audio, 1_600).await;
    let good = LiveUpdate { target: Some("ja".into()), voice: Some(String::new()), ..Default::default() };
    tx.send(LiveInput::Update(good)).await.expect("update");
    send_audio(&tx, &audio, 1_600).await;
    tx.send(LiveInput::End).await.expect("end");
    let events = collect(rx).await;
    let targets: Vec<&str> = events
        .iter()
        .filter_map(|e| match e {
            LiveEvent::Translation(t) => Some(t.target_language.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(targets, ["vi", "vi", "ja"]);
    let errors = events.iter().filter(|e| matches!(e, LiveEvent::Error(e) if e.code == ErrorCode::UnsupportedLanguage));
    assert_eq!(errors.count(), 1);
    // Voice "" from the third utterance on: no speech for it.
    let spoken: Vec<u64> = events
        .iter()
        .filter_map(|e| match e {
            LiveEvent::Audio(a) => Some(a.segment_id),
            _ => None,
        })
        .collect();
    assert_eq!(spoken, [0, 1]);
}

#[tokio::test]
async fn a_recorded_session_ends_with_its_audio_and_finals() {
    let mut cfg = config(None);
    cfg.record = Some(10_000_000);
    let (tx, rx) = start(engines(Arc::new(LevelStt), None, false), cfg);
    let audio = utterances(2);
    // At 48 kHz stereo: the recording is mono at 16 kHz, from the session's one decode.
    let spec = PcmSpec::new("int16", 48_000, 2).expect("spec");
    let stereo48: Vec<f32> = audio.iter().flat_map(|s| [*s; 6]).collect();
    for c in stereo48.chunks(9_600) {
        tx.send(LiveInput::Pcm { spec, data: pcm16(c) }).await.expect("open");
    }
    tx.send(LiveInput::End).await.expect("end");
    let events = collect(rx).await;
    assert!(events.iter().all(|e| !matches!(e, LiveEvent::Translation(_))), "transcription only");
    let Some(LiveEvent::Recorded(rec)) = events.last() else { panic!("no recording last: {events:#?}") };
    assert!((rec.duration - audio.len() as f64 / 16_000.0).abs() < 0.05, "{} s", rec.duration);
    let texts: Vec<_> = rec.segments.iter().map(|s| kinds(&s.text)).collect();
    assert_eq!(texts, [vec!["w3"], vec!["w4"]]);
    assert!(rec.segments.iter().all(|s| !s.words.is_empty()));
    let decoded = sokuji_audio::decode_bytes(rec.wav.clone(), Some("wav")).expect("a WAV");
    assert!((decoded.duration_secs() - rec.duration).abs() < 0.05);
}

#[tokio::test]
async fn bad_chunks_commit_and_clear_through_the_session() {
    let mut cfg = config(None);
    cfg.recognizer = RecognizerConfig { turns: crate::Turns::Manual, interim: false, ..quick() };
    let (tx, rx) = start(engines(Arc::new(LevelStt), None, false), cfg);
    let spec = PcmSpec::new("int16", 16_000, 1).expect("spec");
    tx.send(LiveInput::Pcm { spec, data: vec![1, 2, 3] }).await.expect("odd bytes");
    send_audio(&tx, &speech(1.0, 0.3), 1_600).await;
    tx.send(LiveInput::Commit).await.expect("commit");
    send_audio(&tx, &speech(1.0, 0.5), 1_600).await;
    tx.send(LiveInput::Clear).await.expect("clear");
    tx.send(LiveInput::Commit).await.expect("nothing to commit");
    send_audio(&tx, &speech(0.6, 0.7), 1_600).await;
    tx.send(LiveInput::End).await.expect("end");
    let events = collect(rx).await;
    assert_eq!(errors(&events), [(None, ErrorCode::InvalidAudio), (None, ErrorCode::InvalidRequest)]);
    assert!(events.iter().any(|e| matches!(e, LiveEvent::Cleared)));
    assert_eq!(finals(&events).iter().map(|t| kinds(&t.text)).collect::<Vec<_>>(), [vec!["w3"], vec!["w7"]]);
}

#[tokio::test]
async fn a_client_that_leaves_ends_the_session() {
    let stt = Arc::new(LevelStt);
    let (tx, rx) = start(engines(stt.clone(), None, false), config(None));
    send_audio(&tx, &utterances(1), 1_600).await;
    drop(rx);
    // The stages notice the closed output at their next event and stop taking input.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    let spec = PcmSpec::new("int16", 16_000, 1).expect("spec");
    loop {
        if tx.send(LiveInput::Pcm { spec, data: pcm16(&speech(0.5, 0.3)) }).await.is_err() {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "the session kept running with nobody listening");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Writes "<target> first, then <text>" a word every 50 ms, telling each partial.
struct WritingTranslator;

#[async_trait::async_trait]
impl sokuji_core::Translator for WritingTranslator {
    async fn translate(&self, r: sokuji_core::TranslateRequest) -> sokuji_core::Result<sokuji_core::Translation> {
        self.translate_partial(r, Arc::new(|_: &str| {})).await
    }

    async fn translate_partial(
        &self,
        r: sokuji_core::TranslateRequest,
        partial: sokuji_core::Partial,
    ) -> sokuji_core::Result<sokuji_core::Translation> {
        let answer = format!("{} first clause, then {}", r.target, r.text);
        let mut so_far = String::new();
        for w in answer.split_whitespace() {
            tokio::time::sleep(Duration::from_millis(50)).await;
            if !so_far.is_empty() {
                so_far.push(' ');
            }
            so_far.push_str(w);
            partial(&so_far);
        }
        Ok(sokuji_core::Translation { text: answer, original: r.text, target: r.target, ..Default::default() })
    }

    async fn languages(&self) -> sokuji_core::Result<Vec<String>> {
        Ok(vec!["en".into(), "vi".into()])
    }

    async fn health(&self) -> sokuji_core::Health {
        sokuji_core::Health::ready("writing")
    }
}

#[tokio::test]
async fn the_first_clause_is_spoken_before_the_translation_is_done() {
    let engines = engines(Arc::new(LevelStt), Some(Arc::new(WritingTranslator)), true);
    let (tx, rx) = start(engines, config(Some("vi")));
    send_audio(&tx, &utterances(2), 1_600).await;
    tx.send(LiveInput::End).await.expect("end");
    let events = collect(rx).await;
    let f = finals(&events);
    assert_eq!(f.len(), 2);
    for t in &f {
        let id = t.segment_id;
        let of_segment = |e: &&LiveEvent| match e {
            LiveEvent::Audio(a) => a.segment_id == id,
            LiveEvent::Translation(x) => x.segment_id == id && x.is_final,
            _ => false,
        };
        let order: Vec<&LiveEvent> = events.iter().filter(of_segment).collect();
        let (LiveEvent::Audio(first), LiveEvent::Translation(whole)) = (order[0], order[1]) else {
            panic!("utterance {id}: audio then translation expected, got {} events", order.len());
        };
        assert_eq!(first.text, "vi first clause,");
        assert_eq!(whole.text, format!("vi first clause, then {}", t.text));
        // Nothing lost, nothing said twice: the audio pieces make up the translation.
        let said: Vec<&str> = order
            .iter()
            .filter_map(|e| match e {
                LiveEvent::Audio(a) => Some(a.text.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(said.join(" "), whole.text, "utterance {id}");
    }
}

#[test]
fn the_context_grows_then_starts_again_from_its_last_sentence() {
    let mut c = std::collections::VecDeque::new();
    let mut seen = Vec::new();
    for s in ["a", "b", "c", "d", "e", "f"] {
        crate::pipeline::push_context(&mut c, s.to_string());
        seen.push(c.iter().cloned().collect::<Vec<_>>().join(""));
    }
    assert_eq!(seen, ["a", "ab", "abc", "cd", "cde", "ef"]);
}

/// Answers every text with one sentence of two clauses, whole (no partials), as a dedicated model
/// or Whisper's translate task does.
struct TwoClauses;

#[async_trait::async_trait]
impl sokuji_core::Translator for TwoClauses {
    async fn translate(&self, r: sokuji_core::TranslateRequest) -> sokuji_core::Result<sokuji_core::Translation> {
        let text = "the first clause here, and the rest of it.".to_string();
        Ok(sokuji_core::Translation { text, original: r.text, target: r.target, ..Default::default() })
    }

    async fn languages(&self) -> sokuji_core::Result<Vec<String>> {
        Ok(vec!["en".into(), "vi".into()])
    }

    async fn health(&self) -> sokuji_core::Health {
        sokuji_core::Health::ready("two clauses")
    }
}

/// A translation that arrives whole is spoken in the pieces `speech_pieces` cuts (the session's
/// speech stage uses them, not only sentences).
#[tokio::test]
async fn a_whole_translation_is_spoken_first_clause_first() {
    let engines = engines(Arc::new(LevelStt), Some(Arc::new(TwoClauses)), true);
    let (tx, rx) = start(engines, config(Some("vi")));
    send_audio(&tx, &utterances(1), 1_600).await;
    tx.send(LiveInput::End).await.expect("end");
    let events = collect(rx).await;
    let said = spoken(&events);
    assert_eq!(said, ["the first clause here,", "and the rest of it."]);
}

#[test]
fn a_whole_text_is_spoken_first_clause_first() {
    let cases: &[(&str, &[&str])] = &[
        ("", &[]),
        ("Hello.", &["Hello."]),
        (
            "Raising children this way, not only good for the child. It helps.",
            &["Raising children this way,", "not only good for the child.", "It helps."],
        ),
        // A rest shorter than a clause stays with its sentence; so does a clause too short alone.
        ("The cat is sleeping here, too.", &["The cat is sleeping here, too."]),
        ("Yes, the cat is sleeping on the chair.", &["Yes, the cat is sleeping on the chair."]),
        // Only the first sentence is cut: the later ones are made while it is heard.
        ("Hi. We went home, and then we slept well.", &["Hi.", "We went home, and then we slept well."]),
        ("3.5 kilograms of rice, please, for the shop.", &["3.5 kilograms of rice,", "please, for the shop."]),
    ];
    for (text, want) in cases {
        assert_eq!(crate::pipeline::speech_pieces(text), *want, "{text:?}");
    }
}

#[test]
fn early_speech_then_the_rest() {
    let mut e = crate::pipeline::EarlySpeech::default();
    assert!(e.clauses("Xin chào các bạn").is_empty());
    assert_eq!(e.clauses("Xin chào các bạn, hôm nay"), ["Xin chào các bạn,"]);
    assert!(e.clauses("Xin chào các bạn, hôm nay trời").is_empty());
    assert_eq!(e.rest("Xin chào các bạn, hôm nay trời đẹp."), "hôm nay trời đẹp.");
    // A final text that differs from what was spoken (rewritten by a retry): the clauses not yet said.
    assert_eq!(e.rest("Chào tất cả các bạn, hôm nay trời rất đẹp."), "hôm nay trời rất đẹp.");
}

/// [`LevelStt`] whose translate task answers "english <words>", as Whisper's would in English,
/// after `delay`, counting its translate decodes.
#[derive(Default)]
struct TranslatingStt {
    delay: Duration,
    translations: std::sync::atomic::AtomicUsize,
}

#[async_trait::async_trait]
impl SpeechToText for TranslatingStt {
    async fn transcribe(
        &self,
        audio: sokuji_core::Audio,
        options: sokuji_core::TranscribeOptions,
    ) -> sokuji_core::Result<sokuji_core::Transcript> {
        let mut t = LevelStt.transcribe(audio, options.clone()).await?;
        if options.task == sokuji_core::Task::Translate {
            // Sized to the endpointed utterance, like the recognizer's own decodes.
            if !options.fit_context || options.vad != Some(false) {
                return Err(sokuji_core::Error::internal("translate decode over a full window"));
            }
            self.translations.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            tokio::time::sleep(self.delay).await;
            t.text = format!("english {}", t.text);
            t.producer = sokuji_core::Producer { engine: "whisper.cpp".into(), model: "whisper-base".into() };
        }
        Ok(t)
    }

    async fn languages(&self) -> sokuji_core::Result<Vec<String>> {
        Ok(vec!["en".into(), "vi".into()])
    }

    async fn health(&self) -> sokuji_core::Health {
        sokuji_core::Health::ready("translating")
    }
}

/// At real time, so the translation started at each pause would be taken over if it were made.
#[tokio::test(start_paused = true)]
async fn speech_into_english_comes_from_the_recognizers_translate_task() {
    let run = |speech_translation: bool, target: &'static str| async move {
        let mut cfg = LiveConfig::translate("vi", target, "default");
        cfg.recognizer = quick();
        cfg.speech_translation = speech_translation;
        let translator = Arc::new(FixedTranslator::default());
        let (tx, rx) = start(engines(Arc::new(TranslatingStt::default()), Some(translator), true), cfg);
        send_realtime(&tx, &utterances(2)).await;
        tx.send(LiveInput::End).await.expect("end");
        let events = collect(rx).await;
        let finals: Vec<String> = finals(&events).iter().map(|t| t.text.clone()).collect();
        let translations: Vec<(String, String)> = events
            .iter()
            .filter_map(|e| match e {
                LiveEvent::Translation(x) if x.is_final => Some((x.text.clone(), x.engine.clone())),
                _ => None,
            })
            .collect();
        (finals, translations)
    };
    let (finals, translations) = run(true, "en").await;
    assert_eq!(finals.len(), 2);
    let want: Vec<(String, String)> = finals.iter().map(|f| (format!("english {f}"), "whisper.cpp".into())).collect();
    assert_eq!(translations, want, "the transcript stays Vietnamese; the English comes from the speech");
    // Off, or into another language: the translator reads the transcript.
    for (on, target) in [(false, "en"), (true, "ja")] {
        let (finals, translations) = run(on, target).await;
        let want: Vec<(String, String)> =
            finals.iter().map(|f| (FixedTranslator::render(f, target), "fixed".into())).collect();
        assert_eq!(translations, want, "speech_translation {on}, target {target}");
    }
}

/// Speech translation is made at the pause too, from the speech so far, and taken over by the
/// final transcript with the same words: one translate decode per utterance, done one decode
/// after the pause rather than after the close, and no text translation at all.
#[tokio::test(start_paused = true)]
async fn the_speech_translation_started_at_a_pause_becomes_the_final_one() {
    let stt = Arc::new(TranslatingStt { delay: Duration::from_millis(1000), ..Default::default() });
    let mut cfg = LiveConfig::translate("vi", "en", "default");
    cfg.recognizer = quick();
    cfg.speech_translation = true;
    let translator = Arc::new(FixedTranslator::default());
    let (tx, rx) = start(engines(stt.clone(), Some(translator.clone()), true), cfg);
    send_realtime(&tx, &utterances(2)).await;
    tx.send(LiveInput::End).await.expect("end");
    let events = collect(rx).await;
    let f = finals(&events);
    assert_eq!(f.len(), 2);
    for t in &f {
        let tr = events.iter().find_map(|e| match e {
            LiveEvent::Translation(x) if x.segment_id == t.segment_id && x.is_final => Some(x),
            _ => None,
        });
        assert_eq!(
            tr.map(|x| (x.text.clone(), x.engine.clone())),
            Some((format!("english {}", t.text), "whisper.cpp".into()))
        );
        // Started at the 0.12 s pause, 0.2 s before the endpointer closed the utterance.
        assert!(tr.and_then(|x| x.e2e_ms).is_some_and(|ms| ms < 1000.0 + 60.0), "{tr:?}");
    }
    assert_eq!(stt.translations.load(std::sync::atomic::Ordering::Relaxed), 2, "the pause's decode was kept");
    // Interims are not translated by the translator either: it would only take the cores.
    assert_eq!(translator.calls.load(std::sync::atomic::Ordering::Relaxed), 0);
}

/// [`TranslatingStt`] that streams as the Conformer does: the last word heard waits (`lag`), so
/// without reading ahead at a pause the transcript there is one word short of the final one.
#[derive(Default)]
struct LaggingStt {
    inner: TranslatingStt,
    lag: Lag,
}

#[async_trait::async_trait]
impl SpeechToText for LaggingStt {
    async fn transcribe(
        &self,
        audio: sokuji_core::Audio,
        options: sokuji_core::TranscribeOptions,
    ) -> sokuji_core::Result<sokuji_core::Transcript> {
        self.inner.transcribe(audio, options).await
    }

    async fn languages(&self) -> sokuji_core::Result<Vec<String>> {
        self.inner.languages().await
    }

    async fn health(&self) -> sokuji_core::Health {
        self.inner.health().await
    }

    async fn stream(&self, options: &sokuji_core::TranscribeOptions) -> Option<Box<dyn sokuji_core::SttStream>> {
        sokuji_testkit::StreamingStt { lag: self.lag, ..Default::default() }.stream(options).await
    }
}

/// The text of every piece of speech, in order.
fn spoken(events: &[LiveEvent]) -> Vec<&str> {
    events
        .iter()
        .filter_map(|e| match e {
            LiveEvent::Audio(a) => Some(a.text.as_str()),
            _ => None,
        })
        .collect()
}

/// The final translation of utterance `segment`, if one came.
fn final_translation(events: &[LiveEvent], segment: u64) -> Option<String> {
    events.iter().find_map(|e| match e {
        LiveEvent::Translation(x) if x.segment_id == segment && x.is_final => Some(x.text.clone()),
        _ => None,
    })
}

/// `audio` through a speech translation session (vi into English) whose recognizer streams
/// and lags like the Conformer's without reading ahead; the events and the translate decodes.
async fn lagging_speech_session(audio: &[f32]) -> (Vec<LiveEvent>, usize) {
    let stt = Arc::new(LaggingStt {
        inner: TranslatingStt { delay: Duration::from_millis(300), ..Default::default() },
        lag: Lag::UntilFinish,
    });
    let mut cfg = LiveConfig::translate("vi", "en", "default");
    cfg.recognizer = quick();
    cfg.speech_translation = true;
    let (tx, rx) = start(engines(stt.clone(), Some(Arc::new(FixedTranslator::default())), true), cfg);
    send_realtime(&tx, audio).await;
    tx.send(LiveInput::End).await.expect("end");
    let events = collect(rx).await;
    (events, stt.inner.translations.load(std::sync::atomic::Ordering::Relaxed))
}

/// A streaming recognizer that reads ahead at a pause gives the pause the final's words, so the
/// translation started there is the final one; one that cannot has a word more at the close,
/// and that text is translated again.
#[tokio::test(start_paused = true)]
async fn reading_ahead_at_a_pause_keeps_its_translation_for_the_final() {
    for (lag, per_utterance) in [(Lag::UntilPause, 1), (Lag::UntilFinish, 2)] {
        let mut cfg = LiveConfig::translate("vi", "en", "");
        cfg.recognizer = quick();
        cfg.translate_interim = false;
        let translator = Arc::new(FixedTranslator::default());
        let stt = Arc::new(LaggingStt { lag, ..Default::default() });
        let (tx, rx) = start(engines(stt, Some(translator.clone()), false), cfg);
        send_realtime(&tx, &utterances(2)).await;
        tx.send(LiveInput::End).await.expect("end");
        let events = collect(rx).await;
        let f = finals(&events);
        assert_eq!(f.len(), 2);
        for t in &f {
            assert_eq!(
                final_translation(&events, t.segment_id),
                Some(FixedTranslator::render(&t.text, "en")),
                "{lag:?}"
            );
        }
        assert_eq!(translator.calls.load(std::sync::atomic::Ordering::Relaxed), 2 * per_utterance, "{lag:?}");
    }
}

/// The speech translation made at the pause is the final one when the pause's audio held all
/// the speech, even if the streaming transcript then gained its last word: one translate decode
/// per utterance, not a second one after the close.
#[tokio::test(start_paused = true)]
async fn the_pause_speech_translation_stands_when_the_transcript_gains_a_word() {
    let (events, translations) = lagging_speech_session(&utterances(2)).await;
    let f = finals(&events);
    assert_eq!(f.len(), 2);
    for t in &f {
        let at_pause = events.iter().find_map(|e| match e {
            LiveEvent::Transcription(x) if x.segment_id == t.segment_id && x.at_pause => Some(x.text.clone()),
            _ => None,
        });
        assert!(
            at_pause.as_ref().is_some_and(|p| p.split_whitespace().count() + 1 == t.text.split_whitespace().count()),
            "{at_pause:?} / {}",
            t.text
        );
        let tr = final_translation(&events, t.segment_id);
        assert_eq!(tr, Some(format!("english {}", t.text)), "the speech's translation holds the last word");
    }
    assert_eq!(translations, 2, "the pause's decode was kept");
}

/// Speech that goes on after a pause, up to the end of the input (no second pause): the pause's
/// audio lacks it (and no interim decode came between), so the final's speech translation is made
/// from the whole utterance.
#[tokio::test(start_paused = true)]
async fn speech_after_the_pause_is_translated_too() {
    let audio = [silence(0.3), speech(1.0, 0.3), silence(0.2), speech(0.3, 0.6)].concat();
    let (events, _) = lagging_speech_session(&audio).await;
    let f = finals(&events);
    assert_eq!(f.len(), 1);
    assert!(f[0].text.ends_with("w6"), "{}", f[0].text);
    assert_eq!(final_translation(&events, f[0].segment_id), Some(format!("english {}", f[0].text)));
}

/// [`ToneTts`] after `delay`, counting its calls.
#[derive(Default)]
struct CountingTts {
    tone: ToneTts,
    calls: std::sync::atomic::AtomicUsize,
}

#[async_trait::async_trait]
impl sokuji_core::Synthesizer for CountingTts {
    async fn synthesize(&self, request: sokuji_core::SynthesizeRequest) -> sokuji_core::Result<sokuji_core::Speech> {
        self.calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.tone.synthesize(request).await
    }

    async fn voices(&self) -> sokuji_core::Result<Vec<sokuji_core::Voice>> {
        self.tone.voices().await
    }

    async fn health(&self) -> sokuji_core::Health {
        self.tone.health().await
    }
}

/// Two utterances through a session whose voice takes `tts_delay` a piece; the events and the
/// voice's calls.
async fn spoken_session(
    stt: Arc<dyn SpeechToText>,
    speech_translation: bool,
    tts_delay: Duration,
) -> (Vec<LiveEvent>, usize) {
    let tts = Arc::new(CountingTts { tone: ToneTts { delay: tts_delay }, ..Default::default() });
    let mut cfg = LiveConfig::translate("vi", "en", "default");
    cfg.recognizer = quick();
    cfg.speech_translation = speech_translation;
    let engines =
        LiveEngines { tts: Some(tts.clone()), ..engines(stt, Some(Arc::new(FixedTranslator::default())), false) };
    let (tx, rx) = start(engines, cfg);
    send_realtime(&tx, &utterances(2)).await;
    tx.send(LiveInput::End).await.expect("end");
    let events = collect(rx).await;
    (events, tts.calls.load(std::sync::atomic::Ordering::Relaxed))
}

/// A translation done at the pause is spoken while the endpointer waits out the silence: the
/// final's first audio comes out with the final translation, not one synthesis after it, and the
/// voice speaks each utterance once.
#[tokio::test(start_paused = true)]
async fn a_pause_translation_is_spoken_ahead_of_the_final() {
    let tts_delay = Duration::from_millis(150);
    let (events, calls) = spoken_session(Arc::new(TranslatingStt::default()), true, tts_delay).await;
    let f = finals(&events);
    assert_eq!(f.len(), 2);
    for t in &f {
        let tr = events.iter().find_map(|e| match e {
            LiveEvent::Translation(x) if x.segment_id == t.segment_id && x.is_final => Some(x),
            _ => None,
        });
        let audio: Vec<_> = events
            .iter()
            .filter_map(|e| match e {
                LiveEvent::Audio(a) if a.segment_id == t.segment_id => Some(a),
                _ => None,
            })
            .collect();
        assert_eq!(audio.len(), 1);
        assert_eq!(Some(&audio[0].text), tr.map(|x| &x.text));
        let (text_ms, audio_ms) = (tr.and_then(|x| x.e2e_ms), audio[0].e2e_ms);
        assert!(
            text_ms.zip(audio_ms).is_some_and(|(t, a)| a - t < tts_delay.as_secs_f64() * 1000.0),
            "{text_ms:?} {audio_ms:?}"
        );
    }
    assert_eq!(calls, 2, "each utterance synthesized once");
}

/// Speech held for a pause's translation is never said for a final that reads otherwise: a
/// streaming transcript that gained its last word after the pause is translated and spoken anew.
#[tokio::test(start_paused = true)]
async fn speech_made_ahead_is_dropped_when_the_final_says_more() {
    let (events, calls) = spoken_session(
        Arc::new(LaggingStt { lag: Lag::UntilFinish, ..Default::default() }),
        false,
        Duration::from_millis(150),
    )
    .await;
    let f = finals(&events);
    assert_eq!(f.len(), 2);
    for t in &f {
        let want = FixedTranslator::render(&t.text, "en");
        let audio: Vec<_> = events
            .iter()
            .filter_map(|e| match e {
                LiveEvent::Audio(a) if a.segment_id == t.segment_id => Some((a.text.clone(), a.samples.len())),
                _ => None,
            })
            .collect();
        assert_eq!(audio, [(want.clone(), ToneTts::samples_for(&want))]);
    }
    assert_eq!(calls, 4, "synthesized at the pause, then again for the final");
}

/// Speech fed at real time (virtual time): the pause before an utterance closes starts its
/// translation, and the final transcript with the same words takes that translation over.
#[tokio::test(start_paused = true)]
async fn the_translation_started_at_a_pause_becomes_the_final_one() {
    pause_translation(false, 1000).await;
}

/// A translation done before the utterance closed (a fast engine) is used as it is.
#[tokio::test(start_paused = true)]
async fn a_pause_translation_done_before_the_final_is_used() {
    pause_translation(false, 0).await;
}

/// The same with interims translated while the speaker talks: the whole text at the pause stops
/// such a translation rather than waiting behind it.
#[tokio::test(start_paused = true)]
async fn the_pause_translation_does_not_wait_behind_interim_ones() {
    pause_translation(true, 1000).await;
}

/// What an interim translation stopped by the pause had written is where the pause's starts, so
/// no written word is written again: the final translation is done sooner than the whole text
/// afresh. Stopped by the pause's translation (a streaming recognizer) or by the pause itself,
/// before the decode it triggers (one that decodes whole utterances).
#[tokio::test(start_paused = true)]
async fn a_stopped_interim_translation_is_built_on() {
    let streaming: Arc<dyn SpeechToText> = Arc::new(sokuji_testkit::StreamingStt::default());
    for stt in [streaming, Arc::new(LevelStt)] {
        stopped_interim_translation_is_built_on(stt).await;
    }
}

async fn stopped_interim_translation_is_built_on(stt: Arc<dyn SpeechToText>) {
    let per_word = Duration::from_millis(150);
    let translator = Arc::new(WordTimedTranslator { per_word, ..Default::default() });
    let events = two_utterances_heard_by(stt, translator.clone(), false).await;
    let f = finals(&events);
    assert_eq!(f.len(), 2);
    let log = translator.log.lock().expect("lock").clone();
    // A start or draft without its closing bracket: the partial of a translation that was stopped.
    let partial = |t: &Option<String>| t.as_deref().is_some_and(|s| !s.ends_with(']'));
    assert!(log.iter().any(|(_, start, draft)| partial(start) || partial(draft)), "{log:?}");
    for t in &f {
        let e2e = events.iter().find_map(|e| match e {
            LiveEvent::Translation(x) if x.segment_id == t.segment_id && x.is_final => x.e2e_ms,
            _ => None,
        });
        let afresh = per_word.as_secs_f64() * 1000.0 * t.text.split_whitespace().count() as f64;
        assert!(e2e.is_some_and(|ms| ms < afresh), "{e2e:?} vs {afresh}");
    }
}

/// Writes "T[text]" a word every `per_word`, telling each partial ("T[w3 w3"); the words of a
/// start (less its last one) and those its draft has right cost nothing. Logs (text, start, draft).
#[derive(Default)]
struct WordTimedTranslator {
    per_word: Duration,
    log: std::sync::Mutex<Vec<Asked>>,
    /// When translations were stopped before they were done.
    stopped: std::sync::Mutex<Vec<tokio::time::Instant>>,
    /// When each translation began.
    began: std::sync::Mutex<Vec<tokio::time::Instant>>,
    /// Requests that came with a start.
    started: std::sync::atomic::AtomicUsize,
}

/// A translation asked for: (text, start, draft).
type Asked = (String, Option<String>, Option<String>);

/// Notes the time when dropped unless `done`.
struct StopWatch<'a>(&'a std::sync::Mutex<Vec<tokio::time::Instant>>, bool);

impl Drop for StopWatch<'_> {
    fn drop(&mut self) {
        if !self.1 {
            self.0.lock().expect("lock").push(tokio::time::Instant::now());
        }
    }
}

#[async_trait::async_trait]
impl sokuji_core::Translator for WordTimedTranslator {
    async fn translate(&self, r: sokuji_core::TranslateRequest) -> sokuji_core::Result<sokuji_core::Translation> {
        self.translate_partial(r, Arc::new(|_: &str| {})).await
    }

    async fn translate_partial(
        &self,
        r: sokuji_core::TranslateRequest,
        partial: sokuji_core::Partial,
    ) -> sokuji_core::Result<sokuji_core::Translation> {
        self.log.lock().expect("lock").push((r.text.clone(), r.start.clone(), r.draft.clone()));
        self.began.lock().expect("lock").push(tokio::time::Instant::now());
        let mut watch = StopWatch(&self.stopped, false);
        let words: Vec<&str> = r.text.split_whitespace().collect();
        // The words of the start, less its last one, are not written again; those the draft has
        // right are read, not written.
        let start = r.start.as_deref().map_or(0, |s| s.split_whitespace().count().saturating_sub(1));
        self.started.fetch_add(usize::from(r.start.is_some()), std::sync::atomic::Ordering::Relaxed);
        let draft = r.draft.as_deref().unwrap_or_default().trim_start_matches("T[").trim_end_matches(']');
        let drafted = draft.split_whitespace().zip(&words).take_while(|(d, w)| d == *w).count();
        let given = start.max(drafted).min(words.len());
        for n in given + 1..=words.len() {
            tokio::time::sleep(self.per_word).await;
            partial(&format!("T[{}", words[..n].join(" ")));
        }
        watch.1 = true;
        Ok(sokuji_core::Translation { text: format!("T[{}]", r.text), ..Default::default() })
    }

    async fn languages(&self) -> sokuji_core::Result<Vec<String>> {
        Ok(vec!["en".into(), "vi".into()])
    }

    async fn health(&self) -> sokuji_core::Health {
        sokuji_core::Health::ready("word-timed")
    }
}

async fn pause_translation(translate_interim: bool, delay_ms: u64) {
    let translator = Arc::new(FixedTranslator::with_delay(Duration::from_millis(delay_ms)));
    let mut cfg = config(Some("vi"));
    cfg.translate_interim = translate_interim;
    let (tx, rx) = start(engines(Arc::new(LevelStt), Some(translator.clone()), true), cfg);
    send_realtime(&tx, &utterances(2)).await;
    tx.send(LiveInput::End).await.expect("end");
    let events = collect(rx).await;
    let f = finals(&events);
    assert_eq!(f.len(), 2);
    let pauses = events.iter().filter(|e| matches!(e, LiveEvent::Transcription(t) if t.at_pause)).count();
    assert_eq!(pauses, 2, "one interim at each pause");
    for t in &f {
        let tr = events.iter().find_map(|e| match e {
            LiveEvent::Translation(x) if x.segment_id == t.segment_id && x.is_final => Some(x),
            _ => None,
        });
        assert_eq!(tr.map(|x| x.text.clone()), Some(FixedTranslator::render(&t.text, "vi")));
        // Started at the 0.12 s pause, before the utterance's audio ended and 0.2 s before the endpointer
        // closed it (and never behind a committed prefix's translation): done one delay later,
        // or with the final transcript when it was done before.
        let done_by = (delay_ms as f64).max(t.e2e_ms.unwrap_or_default());
        assert!(tr.and_then(|x| x.e2e_ms).is_some_and(|ms| ms < done_by + 60.0), "{tr:?}");
    }
    if !translate_interim {
        // One translation per utterance: the speculative one was kept, not repeated.
        assert_eq!(translator.calls.load(std::sync::atomic::Ordering::Relaxed), 2);
    }
}

/// The interims translated while the speaker talks are where the utterance's later translations
/// start and their drafts, or the final's own translation when its words are an interim's; a
/// translation of another utterance never is. Asked for whole sentences, nothing starts from
/// them: they are only drafts.
#[tokio::test(start_paused = true)]
async fn later_translations_build_on_the_interim_ones() {
    for whole in [false, true] {
        let translator = Arc::new(WordTimedTranslator::default());
        let events = two_utterances_translated_by(translator.clone(), whole).await;
        let f = finals(&events);
        assert_eq!(f.len(), 2);
        let seen = translator.log.lock().expect("lock").clone();
        for t in &f {
            match seen.iter().find(|(text, _, _)| *text == t.text) {
                Some((_, start, draft)) => {
                    assert!(start.is_some() || draft.is_some(), "{:?} asked afresh: {seen:?}", t.text)
                }
                None => assert!(
                    seen.iter().any(|(text, _, _)| same(text, &t.text)),
                    "{:?}: neither translated nor an interim's words: {seen:?}",
                    t.text
                ),
            }
        }
        // Each is the translation of a text of the same utterance: it shares its first word.
        for (text, start, draft) in &seen {
            for d in [start, draft].into_iter().flatten().filter_map(|s| s.strip_prefix("T[")) {
                assert_eq!(d.split_whitespace().next(), text.split_whitespace().next(), "{text:?} from {d:?}");
            }
        }
        assert!(seen[0].1.is_none() && seen[0].2.is_none(), "the first translation is made afresh: {seen:?}");
        let started = translator.started.load(std::sync::atomic::Ordering::Relaxed);
        assert_eq!(started > 0, !whole, "{started} translations started from another");
    }
}

/// Decodes like `LevelStt` in `delay`, noting when each pause's decode starts: the first decode
/// of audio that ends in the recognizer's pause (0.128 s of silence) after one that did not.
#[derive(Default)]
struct SlowStt {
    delay: Duration,
    pause_decodes: std::sync::Mutex<Vec<tokio::time::Instant>>,
    in_pause: std::sync::atomic::AtomicBool,
}

#[async_trait::async_trait]
impl SpeechToText for SlowStt {
    async fn transcribe(
        &self,
        audio: sokuji_core::Audio,
        options: sokuji_core::TranscribeOptions,
    ) -> sokuji_core::Result<sokuji_core::Transcript> {
        let tail = audio.samples().len().saturating_sub(2_048);
        let paused = audio.samples()[tail..].iter().all(|x| *x == 0.0);
        let was_paused = self.in_pause.swap(paused, std::sync::atomic::Ordering::SeqCst);
        if paused && !was_paused {
            self.pause_decodes.lock().expect("lock").push(tokio::time::Instant::now());
        }
        tokio::time::sleep(self.delay).await;
        LevelStt.transcribe(audio, options).await
    }

    async fn languages(&self) -> sokuji_core::Result<Vec<String>> {
        LevelStt.languages().await
    }

    async fn health(&self) -> sokuji_core::Health {
        sokuji_core::Health::ready("slow")
    }
}

/// The speaker's pause stops an interim's translation as the recognizer starts decoding the
/// whole utterance again, not once that decode is done, and a later interim's waiting behind it
/// does not start meanwhile: the decode has the cores to itself.
#[tokio::test(start_paused = true)]
async fn a_pause_stops_interim_translations_before_its_decode() {
    let stt = Arc::new(SlowStt { delay: Duration::from_millis(300), ..Default::default() });
    let translator = Arc::new(WordTimedTranslator { per_word: Duration::from_millis(300), ..Default::default() });
    let engines = engines(stt.clone(), Some(translator.clone()), false);
    let (tx, rx) = start(engines, config(Some("vi")));
    let audio = [silence(0.3), speech(2.4, 0.3), silence(1.0), speech(2.4, 0.5), silence(1.0)].concat();
    send_realtime(&tx, &audio).await;
    tx.send(LiveInput::End).await.expect("end");
    assert_eq!(finals(&collect(rx).await).len(), 2);
    let pauses = stt.pause_decodes.lock().expect("lock").clone();
    let stopped = translator.stopped.lock().expect("lock").clone();
    assert!(
        pauses.iter().any(|p| stopped.contains(p)),
        "pause decodes at {pauses:?}, translations stopped at {stopped:?}"
    );
    let began = translator.began.lock().expect("lock").clone();
    let during = |b: &tokio::time::Instant| pauses.iter().any(|p| *p <= *b && *b < *p + stt.delay);
    assert!(!began.iter().any(during), "pause decodes at {pauses:?}, translations began at {began:?}");
}

/// Two utterances at real time (virtual time) into Vietnamese, no speech: every event.
async fn two_utterances_translated_by(translator: Arc<dyn sokuji_core::Translator>, whole: bool) -> Vec<LiveEvent> {
    two_utterances_heard_by(Arc::new(LevelStt), translator, whole).await
}

/// The same, heard by `stt`.
async fn two_utterances_heard_by(
    stt: Arc<dyn SpeechToText>,
    translator: Arc<dyn sokuji_core::Translator>,
    whole: bool,
) -> Vec<LiveEvent> {
    let engines = engines(stt, Some(translator), false);
    let (tx, rx) = start(engines, LiveConfig { whole_sentences: whole, ..config(Some("vi")) });
    send_realtime(&tx, &utterances(2)).await;
    tx.send(LiveInput::End).await.expect("end");
    collect(rx).await
}

/// Whether two texts have the same words, case and punctuation aside.
fn same(a: &str, b: &str) -> bool {
    let words = |s: &str| -> Vec<String> {
        s.split_whitespace().map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()).to_lowercase()).collect()
    };
    words(a) == words(b)
}

/// Answers with the terms it was asked to keep, then the text.
struct KeepEcho;

#[async_trait::async_trait]
impl sokuji_core::Translator for KeepEcho {
    async fn translate(&self, r: sokuji_core::TranslateRequest) -> sokuji_core::Result<sokuji_core::Translation> {
        Ok(sokuji_core::Translation { text: format!("[{}] {}", r.keep.join(","), r.text), ..Default::default() })
    }

    async fn languages(&self) -> sokuji_core::Result<Vec<String>> {
        Ok(vec!["en".into(), "vi".into()])
    }

    async fn health(&self) -> sokuji_core::Health {
        sokuji_core::Health::ready("keep-echo")
    }
}

#[tokio::test]
async fn the_sessions_glossary_reaches_every_translation_and_can_change() {
    let engines = engines(Arc::new(LevelStt), Some(Arc::new(KeepEcho)), false);
    let mut cfg = config(Some("vi"));
    cfg.keep = vec!["Sokuji".into(), "Hà Nội".into()];
    let (tx, rx) = start(engines, cfg);
    let audio = utterances(2);
    let half = audio.len() / 2;
    send_audio(&tx, &audio[..half], 1_600).await;
    tx.send(LiveInput::Update(LiveUpdate { keep: Some(vec!["Lan".into()]), ..Default::default() }))
        .await
        .expect("update");
    send_audio(&tx, &audio[half..], 1_600).await;
    tx.send(LiveInput::End).await.expect("end");
    let events = collect(rx).await;
    let keeps: Vec<String> = events
        .iter()
        .filter_map(|e| match e {
            LiveEvent::Translation(x) if x.is_final => {
                x.text.split(']').next().map(|k| k.trim_start_matches('[').to_string())
            }
            _ => None,
        })
        .collect();
    assert_eq!(keeps, ["Sokuji,Hà Nội", "Lan"]);
}

/// A container stream in pieces cut anywhere (a WAV here; WebM and Ogg go the same way) is heard
/// as the PCM it holds.
#[tokio::test]
async fn a_container_stream_in_pieces_is_heard() {
    let (tx, rx) = start(engines(Arc::new(LevelStt), None, false), config(None));
    let wav = sokuji_audio::wav::encode_wav(&utterances(2), 16_000);
    for piece in wav.chunks(7_001) {
        tx.send(LiveInput::Media(piece.to_vec())).await.expect("session open");
    }
    tx.send(LiveInput::End).await.expect("end");
    let events = collect(rx).await;
    assert!(errors(&events).is_empty(), "{:?}", errors(&events));
    let f = finals(&events);
    assert_eq!(f.iter().map(|t| kinds(&t.text)).collect::<Vec<_>>(), [vec!["w3"], vec!["w4"]]);
}

#[tokio::test]
async fn a_stream_that_is_no_audio_is_an_audio_error() {
    let (tx, rx) = start(engines(Arc::new(LevelStt), None, false), config(None));
    tx.send(LiveInput::Media(b"no container starts like this".repeat(100))).await.expect("open");
    tx.send(LiveInput::End).await.expect("end");
    let events = collect(rx).await;
    assert!(errors(&events).iter().any(|(_, c)| *c == ErrorCode::InvalidAudio), "{:?}", errors(&events));
}

/// A pause's translation finished after the speaker said more (a second pause's text queued
/// behind it) is not spoken ahead: that speech could only be dropped, and it would take the cores
/// from the next translation. By the translator (which watches the queue while it writes) and by
/// Whisper's translate task (which does not).
#[tokio::test(start_paused = true)]
async fn a_pause_translation_overtaken_by_more_speech_is_not_spoken_ahead() {
    // Slower than the gap between the two pauses, faster than the close after the second.
    let slow = Duration::from_millis(1000);
    for speech_translation in [false, true] {
        let tts = Arc::new(CountingTts { tone: ToneTts { delay: Duration::from_millis(10) }, ..Default::default() });
        let mut cfg = LiveConfig::translate("vi", "en", "default");
        cfg.recognizer = RecognizerConfig { interim: false, ..quick() };
        cfg.speech_translation = speech_translation;
        let stt = Arc::new(TranslatingStt { delay: slow, ..Default::default() });
        let translator = Arc::new(FixedTranslator::with_delay(slow));
        let engines = LiveEngines { tts: Some(tts.clone()), ..engines(stt, Some(translator), false) };
        let (tx, rx) = start(engines, cfg);
        // Two pauses (0.12 s of silence is one; 0.32 s closes the utterance): after "w3" and "w5".
        let mut audio = silence(0.3);
        audio.extend(speech(1.0, 0.3));
        audio.extend(silence(0.2));
        audio.extend(speech(0.6, 0.5));
        audio.extend(silence(1.5));
        send_realtime(&tx, &audio).await;
        tx.send(LiveInput::End).await.expect("end");
        let events = collect(rx).await;
        let f = finals(&events);
        assert_eq!(f.iter().map(|t| kinds(&t.text)).collect::<Vec<_>>(), [vec!["w3", "w5"]], "{events:#?}");
        let whole = final_translation(&events, f[0].segment_id).expect("a final translation");
        assert_eq!(spoken(&events), [whole.as_str()], "speech translation: {speech_translation}");
        let calls = tts.calls.load(std::sync::atomic::Ordering::Relaxed);
        assert_eq!(calls, 1, "only the whole text synthesized, never the first pause's ({speech_translation})");
    }
}

/// Speech with no pause, cut after a committed clause: that piece is translated and spoken while
/// the speaker goes on (before the speech stops), and the rest after it.
#[tokio::test(start_paused = true)]
async fn a_clause_cut_from_speech_without_a_pause_is_translated_while_it_goes_on() {
    let stt = Arc::new(super::Edited::new(super::comma_where_louder));
    let (tx, rx) = start(engines(stt, Some(Arc::new(FixedTranslator::default())), true), config(Some("vi")));
    let audio = [silence(0.3), speech(3.4, 0.3), speech(3.0, 0.6), silence(1.0)].concat();
    send_realtime(&tx, &audio).await;
    tx.send(LiveInput::End).await.expect("end");
    let events = collect(rx).await;
    let texts: Vec<String> = finals(&events).iter().map(|t| t.text.replace(',', "")).collect();
    assert_eq!(texts.iter().map(|t| kinds(t)).collect::<Vec<_>>(), [vec!["w3"], vec!["w6"]], "{events:#?}");
    let pos = |f: &dyn Fn(&LiveEvent) -> bool| events.iter().position(f);
    let stopped = pos(&|e| matches!(e, LiveEvent::SpeechStopped { .. }));
    for id in [0, 1] {
        let translated = pos(&|e| matches!(e, LiveEvent::Translation(t) if t.segment_id == id && t.is_final));
        let spoken = pos(&|e| matches!(e, LiveEvent::Audio(a) if a.segment_id == id));
        assert!(translated.is_some() && spoken.is_some(), "utterance {id}: {events:#?}");
        assert_eq!(id == 0, translated < stopped && spoken < stopped, "utterance {id} against the speech's stop");
    }
}

/// Logs what it is asked, in order: ("translate" or "prepare", the context).
#[derive(Default)]
struct ContextLog(std::sync::Mutex<Vec<(&'static str, Option<String>)>>);

impl ContextLog {
    fn log(&self, what: &'static str, r: &sokuji_core::TranslateRequest) {
        if let Ok(mut l) = self.0.lock() {
            l.push((what, r.context.clone()));
        }
    }
}

#[async_trait::async_trait]
impl sokuji_core::Translator for ContextLog {
    async fn translate(&self, r: sokuji_core::TranslateRequest) -> sokuji_core::Result<sokuji_core::Translation> {
        self.log("translate", &r);
        Ok(sokuji_core::Translation { text: format!("vi {}", r.text), ..Default::default() })
    }

    async fn prepare(&self, r: sokuji_core::TranslateRequest) -> sokuji_core::Result<()> {
        self.log("prepare", &r);
        Ok(())
    }

    async fn languages(&self) -> sokuji_core::Result<Vec<String>> {
        Ok(vec!["en".into(), "vi".into()])
    }

    async fn health(&self) -> sokuji_core::Health {
        sokuji_core::Health::ready("context-log")
    }
}

/// Each final sentence has the translator read the next sentence's context ahead, and the next
/// sentence's translations then carry exactly that context.
#[tokio::test(start_paused = true)]
async fn the_next_sentences_context_is_prepared_when_a_sentence_is_final() {
    let log = Arc::new(ContextLog::default());
    let (tx, rx) = start(engines(Arc::new(LevelStt), Some(log.clone()), false), config(Some("vi")));
    send_realtime(&tx, &utterances(3)).await;
    tx.send(LiveInput::End).await.expect("end");
    let events = collect(rx).await;
    assert!(errors(&events).is_empty(), "{:?}", errors(&events));
    let sentences: Vec<String> = finals(&events).iter().map(|t| t.text.clone()).collect();
    assert_eq!(sentences.len(), 3, "{sentences:?}");
    let log = log.0.lock().map(|l| l.clone()).unwrap_or_default();
    let prepared: Vec<Option<String>> = log.iter().filter(|(w, _)| *w == "prepare").map(|(_, c)| c.clone()).collect();
    let want: Vec<Option<String>> = (1..=3).map(|n| Some(sentences[..n].join("\n"))).collect();
    assert_eq!(prepared, want, "{log:?}");
    // A context is prepared before any translation uses it.
    for (i, (what, context)) in log.iter().enumerate() {
        if *what == "translate" && context.is_some() {
            assert!(log[..i].contains(&("prepare", context.clone())), "{i}: {log:?}");
        }
    }
    assert!(log.iter().any(|(w, c)| *w == "translate" && c.is_some()), "{log:?}");
}
