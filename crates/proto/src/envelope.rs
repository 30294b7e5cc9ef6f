//! Archive events to and from their protobuf envelope (`sokuji.events.v1`), the one encoding
//! they have on NATS and in the embedded queue.
use crate::events::{self as pb, envelope::Data};
use prost::Message;
use sokuji_core::{
    Error, Result,
    archive::events::{Event, EventData},
};

pub fn encode_event(e: &Event) -> Vec<u8> {
    let data = match &e.data {
        EventData::RecordingIngested { recording_id, object_key, language, reprocess } => {
            Data::RecordingIngested(pb::RecordingIngested {
                recording_id: recording_id.clone(),
                object_key: object_key.clone(),
                language: language.clone(),
                reprocess: *reprocess,
            })
        }
        EventData::TranscriptionCompleted { recording_id, language, segments } => {
            Data::TranscriptionCompleted(pb::TranscriptionCompleted {
                recording_id: recording_id.clone(),
                language: language.clone(),
                segments: *segments,
            })
        }
        EventData::NlpPostprocessed { recording_id } => {
            Data::NlpPostprocessed(pb::NlpPostprocessed { recording_id: recording_id.clone() })
        }
        EventData::EmbeddingsIndexed { recording_id, passages } => {
            Data::EmbeddingsIndexed(pb::EmbeddingsIndexed { recording_id: recording_id.clone(), passages: *passages })
        }
    };
    pb::Envelope {
        id: e.id.clone(),
        r#type: e.event_type.clone(),
        source: e.source.clone(),
        subject: e.subject.clone(),
        time_ms: e.time,
        traceparent: e.traceparent.clone(),
        data: Some(data),
    }
    .encode_to_vec()
}

/// An envelope back to an event; one without data (written by a newer version with a payload
/// this one does not know) is an error, not a guess.
pub fn decode_event(bytes: &[u8]) -> Result<Event> {
    let env = pb::Envelope::decode(bytes).map_err(|e| Error::internal(format!("event envelope: {e}")))?;
    let data = match env.data {
        Some(Data::RecordingIngested(d)) => EventData::RecordingIngested {
            recording_id: d.recording_id,
            object_key: d.object_key,
            language: d.language,
            reprocess: d.reprocess,
        },
        Some(Data::TranscriptionCompleted(d)) => EventData::TranscriptionCompleted {
            recording_id: d.recording_id,
            language: d.language,
            segments: d.segments,
        },
        Some(Data::NlpPostprocessed(d)) => EventData::NlpPostprocessed { recording_id: d.recording_id },
        Some(Data::EmbeddingsIndexed(d)) => {
            EventData::EmbeddingsIndexed { recording_id: d.recording_id, passages: d.passages }
        }
        None => {
            return Err(Error::internal(format!(
                "event {} ({}) carries no data this version knows",
                env.id, env.r#type
            )));
        }
    };
    Ok(Event {
        id: env.id,
        event_type: env.r#type,
        source: env.source,
        subject: env.subject,
        time: env.time_ms,
        traceparent: env.traceparent,
        data,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_unknown_data() {
        let e = Event {
            id: "e1".into(),
            event_type: "recording.ingested".into(),
            source: "sokuji/gateway".into(),
            subject: "r1".into(),
            time: 1_700_000_000_000,
            traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01".into(),
            data: EventData::RecordingIngested {
                recording_id: "r1".into(),
                object_key: "audio/ab/abc".into(),
                language: Some("vi".into()),
                reprocess: false,
            },
        };
        assert_eq!(decode_event(&encode_event(&e)).expect("decodes"), e);
        assert_eq!(e.trace_id(), "0af7651916cd43dd8448eb211c80319c");
        let bare = pb::Envelope { id: "e2".into(), r#type: "future.event".into(), ..Default::default() };
        let err = decode_event(&bare.encode_to_vec()).expect_err("no known data");
        assert!(err.message.contains("future.event"), "{err}");
        assert!(decode_event(b"\xff\xff\xff").is_err());
    }
}
