//! The tokenizer rebuilt from GGUF metadata (byte-level BPE with Qwen2's pre-tokenizer), so one
//! file is the whole model.
//!
//! Special tokens are deliberately not registered as added tokens: user text that contains
//! "<|im_end|>" is encoded as plain characters, and only the chat template (which inserts special
//! ids itself) can close a turn. That is the tokenizer half of prompt-injection safety.
use candle_core::quantized::gguf_file::{Content, Value};
use sokuji_core::translate::latin_text_bytes;
use std::collections::HashMap;
use tokenizers::{
    SplitDelimiterBehavior, Tokenizer,
    decoders::byte_level::ByteLevel as ByteLevelDecoder,
    models::bpe::{BPE, Vocab},
    pre_tokenizers::{
        PreTokenizerWrapper,
        byte_level::ByteLevel,
        sequence::Sequence,
        split::{Split, SplitPattern},
    },
};

/// Qwen2's pre-tokenizer pattern (llama.cpp's `qwen2` pre-type).
const QWEN2_PATTERN: &str =
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

pub struct GgufTokenizer {
    inner: Tokenizer,
    specials: HashMap<String, u32>,
    /// Token ids run from 0 to this (special ones included).
    count: usize,
}

impl GgufTokenizer {
    pub fn from_gguf(ct: &Content) -> Result<Self, String> {
        let get = |k: &str| ct.metadata.get(k).ok_or_else(|| format!("GGUF lacks {k}"));
        let model = get("tokenizer.ggml.model")?.to_string().map_err(|e| e.to_string())?;
        if model != "gpt2" {
            return Err(format!("tokenizer model {model:?} is not supported (byte-level BPE only)"));
        }
        let strings = |v: &Value| -> Result<Vec<String>, String> {
            v.to_vec()
                .map_err(|e| e.to_string())?
                .iter()
                .map(|s| s.to_string().cloned().map_err(|e| e.to_string()))
                .collect()
        };
        let tokens = strings(get("tokenizer.ggml.tokens")?)?;
        let merges = strings(get("tokenizer.ggml.merges")?)?;
        let types: Vec<i32> = match ct.metadata.get("tokenizer.ggml.token_type") {
            Some(v) => v.to_vec().map_err(|e| e.to_string())?.iter().map(|t| t.to_i32().unwrap_or(1)).collect(),
            None => Vec::new(),
        };
        let mut vocab = Vocab::default();
        let mut specials = HashMap::new();
        for (id, tok) in tokens.iter().enumerate() {
            let id = u32::try_from(id).map_err(|e| e.to_string())?;
            // Type 3 is "control" (<|im_start|> and friends): kept out of the BPE vocabulary.
            if types.get(id as usize) == Some(&3) {
                specials.insert(tok.clone(), id);
            } else {
                vocab.insert(tok.clone(), id);
            }
        }
        let merges = merges
            .iter()
            .filter_map(|m| m.split_once(' ').map(|(a, b)| (a.to_string(), b.to_string())))
            .collect::<Vec<_>>();
        let bpe = BPE::builder().vocab_and_merges(vocab, merges).build().map_err(|e| e.to_string())?;
        let mut inner = Tokenizer::new(bpe);
        let split = Split::new(SplitPattern::Regex(QWEN2_PATTERN.into()), SplitDelimiterBehavior::Isolated, false)
            .map_err(|e| e.to_string())?;
        inner.with_pre_tokenizer(Some(Sequence::new(vec![
            PreTokenizerWrapper::Split(split),
            PreTokenizerWrapper::ByteLevel(ByteLevel::new(false, false, false)),
        ])));
        inner.with_decoder(Some(ByteLevelDecoder::default()));
        Ok(Self { inner, specials, count: tokens.len() })
    }

    pub fn encode(&self, text: &str) -> Result<Vec<u32>, String> {
        Ok(self.inner.encode(text, false).map_err(|e| e.to_string())?.get_ids().to_vec())
    }

    pub fn decode(&self, ids: &[u32]) -> Result<String, String> {
        self.inner.decode(ids, false).map_err(|e| e.to_string())
    }

    /// Per token id, whether text in the Latin alphabet can hold it (`translate::latin_text_bytes`:
    /// a token that carries only part of a character's bytes counts when the character can be
    /// Latin, so Han characters cannot come in byte by byte). The special tokens, outside the BPE
    /// vocabulary, count: they end the answer.
    pub fn latin_tokens(&self) -> Vec<bool> {
        let mut latin = vec![true; self.count];
        for (token, &id) in self.inner.get_vocab(false).iter() {
            if let Some(slot) = latin.get_mut(id as usize) {
                *slot = token_bytes(token).is_some_and(|b| latin_text_bytes(&b));
            }
        }
        latin
    }

    pub fn special(&self, token: &str) -> Option<u32> {
        self.specials.get(token).copied()
    }
}

/// The bytes a byte-level BPE token stands for, or `None` for a string that is not one. GPT-2's
/// map: printable bytes stand for themselves, the others were moved to U+0100 and up, in order.
fn token_bytes(token: &str) -> Option<Vec<u8>> {
    let printable = |b: u8| matches!(b, b'!'..=b'~' | 0xA1..=0xAC | 0xAE..=0xFF);
    token
        .chars()
        .map(|c| match u32::from(c) {
            u @ 0..=0xFF if printable(u as u8) => Some(u as u8),
            u => (0..=255u8).filter(|&b| !printable(b)).nth(u.checked_sub(0x100)? as usize),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::token_bytes;

    #[test]
    fn byte_level_tokens_map_back_to_their_bytes() {
        // "Ġ" is the space, "Ċ" the line feed; "á»ĩ" the three bytes of "ệ".
        for (token, want) in [("Ġthe", &b" the"[..]), ("Ċ", b"\n"), ("á»ĩ", "ệ".as_bytes()), ("Ā", b"\x00")] {
            assert_eq!(token_bytes(token).as_deref(), Some(want), "{token}");
        }
        assert_eq!(token_bytes("<|im_end|>"), Some(b"<|im_end|>".to_vec()));
        assert_eq!(token_bytes("\u{4e2d}"), None, "not a byte-level token");
    }
}
