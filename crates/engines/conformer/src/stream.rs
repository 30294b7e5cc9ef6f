//! One utterance read as it arrives. The model is natively streaming: each 40 frames of new
//! audio (0.4 s) make one step that yields 10 new output frames, and nothing decoded before
//! changes, so interim words cost one step each and the final only the last, padded chunk.
//! The steps are the ones a batch decode of the same audio takes, so the text is the same.
use crate::{
    ctc::{self, Best},
    engine::Inner,
    features::{Features, Frame},
    model::{CHUNK_FRAMES, Chunk, STEP_FRAMES, StreamState, real_outputs},
};
use sokuji_admission::{Admission, Ticket};
use sokuji_core::{Error, ErrorCode, Result, SAMPLE_RATE, SttStream, Transcript, Word, readable};
use std::sync::Arc;

pub struct ConformerStream {
    inner: Arc<Inner>,
    admission: Admission,
    word_timestamps: bool,
    /// Taken while a step runs on a blocking thread; `None` after a push was abandoned.
    core: Option<Core>,
}

struct Core {
    features: Features,
    /// Feature frames not yet stepped past.
    pending: Vec<Frame>,
    state: StreamState,
    path: Vec<Best>,
    /// The utterance so far, for the energy gate at the end.
    samples: Vec<f32>,
}

impl ConformerStream {
    pub(crate) fn new(inner: Arc<Inner>, admission: Admission, word_timestamps: bool) -> Self {
        let core = Core {
            features: Features::new(inner.bank.clone()),
            pending: Vec::new(),
            state: StreamState::default(),
            path: Vec::new(),
            samples: Vec::new(),
        };
        Self { inner, admission, word_timestamps, core: Some(core) }
    }

    /// Runs the steps now possible (all of them, the last padded, when `last`) off the runtime.
    /// With `peek`, also the path as the final would read it now: the frames short of a step
    /// read, padded, on a copy of the state, so the stream goes on from its whole steps.
    async fn advance(&mut self, samples: Vec<f32>, last: bool, peek: bool) -> Result<(Core, Option<Vec<Best>>)> {
        let mut core =
            self.core.take().ok_or_else(|| Error::new(ErrorCode::EngineFailed, "the stream was abandoned mid-step"))?;
        let inner = self.inner.clone();
        self.admission
            .run(None, move |ticket| {
                core.features.push(&samples, &mut core.pending);
                core.samples.extend(samples);
                steps(&inner, &mut core.state, &mut core.pending, &mut core.path, last, ticket)?;
                let peeked = if peek && !core.pending.is_empty() {
                    let (mut state, mut pending, mut path) =
                        (core.state.clone(), core.pending.clone(), core.path.clone());
                    steps(&inner, &mut state, &mut pending, &mut path, true, ticket)?;
                    Some(path)
                } else {
                    None
                };
                Ok((core, peeked))
            })
            .await
    }

    /// The words of `path` as the final will write them (capitals and commas at pauses), so
    /// that what a live session commits from them is what the final keeps; the last sentence
    /// may go on, so it gets no full stop yet.
    fn interim_words(&self, path: &[Best]) -> Vec<Word> {
        let mut words = readable::sentences(ctc::words(path, &self.inner.vocab, 0.0)).concat();
        if let Some(last) = words.last_mut()
            && let Some(open) = last.text.strip_suffix('.')
        {
            last.text = open.to_string();
        }
        words
    }
}

/// Steps over `pending` while a whole chunk is there (all of it, the last chunk padded, when
/// `last`), extending `path`.
fn steps(
    inner: &Inner,
    state: &mut StreamState,
    pending: &mut Vec<Frame>,
    path: &mut Vec<Best>,
    last: bool,
    ticket: &Ticket,
) -> Result<()> {
    let classes = inner.model.classes();
    while pending.len() >= CHUNK_FRAMES || (last && !pending.is_empty()) {
        ticket.check()?;
        let real = pending.len().min(CHUNK_FRAMES);
        let rows = inner.model.step(&mut [Chunk { frames: &pending[..real], state }])?;
        path.extend(ctc::best_path(&rows[0][..real_outputs(real) * classes], classes));
        pending.drain(..real.min(STEP_FRAMES));
    }
    Ok(())
}

#[async_trait::async_trait]
impl SttStream for ConformerStream {
    async fn push(&mut self, samples: Vec<f32>) -> Result<Vec<Word>> {
        let (core, _) = self.advance(samples, false, false).await?;
        let words = self.interim_words(&core.path);
        self.core = Some(core);
        Ok(words)
    }

    async fn push_at_pause(&mut self, samples: Vec<f32>) -> Result<Vec<Word>> {
        let (core, peeked) = self.advance(samples, false, true).await?;
        let words = self.interim_words(peeked.as_deref().unwrap_or(&core.path));
        self.core = Some(core);
        Ok(words)
    }

    async fn finish(mut self: Box<Self>) -> Result<Transcript> {
        let (core, _) = self.advance(Vec::new(), true, false).await?;
        let duration = core.samples.len() as f64 / f64::from(SAMPLE_RATE);
        let words = match self.inner.gate(&core.samples) {
            Some(_) => Vec::new(),
            None => ctc::words(&core.path, &self.inner.vocab, 0.0),
        };
        Ok(self.inner.transcript(vec![words], duration, self.word_timestamps))
    }
}
