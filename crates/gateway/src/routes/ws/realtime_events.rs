//! What OpenAI's two realtime protocols share: the input rate, event ids, error events.
use super::driver::Outgoing;
use sokuji_api::realtime::{ErrorDetail, ServerEvent};
use sokuji_core::{Error, ErrorCode};

/// OpenAI's input rate; a transcription client may declare another.
pub const INPUT_RATE: u32 = 24_000;

/// Numbers one session's server events and renders them; error events are counted by code.
pub struct Events {
    session: String,
    sent: u64,
}

impl Events {
    pub fn new(session: &str) -> Self {
        Self { session: session.into(), sent: 0 }
    }

    pub fn send(&mut self, make: impl FnOnce(String) -> ServerEvent) -> Outgoing {
        self.sent += 1;
        let e = make(format!("event_{}_{}", self.session, self.sent));
        match &e {
            ServerEvent::Error { error, .. } => {
                let code = error.code.as_deref().and_then(ErrorCode::from_str_code).unwrap_or(ErrorCode::Internal);
                Outgoing::error(code, &e)
            }
            _ => Outgoing::message(&e),
        }
    }

    /// OpenAI's `error` event for one of Sokuji's errors, naming the client event behind it.
    pub fn error(&mut self, e: &Error, event_id: Option<&str>) -> Outgoing {
        let error = error_detail(e, event_id);
        self.send(|event_id| ServerEvent::Error { event_id, error })
    }
}

/// OpenAI's error details for one of Sokuji's errors.
pub fn error_detail(e: &Error, event_id: Option<&str>) -> ErrorDetail {
    let kind = if e.code.http_status() < 500 { "invalid_request_error" } else { "server_error" };
    ErrorDetail {
        kind: kind.into(),
        code: Some(e.code.as_str().into()),
        message: e.message.clone(),
        param: None,
        event_id: event_id.map(String::from),
    }
}
