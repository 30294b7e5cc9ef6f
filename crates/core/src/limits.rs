//! The one table of list limits: every request that carries a list of texts is capped here, so
//! one request cannot hold an engine for minutes (10,000 texts to translate ran past 45 s).
use crate::{Error, Result};

/// Texts in one translation batch (REST `texts`, gRPC `TranslateBatch`).
pub const TRANSLATION_TEXTS: usize = 64;
/// Texts in one normalization request (cheap: 190,000 lines/s).
pub const NORMALIZE_TEXTS: usize = 1_000;
/// Texts in one embeddings request.
pub const EMBEDDING_TEXTS: usize = 2_048;

/// Refuses a list longer than `max`, naming what it is.
pub fn check_list(what: &str, len: usize, max: usize) -> Result<()> {
    if len > max {
        return Err(Error::invalid_request(format!("{len} {what} in one request: at most {max}")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_are_capped_with_the_limit_named() {
        assert!(check_list("texts", TRANSLATION_TEXTS, TRANSLATION_TEXTS).is_ok());
        let e = check_list("texts", 10_000, TRANSLATION_TEXTS).expect_err("too many");
        assert!(e.message.contains("10000 texts") && e.message.contains("at most 64"), "{e}");
    }
}
