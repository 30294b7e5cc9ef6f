//! whisper.cpp's abort callback, driven by an admission [`Ticket`]: a decode whose caller has
//! gone (or whose deadline passed) stops at the next graph computation instead of running to
//! the end of its window. whisper.cpp (1.8.3, as whisper-rs-sys 0.15 builds it) asks only after
//! each whole graph: an encoder pass under way (~0.2 s of a live utterance on 2 cores) runs to
//! its end, then the decode stops before its first token.
//!
//! whisper-rs 0.16's `set_abort_callback_safe` boxes the closure as `Box<dyn FnMut>` but its
//! trampoline reads the pointer as the closure type itself, and leaks the box; this file sets
//! the raw callback instead, with a pointer whose lifetime the borrow checker sees.
#![allow(unsafe_code)]
use sokuji_admission::Ticket;
use std::ffi::c_void;
use whisper_rs::{FullParams, WhisperError, WhisperState};

/// Called by whisper.cpp after each graph computation (and by ggml inside those computed
/// without a scheduler); true aborts the decode.
unsafe extern "C" fn cancelled(data: *mut c_void) -> bool {
    // SAFETY: `data` is the `&Ticket` that `full` borrows for the whole `whisper_full` call, so
    // it is live and unmoved whenever whisper.cpp calls back; `Ticket` is `Sync` and only read.
    let ticket = unsafe { &*(data as *const Ticket) };
    ticket.is_cancelled()
}

/// `state.full(params, pcm)`, aborted as soon as `ticket` is cancelled.
pub fn full(
    state: &mut WhisperState,
    mut params: FullParams,
    pcm: &[f32],
    ticket: &Ticket,
) -> Result<(), WhisperError> {
    // SAFETY: the callback matches ggml's `bool (*)(void *)`; the user data points at `ticket`,
    // which outlives this call, and `params` (which holds the pointer) is consumed by `full`
    // below, so the pointer cannot be used after this function returns.
    unsafe {
        params.set_abort_callback(Some(cancelled));
        params.set_abort_callback_user_data(ticket as *const Ticket as *mut c_void);
    }
    state.full(params, pcm)
}
