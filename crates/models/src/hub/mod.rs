//! Downloads from the model hubs that publish what no package registry here ships: Mozilla's
//! Firefox Translations models (any language pair) and Piper's voices. Everything is verified
//! (the hub's own hashes) before anything is installed, and installed by rename, so a corrupted
//! or interrupted download leaves nothing half-installed behind.
//!
//! Only `sokuji models fetch` calls these, never the servers at run time.

pub mod mozilla;
pub mod piper;

use crate::fetch::FetchError;
use std::time::Duration;

/// The HTTP client for hub downloads: a bounded connect time, no total limit (models are large).
pub(crate) fn client() -> Result<reqwest::blocking::Client, FetchError> {
    reqwest::blocking::Client::builder()
        .connect_timeout(Duration::from_secs(20))
        .timeout(None)
        .user_agent(concat!("sokuji/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| FetchError::Hub { url: String::new(), detail: e.to_string() })
}

/// GET `url` into memory; any status but success is an error naming it.
pub(crate) fn get(client: &reqwest::blocking::Client, url: &str) -> Result<Vec<u8>, FetchError> {
    let err = |detail: String| FetchError::Hub { url: url.to_string(), detail };
    let res = client.get(url).send().map_err(|e| err(e.to_string()))?;
    if !res.status().is_success() {
        return Err(err(format!("HTTP {}", res.status())));
    }
    res.bytes().map(|b| b.to_vec()).map_err(|e| err(e.to_string()))
}

/// `base` and `path` joined with exactly one slash.
pub(crate) fn join(base: &str, path: &str) -> String {
    format!("{}/{}", base.trim_end_matches('/'), path.trim_start_matches('/'))
}

#[cfg(test)]
pub(crate) mod test_server;
