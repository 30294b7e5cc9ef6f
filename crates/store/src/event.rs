//! New events: ids, times and W3C trace context. An event caused by another (the next stage's)
//! keeps its trace id, so one upload's work can be followed across processes and logs.
use crate::db::now_ms;
use sokuji_core::archive::events::{Event, EventData};

/// A new event from `source`; `parent` is the causing `traceparent` (an event's, or an HTTP
/// request's header), or none to start a trace.
pub fn new_event(source: &str, data: EventData, parent: Option<&str>) -> Event {
    let trace_id = parent.and_then(valid_trace_id).map(str::to_string).unwrap_or_else(|| hex(16));
    Event {
        id: uuid::Uuid::new_v4().to_string(),
        event_type: data.event_type().into(),
        source: source.into(),
        subject: data.recording_id().into(),
        time: now_ms(),
        traceparent: format!("00-{trace_id}-{}-01", hex(8)),
        data,
    }
}

/// The trace id of a well-formed `traceparent` (`00-<32 hex>-<16 hex>-<2 hex>`, not all zeros).
pub fn valid_trace_id(traceparent: &str) -> Option<&str> {
    let parts: Vec<&str> = traceparent.trim().split('-').collect();
    let hexes = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_hexdigit());
    match parts.as_slice() {
        [v, t, s, f] if hexes(v, 2) && hexes(t, 32) && hexes(s, 16) && hexes(f, 2) && t.bytes().any(|b| b != b'0') => {
            Some(t)
        }
        _ => None,
    }
}

fn hex(bytes: usize) -> String {
    let raw = uuid::Uuid::new_v4().simple().to_string();
    raw[..bytes * 2].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traces_carry_over_and_bad_parents_start_new_ones() {
        let data = EventData::NlpPostprocessed { recording_id: "r".into() };
        let parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let e = new_event("sokuji/test", data.clone(), Some(parent));
        assert_eq!(e.trace_id(), "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_ne!(e.traceparent, parent, "a new span id");
        assert_eq!(e.subject, "r");
        assert_eq!(e.event_type, "nlp.postprocessed");
        for bad in
            ["", "garbage", "00-00000000000000000000000000000000-00f067aa0ba902b7-01", "00-xyz-00f067aa0ba902b7-01"]
        {
            let e = new_event("sokuji/test", data.clone(), Some(bad));
            assert_eq!(e.trace_id().len(), 32);
            assert!(valid_trace_id(&e.traceparent).is_some(), "{}", e.traceparent);
        }
    }
}
