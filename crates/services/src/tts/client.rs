//! `Synthesizer` over gRPC. Audio travels as 16-bit PCM (no container to parse) and comes back
//! as f32 samples.
use crate::remote::Guarded;
use sokuji_audio::encode::pcm_s16le_to_f32;
use sokuji_core::{Error, ErrorCode, Health, Result, Speech, SynthesizeRequest, Synthesizer, Voice};
use sokuji_proto::{common::Empty, convert::error_from_status, tts::tts_service_client::TtsServiceClient};
use std::time::Duration;

#[derive(Clone)]
pub struct RemoteTts {
    client: TtsServiceClient<Guarded>,
    url: String,
}

impl RemoteTts {
    /// Every call gets `deadline`; see `remote::channel`.
    pub fn connect_lazy(url: &str, deadline: Duration) -> Result<Self> {
        let client = TtsServiceClient::new(crate::remote::channel(url, "TTS service", deadline)?)
            .max_decoding_message_size(256 << 20);
        Ok(Self { client, url: url.into() })
    }
}

#[async_trait::async_trait]
impl Synthesizer for RemoteTts {
    async fn synthesize(&self, request: SynthesizeRequest) -> Result<Speech> {
        let mut req = sokuji_proto::tts::SynthesizeRequest::from(&request);
        req.parameters.insert("format".into(), "pcm".into());
        let r = crate::remote::idempotent(|| {
            let (mut c, r) = (self.client.clone(), req.clone());
            async move { c.synthesize(r).await }
        })
        .await
        .map_err(|s| error_from_status(&s))?
        .into_inner();
        if r.format != "pcm" {
            return Err(Error::new(ErrorCode::EngineFailed, format!("TTS service sent {:?}, asked for pcm", r.format)));
        }
        Ok(Speech {
            samples: pcm_s16le_to_f32(&r.audio_data),
            sample_rate: r.sample_rate.max(0) as u32,
            voice: r.voice_id,
        })
    }

    async fn voices(&self) -> Result<Vec<Voice>> {
        let r = self.client.clone().get_voices(Empty {}).await.map_err(|s| error_from_status(&s))?;
        Ok(r.into_inner().voices.into_iter().map(Into::into).collect())
    }

    async fn health(&self) -> Health {
        crate::remote::health(self.client.clone().health_check(Empty {}).await, &self.url)
    }
}
