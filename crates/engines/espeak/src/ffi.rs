//! The only file that touches libespeak-ng.
use espeakng_sys as sys;
use std::{
    ffi::{CStr, CString, c_char, c_int, c_short, c_void},
    ptr,
    sync::{Mutex, MutexGuard, OnceLock},
};

#[derive(Debug, Clone, thiserror::Error)]
pub enum EspeakError {
    #[error("espeak-ng could not start: {0} (is espeak-ng-data installed?)")]
    Init(String),
    #[error("espeak-ng has no voice {0:?}")]
    UnknownVoice(String),
    #[error("espeak-ng failed: {0}")]
    Failed(String),
    #[error("text contains a NUL byte")]
    Nul,
}

/// A voice eSpeak NG ships.
#[derive(Debug, Clone, PartialEq)]
pub struct EspeakVoice {
    /// Its first language tag ("vi", "vi-vn-x-south", "en-us"): what selects it.
    pub language: String,
    /// Every language tag it claims.
    pub languages: Vec<String>,
    pub name: String,
    /// "male", "female" or "".
    pub gender: String,
    /// Data file ("aav/vi").
    pub file: String,
}

/// The process's one eSpeak NG instance. Holding the guard is holding the library.
pub struct Espeak {
    pub sample_rate: u32,
    voices: Vec<EspeakVoice>,
}

static INSTANCE: OnceLock<Result<Mutex<Espeak>, EspeakError>> = OnceLock::new();

/// Locks the library, initializing it on first use. A panic inside a holder poisons nothing
/// that matters (all state is re-set on each call), so poisoning is ignored.
pub fn espeak() -> Result<MutexGuard<'static, Espeak>, EspeakError> {
    let cell = INSTANCE.get_or_init(|| Espeak::init().map(Mutex::new));
    match cell {
        Ok(m) => Ok(m.lock().unwrap_or_else(|p| p.into_inner())),
        Err(e) => Err(e.clone()),
    }
}

/// Samples collected by the synthesis callback; reached through espeak's `user_data` pointer.
struct Sink {
    samples: Vec<i16>,
}

extern "C" fn on_samples(wav: *mut c_short, count: c_int, events: *mut sys::espeak_EVENT) -> c_int {
    if wav.is_null() || count <= 0 || events.is_null() {
        return 0;
    }
    // SAFETY: espeak passes at least one event (the list ends with a terminator event) whose
    // user_data is the `Sink` pointer given to espeak_Synth, alive for that call; `wav` holds
    // `count` samples for the duration of this callback.
    #[allow(unsafe_code)]
    unsafe {
        let sink = (*events).user_data.cast::<Sink>();
        if let Some(sink) = sink.as_mut() {
            sink.samples.extend_from_slice(std::slice::from_raw_parts(wav, count as usize));
        }
    }
    0
}

#[allow(unsafe_code)]
impl Espeak {
    fn init() -> Result<Self, EspeakError> {
        // SAFETY: called once, under OnceLock; a NULL path means the packaged data directory.
        // DONT_EXIT keeps espeak from calling exit() when its data is missing.
        let rate = unsafe {
            sys::espeak_Initialize(
                sys::espeak_AUDIO_OUTPUT_AUDIO_OUTPUT_SYNCHRONOUS,
                0,
                ptr::null(),
                sys::espeakINITIALIZE_DONT_EXIT as c_int,
            )
        };
        if rate <= 0 {
            return Err(EspeakError::Init(format!("espeak_Initialize returned {rate}")));
        }
        // SAFETY: initialized above; the callback matches t_espeak_callback.
        unsafe { sys::espeak_SetSynthCallback(Some(on_samples)) };
        let voices = Self::list_voices();
        tracing::debug!(voices = voices.len(), sample_rate = rate, "espeak-ng ready");
        Ok(Self { sample_rate: rate as u32, voices })
    }

    fn list_voices() -> Vec<EspeakVoice> {
        let mut out = Vec::new();
        // SAFETY: espeak_ListVoices returns a NULL-terminated array of voice pointers owned by
        // the library, valid until the next call; each string is NUL-terminated; `languages`
        // is a sequence of (priority byte, NUL-terminated tag) ending with a zero byte.
        unsafe {
            let list = sys::espeak_ListVoices(ptr::null_mut());
            if list.is_null() {
                return out;
            }
            let mut i = 0;
            while !(*list.add(i)).is_null() {
                let v = &**list.add(i);
                i += 1;
                let text = |p: *const c_char| {
                    if p.is_null() { String::new() } else { CStr::from_ptr(p).to_string_lossy().into_owned() }
                };
                let file = text(v.identifier);
                // MBROLA voices need a separate synthesizer that Debian does not install with espeak-ng.
                if file.starts_with("mb/") {
                    continue;
                }
                let mut languages = Vec::new();
                let mut p = v.languages;
                while !p.is_null() && *p != 0 {
                    let tag = CStr::from_ptr(p.add(1));
                    languages.push(tag.to_string_lossy().into_owned());
                    p = p.add(1 + tag.to_bytes().len() + 1);
                }
                let Some(language) = languages.first().cloned() else { continue };
                let gender = match v.gender {
                    1 => "male",
                    2 => "female",
                    _ => "",
                };
                out.push(EspeakVoice {
                    language,
                    languages,
                    name: text(v.name).replace('_', " "),
                    gender: gender.into(),
                    file,
                });
            }
        }
        out.sort_by(|a, b| a.language.cmp(&b.language));
        out
    }

    pub fn voices(&self) -> &[EspeakVoice] {
        &self.voices
    }

    /// Selects a voice by its language tag ("vi", "en-us").
    pub fn set_voice(&mut self, language: &str) -> Result<(), EspeakError> {
        if !self.voices.iter().any(|v| v.language.eq_ignore_ascii_case(language)) {
            return Err(EspeakError::UnknownVoice(language.into()));
        }
        let name = CString::new(language).map_err(|_| EspeakError::Nul)?;
        // SAFETY: initialized; `name` outlives the call.
        let rc = unsafe { sys::espeak_SetVoiceByName(name.as_ptr()) };
        if rc != sys::espeak_ERROR_EE_OK {
            return Err(EspeakError::UnknownVoice(language.into()));
        }
        Ok(())
    }

    /// Rate in words per minute (80..450) and pitch (0..100, 50 normal).
    pub fn set_prosody(&mut self, words_per_minute: i32, pitch: i32) {
        // SAFETY: initialized; plain integer parameters.
        unsafe {
            sys::espeak_SetParameter(sys::espeak_PARAMETER_espeakRATE, words_per_minute.clamp(80, 450), 0);
            sys::espeak_SetParameter(sys::espeak_PARAMETER_espeakPITCH, pitch.clamp(0, 100), 0);
        }
    }

    /// 16-bit mono samples at `sample_rate` for the text, in the selected voice. Markup is not
    /// interpreted: "<" is text.
    pub fn synthesize(&mut self, text: &str) -> Result<Vec<i16>, EspeakError> {
        let c = CString::new(text).map_err(|_| EspeakError::Nul)?;
        let mut sink = Sink { samples: Vec::new() };
        // SAFETY: synchronous mode: espeak_Synth calls `on_samples` before it returns, so the
        // `sink` pointer it passes back as user_data is valid for every callback.
        let rc = unsafe {
            sys::espeak_Synth(
                c.as_ptr().cast::<c_void>(),
                c.as_bytes().len() + 1,
                0,
                sys::espeak_POSITION_TYPE_POS_CHARACTER,
                0,
                sys::espeakCHARS_UTF8,
                ptr::null_mut(),
                (&raw mut sink).cast::<c_void>(),
            )
        };
        if rc != sys::espeak_ERROR_EE_OK {
            return Err(EspeakError::Failed(format!("espeak_Synth returned {rc}")));
        }
        Ok(sink.samples)
    }

    /// IPA for the text, one entry per clause as espeak splits it, with the byte range of the
    /// text each clause covered (so the caller can see its punctuation).
    pub fn clauses_ipa(&mut self, text: &str) -> Result<Vec<(String, std::ops::Range<usize>)>, EspeakError> {
        let c = CString::new(text).map_err(|_| EspeakError::Nul)?;
        let start = c.as_ptr();
        let end = c.as_bytes().len();
        let mut cursor: *const c_void = start.cast();
        let mut out = Vec::new();
        // SAFETY: espeak_TextToPhonemes reads one clause from `cursor`, advances it within the
        // buffer `c` (alive for the loop) or sets it to NULL at the end, and returns a
        // NUL-terminated string it owns until the next call, which we copy at once.
        unsafe {
            while !cursor.is_null() {
                let before = (cursor as usize).saturating_sub(start as usize);
                let ipa = sys::espeak_TextToPhonemes(
                    &mut cursor,
                    sys::espeakCHARS_UTF8 as c_int,
                    sys::espeakPHONEMES_IPA as c_int,
                );
                let after =
                    if cursor.is_null() { end } else { ((cursor as usize).saturating_sub(start as usize)).min(end) };
                let ipa =
                    if ipa.is_null() { String::new() } else { CStr::from_ptr(ipa).to_string_lossy().into_owned() };
                out.push((ipa, before.min(end)..after.max(before.min(end))));
                if after >= end {
                    break;
                }
            }
        }
        Ok(out)
    }
}
