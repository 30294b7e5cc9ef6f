//! A GGUF instruct model in candle: loading, and greedy generation with stop tokens, stopped
//! early when its caller has gone or its deadline passed (checked between tokens).
//!
//! A draft of the answer (`Chat::draft`) is checked, not imposed: where the model's next token is
//! the draft's, the draft's following tokens are read in one pass and kept as long as each is
//! the one the model would have written after the ones before. Where the answer has parted from
//! the draft, it is taken up again wherever the draft has the answer's last token and the next.
//! A pass reads the layers' weights once for all its tokens (only the output projection is
//! applied per token), so an answer that follows its draft is read at a fraction of the cost of
//! writing it. Those rows round differently from one-token passes, so where two tokens nearly
//! tie, a draft can tip the answer (seen in the e2e tests: a comma, and once "the traditional
//! way" for "the principles of Taoism"); a token is kept only where it is the model's own first
//! choice on those rows.
//!
//! The attention state of recent prompts is kept: a prompt that starts like one of them (the
//! system turn of a language pair and the conversation so far) resumes from the shared part
//! instead of reading it again.
use crate::mapped::Weights;
use crate::{
    qwen2::{Cache, Interrupt, Qwen2, Vocab, argmax, argmax_rows},
    tokenizer::GgufTokenizer,
};
use candle_core::Device;
use sokuji_admission::Ticket;
use sokuji_core::prompt::Chat;
use std::{
    path::{Path, PathBuf},
    time::Instant,
};

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot open {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path} is not a usable GGUF model: {detail}")]
    Format { path: PathBuf, detail: String },
}

/// Why a generation stopped early.
#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    /// The caller went away or the deadline passed (the ticket's error), after so many tokens.
    #[error("{0} (after {1} tokens)")]
    Stopped(sokuji_core::Error, usize),
    #[error("prompt of {0} tokens is longer than the {1}-token context")]
    TooLong(usize, usize),
    #[error("{0}")]
    Engine(String),
}

/// What one generation produced, with its costs.
#[derive(Debug)]
pub struct Generation {
    pub text: String,
    pub prompt_tokens: usize,
    /// Of `prompt_tokens`, how many were resumed from a kept cache instead of read.
    pub cached_tokens: usize,
    pub generated_tokens: usize,
    /// Of `generated_tokens`, how many were the draft's, read in passes instead of written.
    pub drafted_tokens: usize,
    pub prompt_ms: f64,
    pub generate_ms: f64,
    /// Set when the answer came from the second, guarded prompt.
    pub retried: bool,
}

/// How many recent prompts' attention states are kept. Each costs ~28 KB per token on the 1.5B
/// model (~3 MB for a 100-token prompt); four cover two directions of a conversation with room.
const KEPT_CACHES: usize = 4;

/// Most prompt tokens read in one forward pass. On x86-64 every pass of 2 to 31 tokens computes
/// each position bit for bit alike (candle's tiled kernels; one row goes through its one-row
/// kernels instead, 32 and more through AMX where the CPU has it; where the CPU has AVX-512 VNNI
/// this crate's tiles, `tiled`, compute a row alike in passes of any size, one row included;
/// attention runs over padded lengths, `qwen2::ATTENTION_BLOCK`), so a prompt is resumed from any
/// token it shares with a kept one and read on in passes of that range: an answer never depends
/// on what was cached.
/// (aarch64's kernels read a pass's last rows one by one, so there an answer can differ by
/// rounding with what was cached.)
const PASS_MAX: usize = 31;
/// Fewest tokens a pass reads: a resumed prompt reads at least its last two again.
const PASS_MIN: usize = 2;
/// Draft tokens checked by the first pass; the next passes, while the draft holds, check up to
/// [`PASS_MAX`]. A draft that is wrong from its second token wastes only this short pass.
const DRAFT_FIRST: usize = 4;

/// The sizes of the passes that read `n` prompt tokens: as few as [`PASS_MAX`] allows, near-equal,
/// none under [`PASS_MIN`] when `n` is at least that.
pub(crate) fn passes(n: usize) -> impl Iterator<Item = usize> {
    let k = n.div_ceil(PASS_MAX).max(1);
    (0..k).map(move |i| n / k + usize::from(i < n % k)).filter(|&p| p > 0)
}

/// How much of a kept state sharing `shared` tokens with a prompt of `len` is resumed: all of the
/// shared part but the prompt's last [`PASS_MIN`] tokens, which are read again.
pub(crate) fn resume_at(shared: usize, len: usize) -> usize {
    shared.min(len.saturating_sub(PASS_MIN))
}

/// `cache` cut back to where a prompt of `len` tokens sharing `shared` with it resumes.
fn cut(mut cache: Cache, shared: usize, len: usize) -> Result<Cache, GenerateError> {
    cache.truncate(resume_at(shared, len)).map_err(|e| GenerateError::Engine(e.to_string()))?;
    Ok(cache)
}

/// The end of a generation whose pass was given up after `n` tokens: `check` says why (the
/// ticket's error).
fn given_up<T>(n: usize, check: &mut dyn FnMut(usize) -> Result<(), GenerateError>) -> Result<T, GenerateError> {
    check(n)?;
    Err(GenerateError::Engine("a pass was given up without a reason".into()))
}

/// Where writing an answer stops.
pub(crate) struct Limits<'a> {
    pub max_new: usize,
    pub stops: &'a [u32],
    /// Ends the answer once written ("</text>").
    pub close: &'a [u32],
    /// The tokens the answer may hold.
    pub vocab: Vocab,
}

/// What writing asks and tells its caller.
pub(crate) struct Hooks<'a> {
    /// Before each token or pass, with the count so far: the ticket's check.
    pub step: &'a mut dyn FnMut(usize) -> Result<(), GenerateError>,
    /// After the answer grows; `true` when the answer is complete (before its stop or closing
    /// tokens).
    pub wrote: &'a mut dyn FnMut(&[u32]) -> Result<bool, GenerateError>,
    /// Between the layers of a pass; a pass it gives up ends the writing with `step`'s error.
    pub stop: Interrupt<'a>,
}

/// Greedy writing from `next` (the token the prompt's last logits chose) until a stop token, the
/// closing tokens, `max_new` tokens or `wrote` saying the answer is complete, checking `draft`
/// where the answer follows it (see the module's doc). Returns the tokens written and how many of
/// them were read from the draft.
pub(crate) fn write(
    net: &Qwen2,
    cache: &mut Cache,
    mut next: u32,
    draft: &[u32],
    limits: &Limits,
    hooks: Hooks,
) -> Result<(Vec<u32>, usize), GenerateError> {
    let Hooks { step, wrote, stop } = hooks;
    let engine = |e: candle_core::Error| GenerateError::Engine(e.to_string());
    let mut out = Vec::new();
    // Where in the draft the answer goes on: its start, then past the tokens last read from it.
    let mut cursor = Some(0);
    let (mut drafted, mut span) = (0, DRAFT_FIRST);
    while !limits.stops.contains(&next) && out.len() < limits.max_new && !out.ends_with(limits.close) {
        step(out.len())?;
        // On the draft and about to write its next token: check the ones after it too.
        let at = cursor.filter(|&c| draft.get(c) == Some(&next)).or_else(|| rejoin(draft, &out, next));
        let end = at.map_or(0, |at| (at + span).min(draft.len()).min(at + limits.max_new - out.len()));
        if let Some(at) = at
            && end >= at + PASS_MIN
        {
            let checked = &draft[at..end];
            let base = cache.tokens().len();
            let Some(logits) = net.forward_all(checked, cache, stop, limits.vocab).map_err(engine)? else {
                return given_up(out.len(), step);
            };
            let wants = argmax_rows(&logits).map_err(engine)?;
            // The first is `next`; each later one is kept while the model wants it after those before.
            let kept = 1 + checked.iter().skip(1).zip(&wants).take_while(|(d, w)| d == w).count();
            cache.truncate(base + kept).map_err(engine)?;
            out.extend_from_slice(&checked[..kept]);
            drafted += kept;
            next = wants[kept - 1];
            // Longer passes while the draft holds; a short one again where it has parted.
            span = if kept == checked.len() { PASS_MAX } else { DRAFT_FIRST };
            cursor = Some(at + kept);
            if wrote(&out)? {
                break;
            }
        } else {
            cursor = None;
            out.push(next);
            if wrote(&out)? {
                break;
            }
            let Some(logits) = net.forward(&[next], cache, stop, limits.vocab).map_err(engine)? else {
                return given_up(out.len(), step);
            };
            next = argmax(&logits).map_err(engine)?;
        }
    }
    Ok((out, drafted))
}

/// Where the draft takes the answer up again after parting from it: the first place where it has
/// the answer's last token followed by `next` (a retry that rewrites one phrase of the first
/// answer, "To the end of the nineties" written "By the end of the nineties", reads the rest from
/// it). `None` when there is none.
fn rejoin(draft: &[u32], out: &[u32], next: u32) -> Option<usize> {
    let &last = out.last()?;
    draft.windows(2).position(|w| w == [last, next]).map(|p| p + 1)
}

pub struct Model {
    net: Qwen2,
    /// Recent attention states, newest first, each with the length of its prompt (what follows
    /// was generated token by token, one-row passes, and is not resumed).
    caches: Vec<(Cache, usize)>,
    tokenizer: GgufTokenizer,
    im_start: u32,
    im_end: u32,
    stops: Vec<u32>,
    /// "</text>": the end of the translation the prompt primes.
    close: Vec<u32>,
    context: usize,
    name: String,
}

impl Model {
    pub fn load(path: &Path) -> Result<Self, LoadError> {
        let fmt = |detail: String| LoadError::Format { path: path.into(), detail };
        let weights = Weights::open(path).map_err(|source| match source.kind() {
            std::io::ErrorKind::Other => fmt(source.to_string()),
            _ => LoadError::Io { path: path.into(), source },
        })?;
        let ct = &weights.content;
        let arch = ct.metadata.get("general.architecture").and_then(|v| v.to_string().ok()).cloned();
        if arch.as_deref() != Some("qwen2") {
            return Err(fmt(format!("architecture {arch:?} is not supported (qwen2 only)")));
        }
        let name = ct
            .metadata
            .get("general.name")
            .and_then(|v| v.to_string().ok())
            .cloned()
            .unwrap_or_else(|| path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default());
        // The chat template's window; the model's own context is larger, but CPU attention over
        // tens of thousands of tokens is not a translation workload.
        let context = 4096;
        let tokenizer = GgufTokenizer::from_gguf(ct).map_err(fmt)?;
        let special = |t: &str| tokenizer.special(t).ok_or_else(|| fmt(format!("vocabulary lacks {t}")));
        let (im_start, im_end) = (special("<|im_start|>")?, special("<|im_end|>")?);
        let stops = ["<|im_end|>", "<|endoftext|>"].iter().filter_map(|t| tokenizer.special(t)).collect();
        let close = tokenizer.encode("</text>").map_err(fmt)?;
        let net =
            Qwen2::from_gguf(&weights, &Device::Cpu, &tokenizer.latin_tokens()).map_err(|e| fmt(e.to_string()))?;
        let context = context.min(net.context());
        Ok(Self { net, caches: Vec::new(), tokenizer, im_start, im_end, stops, close, context, name })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn count_tokens(&self, text: &str) -> usize {
        self.tokenizer.encode(text).map(|t| t.len()).unwrap_or(0)
    }

    /// ChatML token ids: special tokens by id, text through the tokenizer.
    fn encode_chat(&self, chat: &Chat) -> Result<Vec<u32>, GenerateError> {
        let enc = |s: &str| self.tokenizer.encode(s).map_err(GenerateError::Engine);
        let mut ids = self.encode_to_user(chat)?;
        ids.push(self.im_end);
        ids.extend(enc("\n")?);
        ids.push(self.im_start);
        ids.extend(enc(&format!("assistant\n{}", chat.answer_prefix))?);
        Ok(ids)
    }

    /// The chat's token ids up to the end of its user turn's text, not closed.
    fn encode_to_user(&self, chat: &Chat) -> Result<Vec<u32>, GenerateError> {
        let enc = |s: &str| self.tokenizer.encode(s).map_err(GenerateError::Engine);
        let mut ids = vec![self.im_start];
        ids.extend(enc(&format!("system\n{}", chat.system))?);
        ids.push(self.im_end);
        ids.extend(enc("\n")?);
        for (user, assistant) in &chat.examples {
            ids.push(self.im_start);
            ids.extend(enc(&format!("user\n{user}"))?);
            ids.push(self.im_end);
            ids.extend(enc("\n")?);
            ids.push(self.im_start);
            ids.extend(enc(&format!("assistant\n{assistant}"))?);
            ids.push(self.im_end);
            ids.extend(enc("\n")?);
        }
        ids.push(self.im_start);
        ids.extend(enc(&format!("user\n{}", chat.user))?);
        Ok(ids)
    }

    /// Reads the chat up to the end of its user turn's text (`prompt::chat_ahead`: up to where
    /// a text would begin) into a kept state, writing nothing: the next prompt that begins so
    /// resumes it. Stops between layers once `stop` says so, keeping the passes it read. The
    /// tokens read, and whether all of them were.
    pub fn read_ahead(&mut self, chat: &Chat, stop: &dyn Fn() -> bool) -> Result<(usize, bool), GenerateError> {
        let prompt = self.encode_to_user(chat)?;
        if prompt.len() > self.context {
            return Err(GenerateError::TooLong(prompt.len(), self.context));
        }
        let mut cache = self.copy_cache(&prompt)?;
        let mut at = cache.tokens().len();
        let from = at;
        let result = (|| {
            for n in passes(prompt.len() - at) {
                if !self
                    .net
                    .feed(&prompt[at..at + n], &mut cache, stop)
                    .map_err(|e| GenerateError::Engine(e.to_string()))?
                {
                    return Ok((at - from, false));
                }
                at += n;
            }
            Ok((at - from, true))
        })();
        // Kept when it read anything: stopped before its first whole pass, it holds nothing the
        // state it was copied from does not (the next request's passes, over a longer prompt, are
        // others than the one given up), and would only push out an older state.
        if matches!(result, Ok((read, _)) if read > 0) {
            self.keep(cache, prompt.len());
        }
        result
    }

    /// Greedy decoding until a stop token, `max_new` tokens, the ticket's cancellation, or
    /// `on_text` saying the answer is complete (it sees the whole answer so far after each token
    /// that completes a character).
    pub fn generate(
        &mut self,
        chat: &Chat,
        max_new: usize,
        ticket: &Ticket,
        on_text: &mut dyn FnMut(&str) -> bool,
    ) -> Result<Generation, GenerateError> {
        let engine = |e: candle_core::Error| GenerateError::Engine(e.to_string());
        let prompt = self.encode_chat(chat)?;
        let draft = if chat.draft.is_empty() {
            Vec::new()
        } else {
            self.tokenizer.encode(&chat.draft).map_err(GenerateError::Engine)?
        };
        if prompt.len() + max_new > self.context {
            return Err(GenerateError::TooLong(prompt.len(), self.context.saturating_sub(max_new)));
        }
        ticket.check().map_err(|e| GenerateError::Stopped(e, 0))?;
        let started = Instant::now();
        let mut cache = self.take_cache(&prompt)?;
        let cached_tokens = cache.tokens().len();
        let stop = || ticket.is_cancelled();
        let mut check = |n| ticket.check().map_err(|e| GenerateError::Stopped(e, n));
        let result = (|| {
            // Passes of 2 to 31 tokens: every position's state is computed the same way whether it
            // was resumed or read now (a different rounding can change a greedy answer).
            let vocab = if chat.latin { Vocab::Latin } else { Vocab::All };
            // Only the last pass needs logits (a row of them reads the whole output projection).
            let sizes: Vec<usize> = passes(prompt.len() - cached_tokens).collect();
            let Some((_, before)) = sizes.split_last() else {
                return Err(GenerateError::Engine("empty prompt".into()));
            };
            let mut at = cached_tokens;
            for n in before {
                if !self.net.feed(&prompt[at..at + n], &mut cache, &stop).map_err(engine)? {
                    return given_up(0, &mut check);
                }
                at += n;
            }
            let Some(logits) = self.net.forward(&prompt[at..], &mut cache, &stop, vocab).map_err(engine)? else {
                return given_up(0, &mut check);
            };
            let next = argmax(&logits).map_err(engine)?;
            let prompt_ms = started.elapsed().as_secs_f64() * 1000.0;
            let started = Instant::now();
            let limits = Limits { max_new, stops: &self.stops, close: &self.close, vocab };
            let tokenizer = &self.tokenizer;
            let hooks = Hooks {
                step: &mut check,
                wrote: &mut |out| {
                    let text = tokenizer.decode(out).map_err(GenerateError::Engine)?;
                    // A character split across tokens decodes as U+FFFD until its last byte arrives.
                    Ok(!text.ends_with('\u{fffd}') && on_text(&text))
                },
                stop: &stop,
            };
            let (out, drafted) = write(&self.net, &mut cache, next, &draft, &limits, hooks)?;
            Ok(Generation {
                text: self.tokenizer.decode(&out).map_err(GenerateError::Engine)?,
                prompt_tokens: prompt.len(),
                cached_tokens,
                generated_tokens: out.len(),
                drafted_tokens: drafted,
                prompt_ms,
                generate_ms: started.elapsed().as_secs_f64() * 1000.0,
                retried: false,
            })
        })();
        // Kept when stopped early (a pass given up between layers is kept as such, and the next
        // pass over its tokens goes on from there), not after an engine error: a pass that failed
        // in its middle layers left the layers' states of different lengths.
        if !matches!(result, Err(GenerateError::Engine(_))) {
            self.keep(cache, prompt.len());
        }
        result
    }

    /// The kept cache sharing the longest prefix with `prompt`, cut back so that at least
    /// [`PASS_MIN`] prompt tokens are read again (the last one's logits are the next token's), or a
    /// fresh one.
    fn take_cache(&mut self, prompt: &[u32]) -> Result<Cache, GenerateError> {
        let Some((i, shared)) = self.best_cache(prompt) else { return Ok(self.net.new_cache()) };
        let (cache, _) = self.caches.remove(i);
        cut(cache, shared, prompt.len())
    }

    /// As [`Self::take_cache`], leaving the kept cache as it was (a copy shares its tensors): a
    /// read ahead must not cost the state it starts from its tail, a session's last prompt,
    /// which the next session's first request (without that context) resumes.
    fn copy_cache(&self, prompt: &[u32]) -> Result<Cache, GenerateError> {
        let Some((i, shared)) = self.best_cache(prompt) else { return Ok(self.net.new_cache()) };
        cut(self.caches[i].0.clone(), shared, prompt.len())
    }

    /// The kept cache sharing the longest prefix with `prompt`, and how long a prefix.
    fn best_cache(&self, prompt: &[u32]) -> Option<(usize, usize)> {
        self.caches
            .iter()
            .enumerate()
            .map(|(i, (c, read))| (i, c.common_prefix(prompt).min(*read)))
            .max_by_key(|&(_, n)| n)
            .filter(|&(_, n)| n > 0)
    }

    /// Keeps a cache as the most recent, dropping the oldest beyond [`KEPT_CACHES`].
    fn keep(&mut self, cache: Cache, read: usize) {
        if cache.tokens().is_empty() {
            return;
        }
        self.caches.insert(0, (cache, read));
        self.caches.truncate(KEPT_CACHES);
    }
}
