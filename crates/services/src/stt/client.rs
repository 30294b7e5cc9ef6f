//! `SpeechToText` over gRPC: the gateway or pipeline holds this exactly as it would hold a
//! local engine.
use sokuji_core::{Audio, Error, ErrorCode, Health, Result, SpeechToText, TranscribeOptions, Transcript};
use sokuji_proto::{
    common::{AudioChunk, Empty},
    convert::{error_from_status, options_to_request},
    stt::{TranscribeRequest, stt_service_client::SttServiceClient},
};
use tonic::transport::{Channel, Endpoint};

#[derive(Clone)]
pub struct RemoteStt {
    client: SttServiceClient<Channel>,
    url: String,
}

impl RemoteStt {
    /// Connects lazily: the service may start after its caller.
    pub fn connect_lazy(url: &str) -> Result<Self> {
        let endpoint = Endpoint::from_shared(url.to_string())
            .map_err(|e| Error::invalid_request(format!("bad STT url {url:?}: {e}")))?
            .connect_timeout(std::time::Duration::from_secs(5))
            .tcp_nodelay(true);
        let client = SttServiceClient::new(endpoint.connect_lazy())
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
            }),
            language: options.language.clone(),
            options: Some(options_to_request(&options)),
        };
        let res = self.client.clone().transcribe(req).await.map_err(|s| error_from_status(&s))?;
        let mut t: Transcript = res.into_inner().into();
        t.duration = audio.duration_secs();
        Ok(t)
    }

    async fn languages(&self) -> Result<Vec<String>> {
        let res = self.client.clone().get_supported_languages(Empty {}).await.map_err(|s| error_from_status(&s))?;
        Ok(res.into_inner().language_codes)
    }

    async fn health(&self) -> Health {
        match self.client.clone().health_check(Empty {}).await {
            Ok(r) => {
                let r = r.into_inner();
                Health {
                    healthy: r.healthy,
                    status: r.status,
                    provider: r.provider_name,
                    details: r.details.into_iter().collect(),
                }
            }
            Err(s) => {
                let e = error_from_status(&s);
                let mut details = std::collections::BTreeMap::new();
                details.insert("url".into(), self.url.clone());
                details.insert("error".into(), e.to_string());
                let status = if e.code == ErrorCode::EngineUnavailable { "unreachable" } else { "error" };
                Health { healthy: false, status: status.into(), provider: "grpc".into(), details }
            }
        }
    }
}
