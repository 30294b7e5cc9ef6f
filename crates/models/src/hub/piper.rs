//! Piper voices from their published repository: `voices.json` lists every voice with its files,
//! their sizes and md5 digests; a voice is its `.onnx` model and `.onnx.json` config.
use super::{client, get, join};
use crate::fetch::{FetchError, verify, write_atomic};
use md5::{Digest, Md5};
use std::{
    fs,
    io::Write,
    path::{Path, PathBuf},
};

/// Piper's voice repository (Hugging Face `rhasspy/piper-voices`).
pub const DEFAULT_HUB: &str = "https://huggingface.co/rhasspy/piper-voices/resolve/main";

/// Where hub voices are installed; the servers load every voice found there.
pub fn voices_dir(dir: &Path) -> PathBuf {
    dir.join("piper")
}

/// The voices downloaded into `<dir>/piper/`: their `.onnx` models, sorted.
pub fn installed(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(voices_dir(dir)) else {
        return Vec::new();
    };
    let mut found: Vec<PathBuf> =
        entries.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "onnx")).collect();
    found.sort();
    found
}

/// Downloads the voice `key` (e.g. `vi_VN-vais1000-medium`) into `<dir>/piper/` and returns
/// the path of its model; a no-op when it is already there.
pub fn fetch_voice(
    hub: &str,
    dir: &Path,
    key: &str,
    progress: &mut dyn FnMut(crate::Progress),
) -> Result<PathBuf, FetchError> {
    let out_dir = voices_dir(dir);
    let model = out_dir.join(format!("{key}.onnx"));
    let config = out_dir.join(format!("{key}.onnx.json"));
    if model.is_file() && config.is_file() {
        return Ok(model);
    }
    let client = client()?;
    progress(crate::Progress::Step(format!("looking up voice {key} on {hub}")));
    let index_url = join(hub, "voices.json");
    let index: serde_json::Value = serde_json::from_slice(&get(&client, &index_url)?)
        .map_err(|e| FetchError::Hub { url: index_url.clone(), detail: format!("not JSON: {e}") })?;
    let Some(files) = index.get(key).and_then(|v| v.get("files")).and_then(|f| f.as_object()) else {
        let mut known: Vec<&str> =
            index.as_object().map(|o| o.keys().map(String::as_str).collect()).unwrap_or_default();
        known.retain(|k| k.starts_with(key.split('-').next().unwrap_or(key)));
        let hint =
            if known.is_empty() { String::new() } else { format!("; voices of that language: {}", known.join(", ")) };
        return Err(FetchError::Hub { url: index_url, detail: format!("no voice {key:?}{hint}") });
    };
    fs::create_dir_all(&out_dir).map_err(|source| FetchError::Io { path: out_dir.clone(), source })?;
    // The config first and the model last: a voice counts as installed once its model is there.
    let mut fetched = Vec::new();
    for (suffix, dest) in [(".onnx.json", &config), (".onnx", &model)] {
        let (path, meta) = files.iter().find(|(p, _)| p.ends_with(&format!("{key}{suffix}"))).ok_or_else(|| {
            FetchError::Hub { url: index_url.clone(), detail: format!("{key} lists no {suffix} file") }
        })?;
        let url = join(hub, path);
        progress(crate::Progress::Step(format!("downloading {path}")));
        let data = get(&client, &url)?;
        let want = meta.get("md5_digest").and_then(|m| m.as_str()).unwrap_or_default();
        let size = meta.get("size_bytes").and_then(|s| s.as_u64());
        if want.is_empty() || size.is_some_and(|s| s != data.len() as u64) {
            let detail = format!("{} bytes with no md5 digest or not the {size:?} listed", data.len());
            return Err(FetchError::Hub { url, detail });
        }
        verify(format!("voice {key} ({path}, md5)"), want, crate::fetch::hex(&Md5::digest(&data)))?;
        fetched.push((dest.to_path_buf(), data));
    }
    // Verified both before writing either; each file lands by rename.
    for (dest, data) in fetched {
        write_atomic(&dest, |w| w.write_all(&data).map_err(|source| FetchError::Io { path: dest.clone(), source }))?;
    }
    progress(crate::Progress::Ready(model.clone()));
    Ok(model)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hub::test_server::Server;

    fn hub(tamper: bool) -> Server {
        let model = b"onnx bytes".to_vec();
        let config = br#"{"audio":{"sample_rate":22050}}"#.to_vec();
        let md5 = |b: &[u8]| crate::fetch::hex(&Md5::digest(b));
        let index = serde_json::json!({
            "vi_VN-vais1000-medium": {"files": {
                "vi/vi_VN/vais1000/medium/vi_VN-vais1000-medium.onnx": {"size_bytes": model.len(), "md5_digest": md5(&model)},
                "vi/vi_VN/vais1000/medium/vi_VN-vais1000-medium.onnx.json": {"size_bytes": config.len(), "md5_digest": md5(&config)},
                "vi/vi_VN/vais1000/medium/MODEL_CARD": {"size_bytes": 1, "md5_digest": "x"}
            }},
            "vi_VN-25hours_single-low": {"files": {}}
        });
        let served = if tamper { b"onnx bytez".to_vec() } else { model };
        Server::start(vec![
            ("/voices.json".into(), serde_json::to_vec(&index).unwrap_or_default()),
            ("/vi/vi_VN/vais1000/medium/vi_VN-vais1000-medium.onnx".into(), served),
            ("/vi/vi_VN/vais1000/medium/vi_VN-vais1000-medium.onnx.json".into(), config),
        ])
    }

    #[test]
    fn downloads_a_voice_and_its_config() {
        let server = hub(false);
        let dir = tempfile::tempdir().expect("tempdir");
        let path = fetch_voice(&server.url(), dir.path(), "vi_VN-vais1000-medium", &mut |_| {}).expect("fetch");
        assert_eq!(fs::read(&path).expect("model"), b"onnx bytes");
        assert!(dir.path().join("piper/vi_VN-vais1000-medium.onnx.json").is_file());
        assert_eq!(installed(dir.path()), [path]);
    }

    #[test]
    fn a_tampered_voice_installs_nothing() {
        let server = hub(true);
        let dir = tempfile::tempdir().expect("tempdir");
        let err = fetch_voice(&server.url(), dir.path(), "vi_VN-vais1000-medium", &mut |_| {}).expect_err("refused");
        assert!(matches!(err, FetchError::Checksum { .. }), "{err}");
        let left: Vec<_> = fs::read_dir(voices_dir(dir.path())).expect("dir").flatten().collect();
        assert!(left.is_empty(), "left behind: {left:?}");
    }

    #[test]
    fn an_unknown_voice_names_those_of_its_language() {
        let server = hub(false);
        let dir = tempfile::tempdir().expect("tempdir");
        let err = fetch_voice(&server.url(), dir.path(), "vi_VN-nobody-high", &mut |_| {}).expect_err("unknown");
        let msg = err.to_string();
        assert!(msg.contains("vi_VN-vais1000-medium") && msg.contains("vi_VN-25hours_single-low"), "{msg}");
    }
}
