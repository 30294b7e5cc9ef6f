//! One whisper pass over one window of audio, and the assembly of windows into a transcript.
use crate::abort::Ended;
use crate::words::{Token, group};
use sokuji_admission::Ticket;
use sokuji_core::{
    Audio, Error, ErrorCode, Identified, Producer, Result, Segment, Task, TranscribeOptions, Transcript,
    guard::{Rejection, Rejections, SegmentEvidence, judge_segment},
};
use whisper_rs::{FullParams, SamplingStrategy, WhisperContext, WhisperState};

/// A decoded segment and the mean probability of its tokens.
pub struct Decoded {
    pub segment: Segment,
    pub mean_probability: f32,
}

pub struct Window {
    pub audio: Audio,
    /// Start of the window in the whole audio, seconds.
    pub offset: f64,
}

/// whisper.cpp refuses input shorter than one second; shorter windows are padded with silence.
const MIN_SAMPLES: usize = 16_800;

/// The encoder context for `samples` of 16 kHz audio: 50 positions a second with a margin,
/// rounded up to a multiple of 256 (whisper's full context, 1500, at most).
///
/// The rounding is not for speed: with flash attention, whisper.cpp's decoder attends over the
/// cross-attention cache padded to a multiple of 256 with no mask, so positions past a smaller
/// context hold whatever an earlier decode left there. A reused decoder state then gives
/// different text for the same audio depending on what it decoded before (measured: the same
/// 11.7 s decoded after a 4 s one came out with two words changed, short utterances with their
/// confidence down from 0.7 to 0.5), and live interim results turned to garbage under load.
fn fitted_audio_ctx(samples: usize) -> i32 {
    let positions = (samples as f64 / 16_000.0 * 50.0).ceil() as i32 + 64;
    ((positions + 255) / 256 * 256).min(1500)
}

/// Decodes one window. Segments the guards judge as decoded from non-speech (`core::guard`) are
/// dropped and counted, and so is a live decode stopped in a loop (no segments); a cancelled
/// ticket aborts the decode with the ticket's error.
#[allow(clippy::too_many_arguments)]
pub fn window(
    state: &mut WhisperState,
    ctx: &WhisperContext,
    w: &Window,
    o: &TranscribeOptions,
    language: Option<&str>,
    threads: usize,
    ticket: &Ticket,
    rejections: &Rejections,
) -> Result<Vec<Decoded>> {
    ticket.check()?;
    let mut pcm = w.audio.samples().to_vec();
    if pcm.len() < MIN_SAMPLES {
        pcm.resize(MIN_SAMPLES, 0.0);
    }
    let mut p = FullParams::new(SamplingStrategy::Greedy { best_of: 1 });
    p.set_n_threads(threads as i32);
    p.set_translate(o.task == Task::Translate);
    p.set_language(Some(language.unwrap_or("auto")));
    p.set_no_context(true);
    // Only words need per-token times; segments carry their own.
    p.set_token_timestamps(o.word_timestamps);
    p.set_suppress_nst(true);
    p.set_print_special(false);
    p.set_print_progress(false);
    p.set_print_realtime(false);
    p.set_print_timestamps(false);
    if let Some(prompt) = o.initial_prompt.as_deref().filter(|s| !s.trim().is_empty()) {
        p.set_initial_prompt(prompt);
    }
    if o.fit_context {
        p.set_audio_ctx(fitted_audio_ctx(pcm.len()));
        // One greedy pass, never repeated at higher temperatures: on an utterance the model
        // finds hard (Vietnamese into English on the base model, often) the repeats made a
        // live decode two to three times slower, and the guards judge the greedy text anyway.
        p.set_temperature_inc(0.0);
    }
    let eot = ctx.token_eot();
    // A live decode has no temperature fallback to leave a loop with: stop it at once.
    match crate::abort::full(state, p, &pcm, ticket, o.fit_context.then_some(eot)) {
        Ok(Ended::Done) => {}
        Ok(Ended::Looped) => {
            ticket.check()?;
            rejections.count(Rejection::Loop);
            tracing::debug!(secs = w.audio.duration_secs(), "decode stopped in a loop");
            return Ok(Vec::new());
        }
        Err(e) => {
            ticket.check()?;
            return Err(Error::new(ErrorCode::EngineFailed, format!("whisper decode failed: {e}")));
        }
    }
    let lang = match language {
        Some(l) => l.to_string(),
        None => whisper_rs::get_lang_str(state.full_lang_id_from_state()).unwrap_or("").to_string(),
    };
    let mut out = Vec::new();
    for seg in state.as_iter() {
        let mut tokens = Vec::new();
        let mut logprob = 0f32;
        for i in 0..seg.n_tokens() {
            let Some(t) = seg.get_token(i) else { continue };
            if t.token_id() >= eot {
                continue;
            }
            let d = t.token_data();
            logprob += d.plog;
            tokens.push(Token {
                bytes: t.to_bytes().map(<[u8]>::to_vec).unwrap_or_default(),
                start: w.offset + d.t0 as f64 / 100.0,
                end: w.offset + d.t1 as f64 / 100.0,
                probability: d.p,
            });
        }
        let text = seg.to_str_lossy().map(|s| s.trim().to_string()).unwrap_or_default();
        let n = tokens.len().max(1) as f32;
        let mean_logprob = logprob / n;
        let mean_probability = tokens.iter().map(|t| t.probability).sum::<f32>() / n;
        let no_speech = seg.no_speech_probability();
        if text.is_empty() || tokens.is_empty() {
            continue;
        }
        let evidence = SegmentEvidence { text: &text, no_speech, mean_logprob, mean_probability };
        if let Some(reason) = judge_segment(&evidence) {
            rejections.count(reason);
            tracing::debug!(%text, no_speech, mean_logprob, mean_probability, reason = reason.as_str(), "segment dropped");
            continue;
        }
        let segment = Segment {
            id: 0,
            start: w.offset + seg.start_timestamp() as f64 / 100.0,
            end: (w.offset + seg.end_timestamp() as f64 / 100.0).min(w.offset + w.audio.duration_secs()),
            text,
            words: if o.word_timestamps { group(&tokens) } else { Vec::new() },
            no_speech_probability: seg.no_speech_probability(),
            language: lang.clone(),
        };
        out.push(Decoded { segment, mean_probability });
    }
    Ok(out)
}

/// Joins the windows' segments (`Transcript::assemble`), confidence as the mean token
/// probability.
pub fn assemble(decoded: Vec<Decoded>, duration: f64, hint: Option<String>, producer: Producer) -> Transcript {
    let confidence = if decoded.is_empty() {
        0.0
    } else {
        decoded.iter().map(|d| d.mean_probability).sum::<f32>() / decoded.len() as f32
    };
    let segments = decoded.into_iter().map(|d| d.segment).collect();
    Transcript::assemble(segments, confidence, duration, hint, producer)
}

/// Encoder positions listened to when identifying a language (5.12 s of audio).
const IDENTIFY_CTX: i32 = 256;
pub const IDENTIFY_SECS: f64 = 5.0;

/// A state for language identification, primed so that its encoder context is `IDENTIFY_CTX`.
/// whisper.cpp sets a state's context only inside `whisper_full`, after that call's own language
/// detection, which therefore runs at the context of the call before (the full 1500 positions on
/// a fresh state: ~1 s per utterance on 2 cores instead of ~0.2). This state is primed once and
/// afterwards only computes mels and detects, so its context never changes.
pub fn identification_state(ctx: &WhisperContext, threads: usize, ticket: &Ticket) -> Result<WhisperState> {
    let fail = |e: String| Error::new(ErrorCode::EngineFailed, format!("whisper language detection failed: {e}"));
    let mut state = ctx.create_state().map_err(|e| fail(e.to_string()))?;
    let mut p = FullParams::new(SamplingStrategy::Greedy { best_of: 1 });
    p.set_n_threads(threads as i32);
    p.set_language(Some("en"));
    p.set_max_tokens(1);
    p.set_single_segment(true);
    p.set_print_progress(false);
    p.set_print_realtime(false);
    p.set_audio_ctx(IDENTIFY_CTX);
    crate::abort::full(&mut state, p, &vec![0.0; MIN_SAMPLES], ticket, None).map_err(|e| fail(e.to_string()))?;
    Ok(state)
}

/// The spoken language of the first `IDENTIFY_SECS` of `audio`: one encoder pass and one
/// decoder step on a state from `identification_state`.
pub fn identify(state: &mut WhisperState, audio: &Audio, threads: usize) -> Result<Identified> {
    let fail = |e: String| Error::new(ErrorCode::EngineFailed, format!("whisper language detection failed: {e}"));
    let pcm = audio.slice_secs(0.0, IDENTIFY_SECS);
    state.pcm_to_mel(pcm.samples(), threads).map_err(|e| fail(e.to_string()))?;
    let (id, probabilities) = state.lang_detect(0, threads).map_err(|e| fail(e.to_string()))?;
    let language = whisper_rs::get_lang_str(id).unwrap_or("").to_string();
    let probability = usize::try_from(id).ok().and_then(|i| probabilities.get(i)).copied().unwrap_or(0.0);
    tracing::debug!(%language, probability, secs = pcm.duration_secs(), "language identified");
    Ok(Identified { language, probability })
}

#[cfg(test)]
mod tests {
    use super::fitted_audio_ctx;

    #[test]
    fn encoder_contexts_are_whole_multiples_of_the_attention_padding() {
        for (secs, expected) in
            [(0.5, 256), (1.0, 256), (3.8, 256), (3.9, 512), (10.0, 768), (20.0, 1280), (28.0, 1500)]
        {
            let ctx = fitted_audio_ctx((secs * 16_000.0) as usize);
            assert_eq!(ctx, expected, "{secs} s");
            assert!(f64::from(ctx) >= secs * 50.0, "{secs} s must fit in {ctx} positions");
        }
    }
}
