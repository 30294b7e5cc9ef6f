//! Multipart uploads: the audio file and the text fields beside it.
use crate::error::ApiError;
use axum::extract::{
    Multipart,
    multipart::{MultipartError, MultipartRejection},
};
use sokuji_admission::Admission;
use sokuji_core::{
    Audio, ErrorCode,
    auth::{Meter, meter_audio},
};
use std::collections::HashMap;

/// A parsed multipart form: one file and any number of text fields (repeated ones collected).
#[derive(Default)]
pub struct Form {
    pub file: Option<(Vec<u8>, Option<String>)>,
    pub fields: HashMap<String, Vec<String>>,
}

impl Form {
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields.get(name).and_then(|v| v.first()).map(|s| s.trim()).filter(|s| !s.is_empty())
    }
}

fn multipart_error(e: MultipartError) -> ApiError {
    if e.status().as_u16() == 413 {
        ApiError::new(ErrorCode::UploadTooLarge, format!("upload exceeds the size limit: {}", e.body_text()))
    } else {
        ApiError::new(ErrorCode::InvalidRequest, format!("malformed multipart body: {}", e.body_text()))
    }
}

/// Reads a form whose file field is named one of `file_fields`; a body that is not multipart
/// at all is an `invalid_request`.
pub async fn read(mp: Result<Multipart, MultipartRejection>, file_fields: &[&str]) -> Result<Form, ApiError> {
    let mut mp = mp.map_err(|e| {
        ApiError::new(ErrorCode::InvalidRequest, format!("expected a multipart/form-data body: {}", e.body_text()))
    })?;
    let mut form = Form::default();
    while let Some(field) = mp.next_field().await.map_err(multipart_error)? {
        let name = field.name().unwrap_or_default().to_string();
        if file_fields.contains(&name.as_str()) {
            let ext = field
                .file_name()
                .and_then(|f| std::path::Path::new(f).extension())
                .and_then(|e| e.to_str())
                .map(str::to_ascii_lowercase);
            let bytes = field.bytes().await.map_err(multipart_error)?;
            form.file = Some((bytes.to_vec(), ext));
        } else {
            let text = field.text().await.map_err(multipart_error)?;
            form.fields.entry(name).or_default().push(text);
        }
    }
    Ok(form)
}

/// Decodes (and resamples) the uploaded file off the async runtime (a client that leaves
/// before a CPU is free costs nothing), and meters its seconds before they are transcribed.
pub async fn decode(cpu: &Admission, meter: Option<&Meter>, form: &mut Form, field: &str) -> Result<Audio, ApiError> {
    let (bytes, ext) = form
        .file
        .take()
        .ok_or_else(|| ApiError::new(ErrorCode::InvalidRequest, format!("the form has no `{field}` file field")))?;
    let audio = cpu.run(None, move |_| sokuji_audio::decode_bytes(bytes, ext.as_deref())).await.map_err(ApiError)?;
    meter_audio(meter, audio.duration_secs()).await?;
    Ok(audio)
}
