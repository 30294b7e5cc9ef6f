//! Conversions between wire messages and domain types, and between `Status` and `Error`.
pub mod live;

use crate::{common, stt, translation, tts};
use sokuji_core::{
    Error, ErrorCode, Producer, Segment, SynthesizeRequest, Task, TranscribeOptions, Transcript, TranslateRequest,
    Translation, Voice, Word,
};

/// Metadata key that carries the machine error code next to the gRPC status.
pub const ERROR_CODE_KEY: &str = "x-sokuji-error-code";

pub fn status_from_error(e: &Error) -> tonic::Status {
    let mut s = tonic::Status::new(tonic::Code::from(e.code.grpc_code()), e.message.clone());
    if let Ok(v) = e.code.as_str().parse() {
        s.metadata_mut().insert(ERROR_CODE_KEY, v);
    }
    // A limit's refusal says which limit and when to come back, as HTTP's headers do.
    if let Some(limit) = &e.limit {
        let (policy, now) = limit.fields();
        for (k, v) in [("retry-after", limit.reset_secs.to_string()), ("ratelimit-policy", policy), ("ratelimit", now)]
        {
            if let Ok(v) = v.parse() {
                s.metadata_mut().insert(k, v);
            }
        }
    }
    s
}

pub fn error_from_status(s: &tonic::Status) -> Error {
    let code = s
        .metadata()
        .get(ERROR_CODE_KEY)
        .and_then(|v| v.to_str().ok())
        .and_then(ErrorCode::from_str_code)
        .unwrap_or_else(|| ErrorCode::from_grpc_code(s.code() as i32));
    Error::new(code, s.message().to_string())
}

impl From<&Word> for common::Word {
    fn from(w: &Word) -> Self {
        Self { text: w.text.clone(), start: w.start, end: w.end, probability: w.probability }
    }
}

impl From<common::Word> for Word {
    fn from(w: common::Word) -> Self {
        Self { text: w.text, start: w.start, end: w.end, probability: w.probability }
    }
}

impl From<&Segment> for common::Segment {
    fn from(s: &Segment) -> Self {
        Self {
            id: s.id,
            start: s.start,
            end: s.end,
            text: s.text.clone(),
            words: s.words.iter().map(Into::into).collect(),
            no_speech_probability: s.no_speech_probability,
            language: s.language.clone(),
        }
    }
}

impl From<common::Segment> for Segment {
    fn from(s: common::Segment) -> Self {
        Self {
            id: s.id,
            start: s.start,
            end: s.end,
            text: s.text,
            words: s.words.into_iter().map(Into::into).collect(),
            no_speech_probability: s.no_speech_probability,
            language: s.language,
        }
    }
}

/// A final result for a whole transcript; `timestamp` is the caller's (seconds since epoch).
pub fn final_result(t: &Transcript, timestamp: f64, processing_ms: f64) -> common::TranscriptionResult {
    common::TranscriptionResult {
        text: t.text.clone(),
        language: t.language.clone(),
        confidence: t.confidence,
        timestamp,
        start_time: Some(t.segments.first().map_or(0.0, |s| s.start)),
        end_time: Some(t.segments.last().map_or(t.duration, |s| s.end)),
        is_final: true,
        words: t.words().map(Into::into).collect(),
        segments: t.segments.iter().map(Into::into).collect(),
        stability: 1.0,
        committed_text: t.text.clone(),
        segment_id: 0,
        processing_time_ms: processing_ms,
        engine: t.producer.engine.clone(),
        model: t.producer.model.clone(),
    }
}

impl From<common::TranscriptionResult> for Transcript {
    fn from(r: common::TranscriptionResult) -> Self {
        let duration = r.end_time.unwrap_or(0.0);
        Self {
            text: r.text,
            language: r.language,
            // The wire has no field for it.
            language_probability: None,
            confidence: r.confidence,
            duration,
            segments: r.segments.into_iter().map(Into::into).collect(),
            producer: Producer { engine: r.engine, model: r.model },
        }
    }
}

impl From<stt::Task> for Task {
    fn from(t: stt::Task) -> Self {
        match t {
            stt::Task::Transcribe => Task::Transcribe,
            stt::Task::Translate => Task::Translate,
        }
    }
}

impl From<Task> for stt::Task {
    fn from(t: Task) -> Self {
        match t {
            Task::Transcribe => stt::Task::Transcribe,
            Task::Translate => stt::Task::Translate,
        }
    }
}

/// Reads a request's options; an unknown task number is an error, not a silent default.
pub fn options_from_request(
    language: Option<String>,
    o: Option<stt::TranscribeOptions>,
) -> Result<TranscribeOptions, Error> {
    let o = o.unwrap_or_default();
    let task = stt::Task::try_from(o.task).map_err(|_| Error::invalid_request(format!("unknown task {}", o.task)))?;
    Ok(TranscribeOptions {
        language,
        task: task.into(),
        word_timestamps: o.word_timestamps,
        initial_prompt: Some(o.initial_prompt).filter(|p| !p.trim().is_empty()),
        vad: o.vad,
        fit_context: o.fit_context,
        model: Some(o.model).filter(|m| !m.trim().is_empty()),
        progress: None,
    })
}

pub fn options_to_request(o: &TranscribeOptions) -> stt::TranscribeOptions {
    stt::TranscribeOptions {
        word_timestamps: o.word_timestamps,
        task: stt::Task::from(o.task) as i32,
        initial_prompt: o.initial_prompt.clone().unwrap_or_default(),
        vad: o.vad,
        fit_context: o.fit_context,
        model: o.model.clone().unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_round_trips_through_status() {
        for &code in sokuji_core::error::ALL_CODES {
            let e = Error::new(code, "why");
            let s = status_from_error(&e);
            assert_eq!(s.code() as i32, code.grpc_code());
            assert_eq!(error_from_status(&s), e);
        }
        let bare = tonic::Status::invalid_argument("x");
        assert_eq!(error_from_status(&bare).code, ErrorCode::InvalidRequest);
    }

    #[test]
    fn options_reject_unknown_task() {
        let o = stt::TranscribeOptions { task: 7, ..Default::default() };
        assert!(options_from_request(None, Some(o)).is_err());
    }

    /// A remote engine must decode as the local one would: every option crosses the wire.
    #[test]
    fn options_survive_the_wire() {
        let o = TranscribeOptions {
            language: Some("vi".into()),
            task: sokuji_core::Task::Translate,
            word_timestamps: true,
            initial_prompt: Some("Sokuji".into()),
            vad: Some(false),
            fit_context: true,
            model: Some("vi-conformer".into()),
            progress: None,
        };
        let back = options_from_request(o.language.clone(), Some(options_to_request(&o))).expect("valid");
        assert_eq!(back, o);
        let t = Transcript {
            text: "x".into(),
            producer: Producer::new("conformer-ctc", "vi-conformer"),
            ..Default::default()
        };
        assert_eq!(Transcript::from(final_result(&t, 0.0, 0.0)).producer, t.producer);
    }
}

/// Seconds since the Unix epoch, for the seed contract's `timestamp` fields.
pub fn now_timestamp() -> f64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0)
}

impl From<&Translation> for common::TranslationResult {
    fn from(t: &Translation) -> Self {
        Self {
            original_text: t.original.clone(),
            translated_text: t.text.clone(),
            source_language: t.source.clone(),
            target_language: t.target.clone(),
            // Greedy decoding gives no calibrated confidence; 1.0 says "the engine's answer".
            confidence: 1.0,
            timestamp: now_timestamp(),
            model_name: Some(t.model.clone()),
            engine: t.engine.clone(),
            processing_time_ms: t.processing_ms,
            source_detected: t.source_detected,
            partial: false,
        }
    }
}

impl From<common::TranslationResult> for Translation {
    fn from(r: common::TranslationResult) -> Self {
        Self {
            original: r.original_text,
            text: r.translated_text,
            source: r.source_language,
            target: r.target_language,
            source_detected: r.source_detected,
            engine: r.engine,
            model: r.model_name.unwrap_or_default(),
            processing_ms: r.processing_time_ms,
        }
    }
}

impl From<translation::TranslateRequest> for TranslateRequest {
    fn from(r: translation::TranslateRequest) -> Self {
        Self {
            text: r.text,
            source: if r.source_language.is_empty() { "auto".into() } else { r.source_language },
            target: r.target_language,
            context: r.context,
            keep: r.do_not_translate,
            hints: Vec::new(),
            start: r.answer_start,
            draft: r.draft,
        }
    }
}

impl From<&TranslateRequest> for translation::TranslateRequest {
    fn from(r: &TranslateRequest) -> Self {
        Self {
            text: r.text.clone(),
            source_language: r.source.clone(),
            target_language: r.target.clone(),
            context: r.context.clone(),
            do_not_translate: r.keep.clone(),
            partial_results: false,
            answer_start: r.start.clone(),
            draft: r.draft.clone(),
        }
    }
}

impl From<&Voice> for tts::Voice {
    fn from(v: &Voice) -> Self {
        Self {
            id: v.id.clone(),
            name: v.name.clone(),
            language: v.language.clone(),
            supported_languages: v.languages.clone(),
            gender: v.gender.clone(),
            metadata: v.metadata.clone().into_iter().collect(),
            sample_rate: v.sample_rate as i32,
            engine: v.engine.clone(),
        }
    }
}

impl From<tts::Voice> for Voice {
    fn from(v: tts::Voice) -> Self {
        Self {
            id: v.id,
            name: v.name,
            language: v.language,
            languages: v.supported_languages,
            gender: v.gender,
            sample_rate: v.sample_rate.max(0) as u32,
            engine: v.engine,
            metadata: v.metadata.into_iter().collect(),
        }
    }
}

impl From<tts::SynthesizeRequest> for SynthesizeRequest {
    fn from(r: tts::SynthesizeRequest) -> Self {
        Self { text: r.text, voice: r.voice_id, language: r.language, speed: r.speed, pitch: r.pitch }
    }
}

impl From<&SynthesizeRequest> for tts::SynthesizeRequest {
    fn from(r: &SynthesizeRequest) -> Self {
        Self {
            text: r.text.clone(),
            voice_id: r.voice.clone(),
            language: r.language.clone(),
            speed: r.speed,
            pitch: r.pitch,
            parameters: Default::default(),
        }
    }
}

pub fn health_response(h: &sokuji_core::Health) -> common::HealthCheckResponse {
    common::HealthCheckResponse {
        healthy: h.healthy,
        status: h.status.clone(),
        provider_name: h.provider.clone(),
        details: h.details.clone().into_iter().collect(),
    }
}

pub fn health_from_response(r: common::HealthCheckResponse) -> sokuji_core::Health {
    sokuji_core::Health {
        healthy: r.healthy,
        status: r.status,
        provider: r.provider_name,
        details: r.details.into_iter().collect(),
    }
}
