//! Firefox Translations models from Mozilla's Remote Settings: the `translations-models-v2`
//! collection lists one record per file (model, vocabulary, shortlist) of each direction, with
//! a zstd attachment and the sha256 of the decompressed file. Parsing, version choice and
//! decompression are `fxtranslate`'s own (`remote`, `cache`); the transfer and the install are here.
use super::{client, get, join};
use crate::fetch::FetchError;
use fxtranslate::{
    cache::verify_and_decompress,
    remote::{Record, parse_records, pick},
};
use sha2::{Digest, Sha256};
use std::{
    fs,
    path::{Path, PathBuf},
};

/// Mozilla's Remote Settings server.
pub const DEFAULT_SERVER: &str = "https://firefox.settings.services.mozilla.com";
const RECORDS: &str = "v1/buckets/main/collections/translations-models-v2/records";

/// The files of a direction: (record file type, installed name, required).
const FILES: &[(&str, &str, bool)] = &[
    ("model", "model.bin", true),
    ("lex", "lex.bin", false),
    ("vocab", "vocab.spm", false),
    ("srcvocab", "srcvocab.spm", false),
    ("trgvocab", "trgvocab.spm", false),
];

/// Downloads `source`→`target` into `<dir>/marian/<source>-<target>/` and returns that
/// directory; a no-op when the direction is already installed.
pub fn fetch_pair(
    server: &str,
    dir: &Path,
    source: &str,
    target: &str,
    progress: &mut dyn FnMut(crate::Progress),
) -> Result<PathBuf, FetchError> {
    let id = format!("{source}-{target}");
    let root = dir.join("marian");
    let out = root.join(&id);
    if out.join("model.bin").is_file() {
        return Ok(out);
    }
    let client = client()?;
    progress(crate::Progress::Step(format!("looking up {id} on {server}")));
    let base_url = attachments_base(&client, server)?;
    let records_url = join(server, RECORDS);
    let body = get(&client, &records_url)?;
    let records = parse_records(&String::from_utf8_lossy(&body))
        .map_err(|detail| FetchError::Hub { url: records_url.clone(), detail })?;
    let chosen = choose(&records, source, target).map_err(|detail| FetchError::Hub { url: records_url, detail })?;

    // Everything is fetched and verified into a scratch directory, renamed into place at the end.
    let partial = root.join(format!(".{id}.partial"));
    let _ = fs::remove_dir_all(&partial);
    fs::create_dir_all(&partial).map_err(|source| FetchError::Io { path: partial.clone(), source })?;
    let result = (|| {
        for (record, file) in &chosen {
            let url = join(&base_url, &record.location);
            progress(crate::Progress::Step(format!("downloading {id} {file}")));
            let compressed = get(&client, &url)?;
            let want = record.decompressed_hash.as_deref().ok_or_else(|| FetchError::Hub {
                url: url.clone(),
                detail: "the record carries no hash; refusing an unverifiable file".into(),
            })?;
            let data = verify_and_decompress(&compressed, None)
                .map_err(|detail| FetchError::Hub { url: url.clone(), detail })?;
            let got = crate::fetch::hex(&Sha256::digest(&data));
            if got != want {
                let model = format!("marian-{id} ({file})");
                return Err(FetchError::Checksum { model, want: want.to_string(), got });
            }
            let path = partial.join(file);
            fs::write(&path, data).map_err(|source| FetchError::Io { path, source })?;
        }
        let _ = fs::remove_dir_all(&out);
        fs::rename(&partial, &out).map_err(|source| FetchError::Io { path: out.clone(), source })
    })();
    if result.is_err() {
        let _ = fs::remove_dir_all(&partial);
    }
    result?;
    progress(crate::Progress::Ready(out.clone()));
    Ok(out)
}

/// The attachments' base URL, as the server announces it (`GET /v1/`).
fn attachments_base(client: &reqwest::blocking::Client, server: &str) -> Result<String, FetchError> {
    let url = join(server, "v1/");
    let body = get(client, &url)?;
    let v: serde_json::Value = serde_json::from_slice(&body)
        .map_err(|e| FetchError::Hub { url: url.clone(), detail: format!("not JSON: {e}") })?;
    v.pointer("/capabilities/attachments/base_url")
        .and_then(|b| b.as_str())
        .map(str::to_string)
        .ok_or_else(|| FetchError::Hub { url, detail: "no capabilities.attachments.base_url".into() })
}

/// The latest supported record of each file the direction needs, with its installed name.
fn choose<'a>(records: &'a [Record], source: &str, target: &str) -> Result<Vec<(&'a Record, &'static str)>, String> {
    let mut out = Vec::new();
    for (kind, file, required) in FILES {
        match pick(records, kind, source, target) {
            Some(r) => out.push((r, *file)),
            None if *required => {
                let mut pairs = fxtranslate::remote::pairs(records);
                pairs.dedup();
                let list: Vec<String> = pairs.iter().map(|(s, t)| format!("{s}-{t}")).collect();
                return Err(format!("no model for {source}-{target}; the hub has: {}", list.join(", ")));
            }
            None => {}
        }
    }
    let has = |f: &str| out.iter().any(|(_, name)| *name == f);
    let vocabularies = has("vocab.spm") || (has("srcvocab.spm") && has("trgvocab.spm"));
    if !vocabularies {
        return Err(format!("the hub lists no vocabulary for {source}-{target}"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hub::test_server::{Server, zstd_frame};

    fn hex(b: &[u8]) -> String {
        crate::fetch::hex(&Sha256::digest(b))
    }

    /// A hub with en→vi (model, vocab, lex) in two versions, and ja→en with split vocabularies.
    fn hub(corrupt_lex: bool) -> (Server, Vec<(&'static str, Vec<u8>)>) {
        let files: Vec<(&str, Vec<u8>)> =
            vec![("model", b"model v3.1".to_vec()), ("vocab", b"vocab".to_vec()), ("lex", b"shortlist".to_vec())];
        let mut records = Vec::new();
        let mut routes = Vec::new();
        for (kind, data) in &files {
            let location = format!("main/{kind}-envi.zst");
            let mut served = zstd_frame(data);
            if corrupt_lex && *kind == "lex" {
                served = zstd_frame(b"tampered");
            }
            routes.push((format!("/attachments/{location}"), served));
            records.push(serde_json::json!({
                "name": format!("{kind}.envi"), "fileType": kind, "sourceLanguage": "en", "targetLanguage": "vi",
                "version": "3.1", "decompressedHash": hex(data), "attachment": {"location": location},
            }));
        }
        // An older version of the model, which must not be chosen.
        records.push(serde_json::json!({
            "name": "model.envi", "fileType": "model", "sourceLanguage": "en", "targetLanguage": "vi",
            "version": "3.0", "decompressedHash": hex(b"old"), "attachment": {"location": "main/old.zst"},
        }));
        let mut server = Server::start(routes);
        let base = format!("{}/attachments/", server.url());
        server.add(
            "/v1/",
            serde_json::to_vec(&serde_json::json!({"capabilities": {"attachments": {"base_url": base}}}))
                .unwrap_or_default(),
        );
        server
            .add(&format!("/{RECORDS}"), serde_json::to_vec(&serde_json::json!({"data": records})).unwrap_or_default());
        (server, files)
    }

    #[test]
    fn downloads_verifies_and_installs_a_direction() {
        let (server, files) = hub(false);
        let dir = tempfile::tempdir().expect("tempdir");
        let out = fetch_pair(&server.url(), dir.path(), "en", "vi", &mut |_| {}).expect("fetch");
        assert_eq!(out, dir.path().join("marian/en-vi"));
        for (kind, data) in &files {
            let name = FILES.iter().find(|f| f.0 == *kind).map(|f| f.1).unwrap_or_default();
            assert_eq!(&fs::read(out.join(name)).expect("installed"), data, "{kind}");
        }
        // Installed: a second fetch asks the hub nothing.
        let asked = server.requests();
        fetch_pair(&server.url(), dir.path(), "en", "vi", &mut |_| {}).expect("second fetch");
        assert_eq!(server.requests(), asked);
    }

    #[test]
    fn a_corrupted_file_installs_nothing() {
        let (server, _) = hub(true);
        let dir = tempfile::tempdir().expect("tempdir");
        let err = fetch_pair(&server.url(), dir.path(), "en", "vi", &mut |_| {}).expect_err("must refuse");
        assert!(matches!(err, FetchError::Checksum { .. }), "{err}");
        let left: Vec<_> = fs::read_dir(dir.path().join("marian")).expect("dir").flatten().collect();
        assert!(left.is_empty(), "left behind: {left:?}");
    }

    #[test]
    fn an_unknown_direction_lists_what_the_hub_has() {
        let (server, _) = hub(false);
        let dir = tempfile::tempdir().expect("tempdir");
        let err = fetch_pair(&server.url(), dir.path(), "en", "xx", &mut |_| {}).expect_err("no such pair");
        assert!(err.to_string().contains("the hub has: en-vi"), "{err}");
    }
}
