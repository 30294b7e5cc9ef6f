//! Where a Firefox Translations (Marian) direction's files live in the model cache and how they
//! are found: the one layout the catalog, the hub download and the engine share. One directory
//! per direction: `marian/<src>-<trg>/model.bin`, its vocabulary `vocab.spm` (or `srcvocab.spm`
//! and `trgvocab.spm` where the two sides differ, as for CJK pairs) and, optionally, the lexical
//! shortlist `lex.bin`.
use std::path::{Path, PathBuf};

/// A direction: source and target language (ISO 639-1).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Pair {
    pub source: String,
    pub target: String,
}

impl Pair {
    pub fn new(source: &str, target: &str) -> Self {
        Self { source: source.into(), target: target.into() }
    }

    /// `en-pt`: the directory name and the model's id in listings.
    pub fn id(&self) -> String {
        format!("{}-{}", self.source, self.target)
    }

    /// Parses `en-pt`; `None` unless both halves are language codes.
    pub fn parse(id: &str) -> Option<Self> {
        let (s, t) = id.split_once('-')?;
        let code = |c: &str| (2..=3).contains(&c.len()) && c.bytes().all(|b| b.is_ascii_lowercase());
        (code(s) && code(t) && s != t).then(|| Self::new(s, t))
    }
}

/// The directory of one direction under the model dir.
pub fn pair_dir(model_dir: &Path, pair: &Pair) -> PathBuf {
    model_dir.join("marian").join(pair.id())
}

pub const MODEL: &str = "model.bin";
pub const VOCAB: &str = "vocab.spm";
pub const SRC_VOCAB: &str = "srcvocab.spm";
pub const TRG_VOCAB: &str = "trgvocab.spm";
pub const SHORTLIST: &str = "lex.bin";

/// The files of one installed direction.
#[derive(Clone, Debug, PartialEq)]
pub struct PairFiles {
    pub pair: Pair,
    pub model: PathBuf,
    pub src_vocab: PathBuf,
    pub trg_vocab: PathBuf,
    pub shortlist: Option<PathBuf>,
}

impl PairFiles {
    /// The direction's files when the model and its vocabularies are all there.
    pub fn find(model_dir: &Path, pair: &Pair) -> Option<Self> {
        let dir = pair_dir(model_dir, pair);
        let model = dir.join(MODEL);
        if !model.is_file() {
            return None;
        }
        let (src_vocab, trg_vocab) = if dir.join(VOCAB).is_file() {
            (dir.join(VOCAB), dir.join(VOCAB))
        } else {
            (dir.join(SRC_VOCAB), dir.join(TRG_VOCAB))
        };
        if !src_vocab.is_file() || !trg_vocab.is_file() {
            return None;
        }
        let shortlist = Some(dir.join(SHORTLIST)).filter(|p| p.is_file());
        Some(Self { pair: pair.clone(), model, src_vocab, trg_vocab, shortlist })
    }
}

/// Every complete direction under `model_dir/marian`, sorted; incomplete ones (a download cut
/// short leaves no `model.bin`, since it is renamed into place last) are skipped.
pub fn installed(model_dir: &Path) -> Vec<PairFiles> {
    let Ok(entries) = std::fs::read_dir(model_dir.join("marian")) else {
        return Vec::new();
    };
    let mut out: Vec<PairFiles> = entries
        .flatten()
        .filter_map(|e| Pair::parse(e.file_name().to_str()?))
        .filter_map(|p| PairFiles::find(model_dir, &p))
        .collect();
    out.sort_by(|a, b| a.pair.cmp(&b.pair));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pair_ids() {
        assert_eq!(Pair::parse("en-pt"), Some(Pair::new("en", "pt")));
        for bad in ["en", "en-en", "EN-pt", "en-", "-pt", "e-pt", "en-pt-br", "../x-y"] {
            assert_eq!(Pair::parse(bad), None, "{bad}");
        }
        assert_eq!(Pair::new("ja", "en").id(), "ja-en");
    }

    #[test]
    fn finds_complete_directions_only() {
        let dir = tempfile::tempdir().expect("tempdir");
        let put = |pair: &str, files: &[&str]| {
            let d = dir.path().join("marian").join(pair);
            std::fs::create_dir_all(&d).expect("mkdir");
            for f in files {
                std::fs::write(d.join(f), b"x").expect("write");
            }
        };
        put("en-pt", &[MODEL, VOCAB, SHORTLIST]);
        put("en-ja", &[MODEL, SRC_VOCAB, TRG_VOCAB]);
        put("pt-en", &[VOCAB]); // a download cut short: no model yet
        put("en-vi", &[MODEL, SRC_VOCAB]); // one vocabulary missing
        put("notes", &[MODEL, VOCAB]); // not a direction
        let found = installed(dir.path());
        let ids: Vec<String> = found.iter().map(|f| f.pair.id()).collect();
        assert_eq!(ids, ["en-ja", "en-pt"]);
        assert!(found[1].shortlist.is_some() && found[0].shortlist.is_none());
        assert_ne!(found[0].src_vocab, found[0].trg_vocab);
        assert_eq!(found[1].src_vocab, found[1].trg_vocab);
        assert!(installed(&dir.path().join("missing")).is_empty());
    }
}
