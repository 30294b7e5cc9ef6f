//! The one WebSocket driver of live sessions. It owns the socket (reads frames, writes with a
//! send timeout), starts the session when the protocol asks, feeds it, renders its events
//! through the protocol, stores a recorded session in the archive, closes with the right code,
//! and counts sessions by outcome and errors by code.
//!
//! Backpressure: the session's events are always drained first; client frames are read only
//! when the session has taken the previous input, so a client that sends faster than the
//! engines run waits, and one that stops reading is cut off after the send timeout.
use crate::{AppState, metrics::Metrics, routes::recordings::store_live};
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use futures::{SinkExt, StreamExt, stream::SplitSink};
use serde::Serialize;
use sokuji_api::live::RecordingMessage;
use sokuji_core::{Error, ErrorCode, archive::RecordingMeta};
use sokuji_live::{LiveConfig, LiveEvent, LiveInput, Recorded};
use std::{collections::VecDeque, time::Duration};
use tokio::sync::mpsc;

/// A frame to send; errors are counted by their code.
pub struct Outgoing {
    pub text: String,
    pub error: Option<ErrorCode>,
}

impl Outgoing {
    pub fn message(m: &impl Serialize) -> Self {
        Self { text: serde_json::to_string(m).unwrap_or_default(), error: None }
    }

    pub fn error(code: ErrorCode, m: &impl Serialize) -> Self {
        Self { error: Some(code), ..Self::message(m) }
    }
}

/// What the protocol makes of a client frame.
pub enum Step {
    /// Start the session (only once).
    Start(Box<Start>),
    /// Input for the started session.
    Input(LiveInput),
    Send(Outgoing),
    /// Close now: there is no session to flush.
    Close(u16, &'static str),
}

pub struct Start {
    pub config: LiveConfig,
    /// Store the session in the archive at its end, with this description.
    pub record: Option<RecordingMeta>,
}

/// What a protocol may know of the server.
#[derive(Clone, Copy)]
pub struct Ctx {
    /// Recording needs an archive; this much audio at most.
    pub record_cap: Option<u64>,
}

impl Ctx {
    pub fn of(s: &AppState) -> Self {
        Self { record_cap: s.archive.as_ref().map(|a| a.live_record_cap()) }
    }
}

/// One wire protocol of live sessions.
pub trait Protocol: Send + 'static {
    /// Sent as soon as the socket opens.
    fn opened(&mut self) -> Vec<Outgoing> {
        Vec::new()
    }
    fn text(&mut self, text: &str) -> Vec<Step>;
    fn binary(&mut self, data: Vec<u8>) -> Vec<Step>;
    fn event(&mut self, e: LiveEvent) -> Vec<Outgoing>;
    /// The outcome of storing a recorded session.
    fn stored(&mut self, _r: Result<RecordingMessage, Error>) -> Vec<Outgoing> {
        Vec::new()
    }
    /// Sent after the session's last event, before the close frame.
    fn ended(&mut self) -> Vec<Outgoing> {
        Vec::new()
    }
}

/// How a session ended (the label of `sokuji_live_sessions_total{end}`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    /// The client asked for the end and got every event.
    End,
    /// The client went away.
    Disconnect,
    /// The client stopped reading and was cut off.
    Stalled,
    /// A frame too large or malformed.
    BadFrame,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Self::End => "end",
            Self::Disconnect => "disconnect",
            Self::Stalled => "stalled",
            Self::BadFrame => "bad_frame",
        }
    }
}

struct Writer {
    sink: SplitSink<WebSocket, Message>,
    timeout: Duration,
    metrics: Metrics,
    /// The client asked for the end: if it goes away now, the session still finishes.
    ending: bool,
    /// The client left after asking for the end: the session finishes unheard (a recording is
    /// still stored: nothing accepted is lost).
    gone: bool,
}

impl Writer {
    async fn send(&mut self, o: Outgoing) -> Result<(), Outcome> {
        // Every error a client sees, protocol or engine, counted by its code.
        if let Some(code) = o.error {
            self.metrics.errors.with_label_values(&[code.as_str()]).inc();
        }
        self.write(Message::Text(Utf8Bytes::from(o.text))).await
    }

    async fn write(&mut self, m: Message) -> Result<(), Outcome> {
        if self.gone {
            return Ok(());
        }
        match tokio::time::timeout(self.timeout, self.sink.send(m)).await {
            Ok(Ok(())) => Ok(()),
            // The connection is gone; what it sent before going is still read, and decides
            // whether the session finishes (an `end` among it) or stops.
            Ok(Err(_)) => {
                self.gone = true;
                Ok(())
            }
            Err(_) if self.ending => {
                self.gone = true;
                Ok(())
            }
            Err(_) => {
                // Its buffers are full: no close frame can get through either.
                tracing::warn!("client read nothing for {:?}; disconnecting", self.timeout);
                Err(Outcome::Stalled)
            }
        }
    }

    async fn close(&mut self, code: u16, reason: &'static str) {
        let close = CloseFrame { code, reason: Utf8Bytes::from_static(reason) };
        let _ = self.write(Message::Close(Some(close))).await;
    }
}

/// A started session: where input goes and where events come from.
struct Running {
    input: mpsc::Sender<LiveInput>,
    events: mpsc::Receiver<LiveEvent>,
    record: Option<RecordingMeta>,
    recorded: Option<Recorded>,
}

pub async fn run<P: Protocol>(state: AppState, socket: WebSocket, mut protocol: P, opened: super::Opened) {
    let caller = &opened.caller;
    let (sink, mut frames) = socket.split();
    let mut w =
        Writer { sink, timeout: state.live_send_timeout, metrics: state.metrics.clone(), ending: false, gone: false };
    let mut session: Option<Running> = None;
    let mut queue: VecDeque<LiveInput> = VecDeque::new();
    // After `End` (`w.ending`), frames still arriving (a microphone not yet stopped) are read and
    // dropped, so the socket closes cleanly instead of being reset with unread data.
    let mut frames_done = false;
    let mut started = false;
    let outcome = 'session: {
        for o in protocol.opened() {
            if let Err(out) = w.send(o).await {
                break 'session out;
            }
        }
        loop {
            let input = session.as_ref().map(|s| s.input.clone());
            tokio::select! {
                biased;
                e = next_event(&mut session) => match e {
                    Some(LiveEvent::Recorded(r)) => {
                        if let Some(s) = session.as_mut() {
                            s.recorded = Some(r);
                        }
                    }
                    Some(e) => {
                        record_stages(&state.metrics, &e);
                        for o in protocol.event(e) {
                            if let Err(out) = w.send(o).await {
                                break 'session out;
                            }
                        }
                    }
                    // The session is over: every event was sent.
                    None => break 'session finish(&state, &mut w, &mut protocol, session.take(), &caller.tenant).await,
                },
                permit = reserve(input), if !queue.is_empty() => match (permit, queue.pop_front()) {
                    (Some(p), Some(i)) => {
                        p.send(i);
                    }
                    _ => break 'session Outcome::Disconnect,
                },
                frame = frames.next(), if queue.is_empty() && !frames_done => {
                    let msg = match frame {
                        Some(Ok(m)) => m,
                        // A connection reset after `end` is the client going away.
                        Some(Err(_)) if w.ending => Message::Close(None),
                        Some(Err(e)) => {
                            // Mostly a frame over MAX_FRAME_BYTES; the reason goes with the close.
                            tracing::debug!("websocket read failed: {e}");
                            w.close(1009, "frame too large or malformed").await;
                            break 'session Outcome::BadFrame;
                        }
                        None => Message::Close(None),
                    };
                    let steps = match msg {
                        // Gone after asking for the end: the session still finishes (and is
                        // stored when recorded); gone before: it ends here.
                        Message::Close(_) if w.ending && session.is_some() => {
                            frames_done = true;
                            w.gone = true;
                            continue;
                        }
                        Message::Close(_) => break 'session Outcome::Disconnect,
                        _ if w.ending => continue,
                        Message::Text(t) => protocol.text(t.as_str()),
                        Message::Binary(b) => protocol.binary(b.to_vec()),
                        _ => continue,
                    };
                    for step in steps {
                        match step {
                            Step::Start(s) if session.is_none() => {
                                let engines = state.live_engines(caller.meter.clone());
                                let (input, events) = sokuji_live::start(engines, s.config);
                                state.metrics.active_sessions.inc();
                                started = true;
                                session = Some(Running { input, events, record: s.record, recorded: None });
                            }
                            Step::Start(_) => tracing::warn!("a protocol started its session twice"),
                            Step::Input(i) => {
                                w.ending |= i == LiveInput::End;
                                queue.push_back(i);
                            }
                            Step::Send(o) => {
                                if let Err(out) = w.send(o).await {
                                    break 'session out;
                                }
                            }
                            Step::Close(code, reason) => {
                                w.close(code, reason).await;
                                break 'session Outcome::End;
                            }
                        }
                    }
                }
            }
        }
    };
    if session.take().is_some() {
        // Gone mid-session: dropping the input ends it.
        state.metrics.active_sessions.dec();
    }
    if started {
        state.metrics.sessions.with_label_values(&[outcome.as_str()]).inc();
    }
}

/// After the last event: the recording stored and reported, the protocol's goodbye, the close.
async fn finish<P: Protocol>(
    state: &AppState,
    w: &mut Writer,
    protocol: &mut P,
    s: Option<Running>,
    tenant: &str,
) -> Outcome {
    state.metrics.active_sessions.dec();
    let mut out = Vec::new();
    if let Some(Running { record: Some(meta), recorded: Some(rec), .. }) = s {
        let stored = match &state.archive {
            Some(archive) => store_live(archive, rec, meta, tenant).await,
            None => Err(Error::new(ErrorCode::EngineUnavailable, "this server runs no archive")),
        };
        out.extend(
            protocol.stored(stored.map_err(|e| Error::new(e.code, format!("recording not stored: {}", e.message)))),
        );
    }
    out.extend(protocol.ended());
    for o in out {
        if let Err(outcome) = w.send(o).await {
            return outcome;
        }
    }
    w.close(1000, "end").await;
    Outcome::End
}

async fn next_event(session: &mut Option<Running>) -> Option<LiveEvent> {
    match session {
        Some(s) => s.events.recv().await,
        None => std::future::pending().await,
    }
}

/// Room for one input in the session, `None` if it has stopped taking input.
async fn reserve(input: Option<mpsc::Sender<LiveInput>>) -> Option<mpsc::OwnedPermit<LiveInput>> {
    input?.reserve_owned().await.ok()
}

/// Stage latencies of finals, for `sokuji_stage_duration_seconds`.
fn record_stages(m: &Metrics, e: &LiveEvent) {
    match e {
        LiveEvent::Transcription(t) if t.is_final => {
            m.observe_ms("stt", Some(t.stt_ms));
            m.observe_ms("e2e_transcript", t.e2e_ms);
        }
        LiveEvent::Translation(t) if t.is_final => {
            m.observe_ms("mt", Some(t.mt_ms));
            m.observe_ms("e2e_translation", t.e2e_ms);
        }
        LiveEvent::Audio(a) => {
            m.observe_ms("tts", Some(a.tts_ms));
            m.observe_ms("e2e_audio", a.e2e_ms);
        }
        _ => {}
    }
}
