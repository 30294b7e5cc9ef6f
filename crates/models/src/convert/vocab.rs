//! Whisper's byte-level BPE vocabulary: `vocabulary.txt` holds one token per line in the GPT-2
//! printable-byte alphabet; whisper.cpp wants each token's raw bytes.
use std::collections::HashMap;

/// GPT-2's map from printable characters back to the bytes they stand for.
fn unicode_to_byte() -> HashMap<char, u8> {
    let mut printable: Vec<u8> = (b'!'..=b'~').chain(0xA1..=0xAC).chain(0xAE..=0xFF).collect();
    let mut chars: Vec<char> = printable.iter().map(|&b| char::from(b)).collect();
    let mut n = 0u32;
    for b in 0..=255u8 {
        if !printable.contains(&b) {
            printable.push(b);
            chars.push(char::from_u32(256 + n).unwrap_or('\0'));
            n += 1;
        }
    }
    chars.into_iter().zip(printable).collect()
}

/// The regular (non-special) tokens as bytes: every line before `<|endoftext|>`.
pub fn regular_tokens(vocabulary_txt: &str) -> Vec<Vec<u8>> {
    let map = unicode_to_byte();
    vocabulary_txt
        .split('\n')
        .take_while(|t| *t != "<|endoftext|>")
        .map(|t| t.chars().map(|c| map.get(&c).copied().unwrap_or(b'?')).collect())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_byte_level_tokens() {
        let toks = regular_tokens("!\nĠthe\nĊ\nÃł\n\n<|endoftext|>\n<|en|>");
        assert_eq!(toks, vec![b"!".to_vec(), b" the".to_vec(), b"\n".to_vec(), vec![0xC3, 0xA0], vec![]]);
        assert_eq!(String::from_utf8(toks[3].clone()).expect("utf8"), "à");
    }
}
