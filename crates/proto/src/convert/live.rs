//! Live session events as the gRPC streams carry them (`STTService.TranscribeStream` and
//! `LiveTranslationService.Translate`).
use super::now_timestamp;
use crate::{common, live};
use sokuji_live::{LiveError, Spoken, Transcription, Translated};

impl From<&Transcription> for common::TranscriptionResult {
    fn from(t: &Transcription) -> Self {
        Self {
            text: t.text.clone(),
            language: t.language.clone(),
            confidence: t.confidence,
            timestamp: now_timestamp(),
            start_time: Some(t.start),
            end_time: Some(t.end),
            is_final: t.is_final,
            words: t.words.iter().map(Into::into).collect(),
            segments: Vec::new(),
            stability: t.stability,
            committed_text: t.committed.clone(),
            segment_id: t.segment_id,
            processing_time_ms: t.stt_ms,
            engine: t.producer.engine.clone(),
            model: t.producer.model.clone(),
        }
    }
}

impl From<&Translated> for live::LiveTranslation {
    fn from(t: &Translated) -> Self {
        let result = common::TranslationResult {
            original_text: t.source_text.clone(),
            translated_text: t.text.clone(),
            source_language: t.source_language.clone(),
            target_language: t.target_language.clone(),
            timestamp: now_timestamp(),
            processing_time_ms: t.mt_ms,
            ..Default::default()
        };
        Self { result: Some(result), is_final: t.is_final }
    }
}

impl From<&LiveError> for live::LiveError {
    fn from(e: &LiveError) -> Self {
        Self { code: e.code.as_str().into(), message: e.message.clone() }
    }
}

/// One sentence of speech, already encoded as `format`.
pub fn synthesis_result(s: &Spoken, audio_data: Vec<u8>, format: &str) -> common::SynthesisResult {
    common::SynthesisResult {
        audio_data,
        sample_rate: s.sample_rate as i32,
        text: s.text.clone(),
        timestamp: now_timestamp(),
        duration_ms: s.samples.len() as f64 * 1000.0 / f64::from(s.sample_rate.max(1)),
        format: format.into(),
        is_last: true,
        processing_time_ms: s.tts_ms,
        ..Default::default()
    }
}
