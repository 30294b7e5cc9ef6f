//! Why a decode stops before the end of its window: its caller has gone (or its deadline
//! passed), or, in a live decode, its tokens went round in a loop.
//!
//! whisper.cpp asks its abort callback after each whole graph (1.8.3, as whisper-rs-sys 0.15
//! builds it): an encoder pass under way (~0.2 s of a live utterance on 2 cores) runs to its end,
//! then the decode stops before its next token. Loops are seen by the logits filter, which
//! whisper.cpp calls with the tokens so far before choosing each next one.
//!
//! whisper-rs 0.16's `set_abort_callback_safe` boxes the closure as `Box<dyn FnMut>` but its
//! trampoline reads the pointer as the closure type itself, and leaks the box; this file sets
//! the raw callbacks instead, with a pointer whose lifetime the borrow checker sees.
#![allow(unsafe_code)]
use sokuji_admission::Ticket;
use sokuji_core::guard::ends_in_loop;
use std::ffi::{c_int, c_void};
use std::sync::atomic::{AtomicBool, Ordering};
use whisper_rs::{FullParams, WhisperError, WhisperState};
use whisper_rs::{WhisperSysContext, WhisperSysState, WhisperTokenData};

/// What one `whisper_full` call is stopped by.
struct Stop<'a> {
    ticket: &'a Ticket,
    /// Tokens from this id up (end of text, timestamps, special tokens) are not text; `None`
    /// when loops are not watched for.
    eot: Option<i32>,
    /// Set by the logits filter when the text tokens end in a loop.
    looped: AtomicBool,
}

/// Called by whisper.cpp after each graph computation (and by ggml inside those computed
/// without a scheduler); true aborts the decode.
unsafe extern "C" fn stopped(data: *mut c_void) -> bool {
    // SAFETY: `data` is the `&Stop` that `full` borrows for the whole `whisper_full` call, so it
    // is live and unmoved whenever whisper.cpp calls back; `Stop` is `Sync` and only read.
    let stop = unsafe { &*(data as *const Stop) };
    stop.ticket.is_cancelled() || stop.looped.load(Ordering::Relaxed)
}

/// Called by whisper.cpp before each token it chooses, with the tokens so far; only looks.
unsafe extern "C" fn watch_for_loops(
    _ctx: *mut WhisperSysContext,
    _state: *mut WhisperSysState,
    tokens: *const WhisperTokenData,
    n_tokens: c_int,
    _logits: *mut f32,
    data: *mut c_void,
) {
    // SAFETY: as in `stopped`, `data` is the `&Stop` borrowed for the whole call.
    let stop = unsafe { &*(data as *const Stop) };
    let n = usize::try_from(n_tokens).unwrap_or(0);
    let Some(eot) = stop.eot.filter(|_| !tokens.is_null() && n > 0) else {
        return;
    };
    // SAFETY: whisper.cpp passes its decoder's token vector: `n_tokens` initialised values that
    // stay in place until this callback returns.
    let tokens = unsafe { std::slice::from_raw_parts(tokens, n) };
    let text: Vec<i32> = tokens.iter().map(|t| t.id).filter(|&id| id < eot).collect();
    if ends_in_loop(&text) {
        stop.looped.store(true, Ordering::Relaxed);
    }
}

/// How a decode ended.
pub enum Ended {
    Done,
    /// Aborted in a loop (`loops_below` only): the state's segments are not to be read.
    Looped,
}

/// `state.full(params, pcm)`, aborted as soon as `ticket` is cancelled or, with
/// `loops_below: Some(eot)`, as soon as its text tokens (ids below `eot`) end in a loop.
pub fn full(
    state: &mut WhisperState,
    mut params: FullParams,
    pcm: &[f32],
    ticket: &Ticket,
    loops_below: Option<i32>,
) -> Result<Ended, WhisperError> {
    let stop = Stop { ticket, eot: loops_below, looped: AtomicBool::new(false) };
    let data = &stop as *const Stop as *mut c_void;
    // SAFETY: the callbacks match whisper.cpp's `bool (*)(void *)` and
    // `whisper_logits_filter_callback`; their user data points at `stop`, which outlives this
    // call, and `params` (which holds the pointer) is consumed by `full` below, so the pointer
    // cannot be used after this function returns.
    unsafe {
        params.set_abort_callback(Some(stopped));
        params.set_abort_callback_user_data(data);
        if loops_below.is_some() {
            params.set_filter_logits_callback(Some(watch_for_loops));
            params.set_filter_logits_callback_user_data(data);
        }
    }
    match state.full(params, pcm) {
        // Only a decode the loop really aborted: one that ended by itself as the loop was seen
        // keeps its text for the guards to judge.
        Err(_) if stop.looped.load(Ordering::Relaxed) => Ok(Ended::Looped),
        result => result.map(|_| Ended::Done),
    }
}
