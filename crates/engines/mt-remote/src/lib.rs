//! Translation by remote providers, behind the same `Translator` trait as the local model:
//! an OpenAI-compatible chat endpoint (same prompt and clean-up as the local model) and DeepL.
//! HTTP failures map onto the error table: 429 is `rate_limited`, 5xx and refused connections
//! `engine_unavailable` (retryable), timeouts `timeout`.

mod deepl;
mod http;
mod openai;

pub use deepl::DeeplTranslator;
pub use openai::OpenAiChatTranslator;
