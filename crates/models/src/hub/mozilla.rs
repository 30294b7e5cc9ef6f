//! Firefox Translations models from Mozilla's Remote Settings: the `translations-models-v2`
//! collection lists one record per file (model, vocabulary, shortlist) of each direction, with
//! a zstd attachment and the sha256 of the decompressed file. Parsing, version choice and
//! decompression are `fxtranslate`'s own (`remote`, `cache`); the transfer and the install are here.
use super::{client, get, join};
use crate::{
    fetch::{FetchError, sha256_hex, verify, write_atomic},
    marian::{MODEL, Pair, SHORTLIST, SRC_VOCAB, TRG_VOCAB, VOCAB, pair_dir},
};
use fxtranslate::{
    cache::verify_and_decompress,
    remote::{Record, parse_records, pick},
};
use std::{
    fs,
    io::Write,
    path::{Path, PathBuf},
};

/// Mozilla's Remote Settings server.
pub const DEFAULT_SERVER: &str = "https://firefox.settings.services.mozilla.com";
const RECORDS: &str = "v1/buckets/main/collections/translations-models-v2/records";

/// The files of a direction: (record file type, installed name, required).
const FILES: &[(&str, &str, bool)] = &[
    ("model", MODEL, true),
    ("lex", SHORTLIST, false),
    ("vocab", VOCAB, false),
    ("srcvocab", SRC_VOCAB, false),
    ("trgvocab", TRG_VOCAB, false),
];

/// Downloads the direction into `<dir>/marian/<source>-<target>/` and returns that directory; a
/// no-op when it is already installed.
pub fn fetch_pair(
    server: &str,
    dir: &Path,
    pair: &Pair,
    progress: &mut dyn FnMut(crate::Progress),
) -> Result<PathBuf, FetchError> {
    let id = pair.id();
    let out = pair_dir(dir, pair);
    if out.join(MODEL).is_file() {
        return Ok(out);
    }
    let root = out.parent().unwrap_or(dir).to_path_buf();
    let client = client()?;
    progress(crate::Progress::Step(format!("looking up {id} on {server}")));
    let base_url = attachments_base(&client, server)?;
    let records_url = join(server, RECORDS);
    let body = get(&client, &records_url)?;
    let records = parse_records(&String::from_utf8_lossy(&body))
        .map_err(|detail| FetchError::Hub { url: records_url.clone(), detail })?;
    let chosen =
        choose(&records, &pair.source, &pair.target).map_err(|detail| FetchError::Hub { url: records_url, detail })?;

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
            verify(format!("marian-{id} ({file})"), want, sha256_hex(&data))?;
            let path = partial.join(file);
            write_atomic(&path, |w| {
                w.write_all(&data).map_err(|source| FetchError::Io { path: path.clone(), source })
            })?;
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
                let list: Vec<String> =
                    fxtranslate::remote::pairs(records).iter().map(|(s, t)| format!("{s}-{t}")).collect();
                return Err(format!("no model for {source}-{target}; the hub has: {}", list.join(", ")));
            }
            None => {}
        }
    }
    let has = |f: &str| out.iter().any(|(_, name)| *name == f);
    let vocabularies = has(VOCAB) || (has(SRC_VOCAB) && has(TRG_VOCAB));
    if !vocabularies {
        return Err(format!("the hub lists no vocabulary for {source}-{target}"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hub::test_server::{Server, zstd_frame};

    /// (direction, file type, contents) served by the test hub.
    const SERVED: &[(&str, &str, &[u8])] = &[
        ("en-vi", "model", b"model v3.1"),
        ("en-vi", "vocab", b"vocab"),
        ("en-vi", "lex", b"shortlist"),
        // A CJK direction: a vocabulary per side, no shortlist.
        ("ja-en", "model", b"ja model"),
        ("ja-en", "srcvocab", b"ja vocab"),
        ("ja-en", "trgvocab", b"en vocab"),
    ];

    /// A hub serving `SERVED` (the en→vi shortlist tampered when `corrupt_lex`), plus an older
    /// en→vi model that must not be chosen.
    fn hub(corrupt_lex: bool) -> Server {
        let mut records = Vec::new();
        let mut routes = Vec::new();
        for (pair, kind, data) in SERVED {
            let (src, trg) = pair.split_once('-').unwrap_or_default();
            let location = format!("main/{kind}-{pair}.zst");
            let served = if corrupt_lex && *kind == "lex" { zstd_frame(b"tampered") } else { zstd_frame(data) };
            routes.push((format!("/attachments/{location}"), served));
            records.push(serde_json::json!({
                "name": format!("{kind}.{pair}"), "fileType": kind, "sourceLanguage": src, "targetLanguage": trg,
                "version": "3.1", "decompressedHash": sha256_hex(data), "attachment": {"location": location},
            }));
        }
        records.push(serde_json::json!({
            "name": "model.envi", "fileType": "model", "sourceLanguage": "en", "targetLanguage": "vi",
            "version": "3.0", "decompressedHash": sha256_hex(b"old"), "attachment": {"location": "main/old.zst"},
        }));
        let mut server = Server::start(routes);
        let base = format!("{}/attachments/", server.url());
        let json = |v: serde_json::Value| serde_json::to_vec(&v).unwrap_or_default();
        server.add("/v1/", json(serde_json::json!({"capabilities": {"attachments": {"base_url": base}}})));
        server.add(&format!("/{RECORDS}"), json(serde_json::json!({"data": records})));
        server
    }

    fn installed_name(kind: &str) -> &'static str {
        FILES.iter().find(|f| f.0 == kind).map(|f| f.1).unwrap_or_default()
    }

    #[test]
    fn downloads_verifies_and_installs_directions() {
        let server = hub(false);
        let dir = tempfile::tempdir().expect("tempdir");
        for pair in ["en-vi", "ja-en"] {
            let direction = Pair::parse(pair).expect("a direction");
            let out = fetch_pair(&server.url(), dir.path(), &direction, &mut |_| {}).expect("fetch");
            assert_eq!(out, dir.path().join("marian").join(pair));
            for (_, kind, data) in SERVED.iter().filter(|(p, _, _)| *p == pair) {
                assert_eq!(&fs::read(out.join(installed_name(kind))).expect("installed"), data, "{pair} {kind}");
            }
        }
        // Both directions are what the engine's layout finds, each with its vocabularies.
        let found = crate::marian::installed(dir.path());
        let ids: Vec<String> = found.iter().map(|f| f.pair.id()).collect();
        assert_eq!(ids, ["en-vi", "ja-en"]);
        assert!(found[0].shortlist.is_some() && found[1].src_vocab != found[1].trg_vocab);
        // Installed: a second fetch asks the hub nothing.
        let asked = server.requests();
        fetch_pair(&server.url(), dir.path(), &Pair::new("en", "vi"), &mut |_| {}).expect("second fetch");
        assert_eq!(server.requests(), asked);
    }

    #[test]
    fn a_corrupted_file_installs_nothing() {
        let server = hub(true);
        let dir = tempfile::tempdir().expect("tempdir");
        let err = fetch_pair(&server.url(), dir.path(), &Pair::new("en", "vi"), &mut |_| {}).expect_err("must refuse");
        assert!(matches!(err, FetchError::Checksum { .. }), "{err}");
        let left: Vec<_> = fs::read_dir(dir.path().join("marian")).expect("dir").flatten().collect();
        assert!(left.is_empty(), "left behind: {left:?}");
    }

    #[test]
    fn an_unknown_direction_lists_what_the_hub_has() {
        let server = hub(false);
        let dir = tempfile::tempdir().expect("tempdir");
        let err = fetch_pair(&server.url(), dir.path(), &Pair::new("en", "xx"), &mut |_| {}).expect_err("no such pair");
        assert!(err.to_string().contains("the hub has: en-vi, ja-en"), "{err}");
    }
}
