//! `TextNormalizer` over gRPC.
use crate::remote::Guarded;
use sokuji_core::{NormalizeMode, Result, TextNormalizer};
use sokuji_proto::{
    convert::error_from_status,
    text::{Mode, NormalizeRequest, ToneStyle, text_service_client::TextServiceClient},
};
use std::time::Duration;

#[derive(Clone)]
pub struct RemoteText {
    client: TextServiceClient<Guarded>,
}

impl RemoteText {
    /// Every call gets `deadline`; see `remote::channel`.
    pub fn connect_lazy(url: &str, deadline: Duration) -> Result<Self> {
        Ok(Self { client: TextServiceClient::new(crate::remote::channel(url, "text service", deadline)?) })
    }
}

#[async_trait::async_trait]
impl TextNormalizer for RemoteText {
    async fn normalize(
        &self,
        texts: Vec<String>,
        mode: NormalizeMode,
        language: &str,
        modern: bool,
    ) -> Result<Vec<String>> {
        let mode = match mode {
            NormalizeMode::Itn => Mode::Itn,
            NormalizeMode::Tn => Mode::Tn,
            NormalizeMode::Tone => Mode::Tone,
        };
        let style = if modern { ToneStyle::Modern } else { ToneStyle::Classic };
        let req = NormalizeRequest { texts, mode: mode as i32, language: language.into(), tone_style: style as i32 };
        let res = crate::remote::idempotent(|| {
            let (mut c, r) = (self.client.clone(), req.clone());
            async move { c.normalize(r).await }
        })
        .await
        .map_err(|s| error_from_status(&s))?;
        Ok(res.into_inner().texts)
    }
}
