//! `SpeechToText` over gRPC: the gateway or pipeline holds this exactly as it would hold a
//! local engine.
use crate::remote::Guarded;
use sokuji_core::{Audio, Health, Result, SpeechToText, TranscribeOptions, Transcript};
use sokuji_proto::{
    common::{AudioChunk, Empty},
    convert::{error_from_status, options_to_request},
    stt::{TranscribeRequest, stt_service_client::SttServiceClient},
};
use std::time::Duration;

#[derive(Clone)]
pub struct RemoteStt {
    client: SttServiceClient<Guarded>,
    url: String,
}

impl RemoteStt {
    /// Connects lazily: the service may start after its caller.
    /// Every call gets `deadline`; see `remote::channel`.
    pub fn connect_lazy(url: &str, deadline: Duration) -> Result<Self> {
        let client = SttServiceClient::new(crate::remote::channel(url, "STT", deadline)?)
            .max_decoding_message_size(64 << 20)
            .max_encoding_message_size(1 << 30);
        Ok(Self { client, url: url.to_string() })
    }
}

#[async_trait::async_trait]
impl SpeechToText for RemoteStt {
    async fn transcribe(&self, audio: Audio, options: TranscribeOptions) -> Result<Transcript> {
        let data: Vec<u8> = audio.samples().iter().flat_map(|s| s.to_le_bytes()).collect();
        let req = TranscribeRequest {
            audio: Some(AudioChunk {
                data,
                sample_rate: sokuji_core::SAMPLE_RATE as i32,
                timestamp: 0.0,
                channels: 1,
                format: "float32".into(),
                language: None,
                task: None,
                interim_results: None,
            }),
            language: options.language.clone(),
            options: Some(options_to_request(&options)),
        };
        let res = crate::remote::idempotent(|| {
            let (mut c, r) = (self.client.clone(), req.clone());
            async move { c.transcribe(r).await }
        })
        .await
        .map_err(|s| error_from_status(&s))?;
        let mut t: Transcript = res.into_inner().into();
        t.duration = audio.duration_secs();
        Ok(t)
    }

    async fn languages(&self) -> Result<Vec<String>> {
        let res = self.client.clone().get_supported_languages(Empty {}).await.map_err(|s| error_from_status(&s))?;
        Ok(res.into_inner().language_codes)
    }

    async fn health(&self) -> Health {
        crate::remote::health(self.client.clone().health_check(Empty {}).await, &self.url)
    }
}
