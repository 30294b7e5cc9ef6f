//! The tantivy schema of a passage and its two analyzers.
use tantivy::{
    Index,
    schema::{FAST, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions},
};

/// Lowercased words as written.
pub const EXACT: &str = "sokuji_exact";
/// Lowercased words with diacritics folded ("hợp đồng" -> "hop dong").
pub const FOLDED: &str = "sokuji_folded";

#[derive(Clone, Copy)]
pub struct Fields {
    /// "recording_id:idx", unique.
    pub key: Field,
    pub recording: Field,
    pub idx: Field,
    pub start: Field,
    pub end: Field,
    pub text: Field,
    pub folded: Field,
    pub speaker: Field,
    pub language: Field,
    pub tag: Field,
    pub created_at: Field,
    /// The passage's vector, little-endian f32.
    pub vector: Field,
    /// `t:` and the tenant's name (`t:` alone: the default tenant): never an empty term.
    pub tenant: Field,
}

/// The `tenant` field's term of a tenant.
pub fn tenant_term(tenant: &str) -> String {
    format!("t:{tenant}")
}

pub fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let analyzed = |tokenizer: &str| {
        TextFieldIndexing::default().set_tokenizer(tokenizer).set_index_option(IndexRecordOption::WithFreqsAndPositions)
    };
    let fields = Fields {
        key: b.add_text_field("key", STRING | STORED),
        recording: b.add_text_field("recording_id", STRING | STORED),
        idx: b.add_u64_field("idx", STORED),
        start: b.add_f64_field("start", STORED),
        end: b.add_f64_field("end", STORED),
        text: b.add_text_field("text", TextOptions::default().set_indexing_options(analyzed(EXACT)).set_stored()),
        folded: b.add_text_field("text_folded", TextOptions::default().set_indexing_options(analyzed(FOLDED))),
        speaker: b.add_text_field("speaker", STRING | STORED),
        language: b.add_text_field("language", STRING | STORED),
        tag: b.add_text_field("tag", STRING | STORED),
        created_at: b.add_i64_field("created_at", INDEXED | STORED | FAST),
        vector: b.add_bytes_field("vector", STORED),
        tenant: b.add_text_field("tenant", STRING | STORED),
    };
    (b.build(), fields)
}

pub fn register_analyzers(index: &Index) {
    index.tokenizers().register(EXACT, crate::words::exact_analyzer());
    index.tokenizers().register(FOLDED, crate::words::folded_analyzer());
}
