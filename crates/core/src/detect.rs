//! Source-language detection for "auto": whichlang carries its model in the crate (16 languages,
//! the same list the translator offers).
use whichlang::Lang;

/// ISO 639-1 code of the text's language.
pub fn detect_language(text: &str) -> &'static str {
    match whichlang::detect_language(text) {
        Lang::Ara => "ar",
        Lang::Cmn => "zh",
        Lang::Deu => "de",
        Lang::Eng => "en",
        Lang::Fra => "fr",
        Lang::Hin => "hi",
        Lang::Ita => "it",
        Lang::Jpn => "ja",
        Lang::Kor => "ko",
        Lang::Nld => "nl",
        Lang::Por => "pt",
        Lang::Rus => "ru",
        Lang::Spa => "es",
        Lang::Swe => "sv",
        Lang::Tur => "tr",
        Lang::Vie => "vi",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_the_pipeline_languages() {
        assert_eq!(detect_language("Hôm nay trời đẹp quá, chúng ta đi dạo nhé."), "vi");
        assert_eq!(detect_language("The weather is lovely today, let's go for a walk."), "en");
        assert_eq!(detect_language("今日はいい天気ですね。散歩に行きましょう。"), "ja");
        // Every detected code is one the translator offers.
        for (code, _) in crate::translate::LANGUAGES {
            assert!(crate::translate::language_name(code).is_some());
        }
    }
}
