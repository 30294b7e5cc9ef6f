//! `Translator` over gRPC.
use crate::remote::Guarded;
use sokuji_core::{Error, ErrorCode, Health, Partial, Result, TranslateRequest, Translation, Translator};
use sokuji_proto::{
    common::Empty,
    convert::error_from_status,
    translation::{TranslateBatchRequest, translation_service_client::TranslationServiceClient},
};
use std::time::Duration;

#[derive(Clone)]
pub struct RemoteTranslator {
    client: TranslationServiceClient<Guarded>,
    url: String,
}

impl RemoteTranslator {
    /// Every call gets `deadline`; see `remote::channel`.
    pub fn connect_lazy(url: &str, deadline: Duration) -> Result<Self> {
        let client = TranslationServiceClient::new(crate::remote::channel(url, "translation service", deadline)?);
        Ok(Self { client, url: url.into() })
    }
}

#[async_trait::async_trait]
impl Translator for RemoteTranslator {
    async fn translate(&self, request: TranslateRequest) -> Result<Translation> {
        let req = sokuji_proto::translation::TranslateRequest::from(&request);
        let res = crate::remote::idempotent(|| {
            let (mut c, r) = (self.client.clone(), req.clone());
            async move { c.translate(r).await }
        })
        .await;
        Ok(res.map_err(|s| error_from_status(&s))?.into_inner().into())
    }

    /// One request on `TranslateStream` with partial results asked for: the remote engine's
    /// partials reach `partial` as they arrive.
    async fn translate_partial(&self, request: TranslateRequest, partial: Partial) -> Result<Translation> {
        let req = sokuji_proto::translation::TranslateRequest {
            partial_results: true,
            ..sokuji_proto::translation::TranslateRequest::from(&request)
        };
        let mut results = self
            .client
            .clone()
            .translate_stream(tokio_stream::once(req))
            .await
            .map_err(|s| error_from_status(&s))?
            .into_inner();
        while let Some(r) = results.message().await.map_err(|s| error_from_status(&s))? {
            if !r.partial {
                return Ok(r.into());
            }
            partial(&r.translated_text);
        }
        Err(Error::new(ErrorCode::EngineFailed, "the translation service ended the stream without a result"))
    }

    async fn prepare(&self, request: TranslateRequest) -> Result<()> {
        let req = sokuji_proto::translation::TranslateRequest::from(&request);
        self.client.clone().prepare(req).await.map_err(|s| error_from_status(&s))?;
        Ok(())
    }

    /// One call when the requests share languages and carry no context (what the wire batch
    /// can say); otherwise one call each.
    async fn translate_batch(&self, requests: Vec<TranslateRequest>) -> Result<Vec<Translation>> {
        let Some(first) = requests.first() else { return Ok(Vec::new()) };
        let uniform = requests.iter().all(|r| {
            r.source == first.source && r.target == first.target && r.keep == first.keep && r.context.is_none()
        });
        if !uniform {
            let mut out = Vec::with_capacity(requests.len());
            for r in requests {
                out.push(self.translate(r).await?);
            }
            return Ok(out);
        }
        let req = TranslateBatchRequest {
            source_language: first.source.clone(),
            target_language: first.target.clone(),
            do_not_translate: first.keep.clone(),
            texts: requests.into_iter().map(|r| r.text).collect(),
        };
        let res = crate::remote::idempotent(|| {
            let (mut c, r) = (self.client.clone(), req.clone());
            async move { c.translate_batch(r).await }
        })
        .await
        .map_err(|s| error_from_status(&s))?;
        Ok(res.into_inner().results.into_iter().map(Into::into).collect())
    }

    async fn languages(&self) -> Result<Vec<String>> {
        let res = self.client.clone().get_supported_languages(Empty {}).await.map_err(|s| error_from_status(&s))?;
        Ok(res.into_inner().language_codes)
    }

    async fn health(&self) -> Health {
        crate::remote::health(self.client.clone().health_check(Empty {}).await, &self.url)
    }
}
