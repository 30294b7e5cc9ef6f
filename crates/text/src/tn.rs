//! Text normalization: written Vietnamese to the words a speaker says, for text-to-speech.
//!
//! Each whitespace-separated word is read on its own, with the word before it as context
//! ("ngày 24/7", "thế kỷ XIX", "thứ 4"). Vietnamese conventions: "." groups thousands when three
//! digits follow it ("1.000.000"), "," is the decimal comma ("3,5"); a "." before other digit
//! counts is a decimal point ("3.5").
use std::ops::Not;

use crate::number::{spell_digits, to_words};

const LEAD: &[char] = &['(', '[', '{', '"', '\'', '“', '‘', '«'];
const TRAIL: &[char] = &['.', ',', ';', ':', '!', '?', ')', ']', '}', '"', '\'', '”', '’', '»', '…'];

/// Normalizes one line.
pub fn normalize(line: &str) -> String {
    let mut out = String::with_capacity(line.len() * 2);
    let mut prev: Vec<String> = Vec::new();
    let mut rest = line;
    while !rest.is_empty() {
        let ws = rest.len() - rest.trim_start().len();
        out.push_str(&rest[..ws]);
        rest = &rest[ws..];
        if rest.is_empty() {
            break;
        }
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let (word, next) = rest.split_at(end);
        rest = next;
        let spoken = read_word(word, &prev);
        // Context is the last two words, without opening punctuation ("(ngày 2/9)").
        if prev.len() == 2 {
            prev.remove(0);
        }
        prev.push(word.trim_start_matches(LEAD).to_lowercase());
        match spoken {
            Some(s) => out.push_str(&s),
            None => out.push_str(word),
        }
    }
    out
}

/// The spoken form of one written word, or `None` to keep it as written.
fn read_word(word: &str, prev: &[String]) -> Option<String> {
    if let Some(s) = abbreviation(word) {
        return Some(s.to_string());
    }
    let core = word.trim_start_matches(LEAD);
    let lead = &word[..word.len() - core.len()];
    let core = core.trim_end_matches(TRAIL);
    let trail = &word[lead.len() + core.len()..];
    if core.is_empty() {
        return None;
    }
    let spoken = if let Some(s) = address_words(core) {
        s
    } else if core.chars().any(|c| c.is_ascii_digit()) {
        read_core(core, prev)?
    } else if after_amount(prev) {
        // A unit or currency written apart from its number: "200 km/h", "50.000 VND", "2.5 triệu đ".
        unit_or_currency(core)?.to_string()
    } else {
        roman_in_context(core, prev)?
    };
    Some(format!("{lead}{spoken}{trail}"))
}

/// Whether the words before end an amount: a number, or a number and its scale ("2.5 triệu").
fn after_amount(prev: &[String]) -> bool {
    let number = |w: &String| w.ends_with(|c: char| c.is_ascii_digit());
    match prev {
        [.., n, s] if matches!(s.as_str(), "triệu" | "tỷ" | "tỉ" | "nghìn" | "ngàn") => number(n),
        [.., n] => number(n),
        [] => false,
    }
}

fn prev_is(prev: &[String], words: &[&str]) -> bool {
    prev.len() >= words.len() && prev[prev.len() - words.len()..].iter().zip(words).all(|(a, b)| a == b)
}

/// A number written with Vietnamese separators: "1.000.000", "3,5", "-2", "3.5", "0,01".
fn number_words(s: &str) -> Option<String> {
    let (neg, int, frac) = split_number(s)?;
    let mut out = String::new();
    if neg {
        out.push_str("âm ");
    }
    out.push_str(&int_words(&int));
    if let Some(f) = frac {
        // Digits after the comma are said one by one: "3,14" -> "ba phẩy một bốn".
        out.push_str(" phẩy ");
        out.push_str(&spell_digits(f));
    }
    Some(out)
}

/// A written number's sign, integer digits (without separators) and fraction digits.
fn split_number(s: &str) -> Option<(bool, String, Option<&str>)> {
    let (neg, s) = match s.strip_prefix(['-', '−']) {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    if s.is_empty()
        || !s.starts_with(|c: char| c.is_ascii_digit())
        || !s.chars().all(|c| c.is_ascii_digit() || c == '.' || c == ',')
    {
        return None;
    }
    // The decimal comma first; then "." either groups thousands (every group after the first
    // has three digits) or, alone and without a comma, is a decimal point.
    let (int_part, frac) = match s.split_once(',') {
        Some((i, f)) => (i, Some(f)),
        None => (s, None),
    };
    let groups: Vec<&str> = int_part.split('.').collect();
    let (int, frac) = if groups.len() == 1 {
        (int_part.to_string(), frac)
    } else if groups[1..].iter().all(|g| g.len() == 3) && groups[0] != "0" {
        (groups.concat(), frac)
    } else if groups.len() == 2 && frac.is_none() {
        (groups[0].to_string(), Some(groups[1]))
    } else {
        return None;
    };
    if int.is_empty() || frac.is_some_and(|f| f.is_empty() || !f.chars().all(|c| c.is_ascii_digit())) {
        return None;
    }
    Some((neg, int, frac))
}

/// Currencies whose cents are said as such, and the name of the cent.
const MINOR: &[(&str, &str)] =
    &[("$", "xu"), ("USD", "xu"), ("€", "xu"), ("EUR", "xu"), ("£", "penny"), ("GBP", "penny")];

/// An amount and its unit or currency (`symbol` as written, `name` as said). Money is said as a
/// speaker counts it: "2,5$" -> "hai đô la năm mươi xu", "0,01€" -> "một xu"; everything else,
/// and amounts with more than two decimals, as a number and the name.
fn amount_words(num: &str, symbol: &str, name: &str) -> Option<String> {
    let Some((_, minor)) = MINOR.iter().find(|(s, _)| *s == symbol) else {
        return Some(format!("{} {name}", number_words(num)?));
    };
    match split_number(num)? {
        (false, int, Some(f)) if f.len() <= 2 => {
            let cents: u64 = format!("{f:0<2}").parse().ok()?;
            let major = int.trim_start_matches('0').is_empty().not().then(|| format!("{} {name}", int_words(&int)));
            Some(match (major, cents) {
                (Some(major), 0) => major,
                (Some(major), c) => format!("{major} {} {minor}", to_words(c)),
                (None, 0) => format!("không {name}"),
                (None, c) => format!("{} {minor}", to_words(c)),
            })
        }
        _ => Some(format!("{} {name}", number_words(num)?)),
    }
}

/// An integer string in words; too long for u64, or with leading zeros, digit by digit.
fn int_words(digits: &str) -> String {
    if digits.len() > 1 && digits.starts_with('0') {
        return spell_digits(digits);
    }
    match digits.parse::<u64>() {
        Ok(n) if digits.len() <= 15 => to_words(n),
        _ => spell_digits(digits),
    }
}

const UNITS: &[(&str, &str)] = &[
    ("km/h", "ki lô mét trên giờ"),
    ("m/s", "mét trên giây"),
    ("km²", "ki lô mét vuông"),
    ("km2", "ki lô mét vuông"),
    ("cm²", "xăng ti mét vuông"),
    ("cm2", "xăng ti mét vuông"),
    ("m²", "mét vuông"),
    ("m2", "mét vuông"),
    ("m³", "mét khối"),
    ("m3", "mét khối"),
    ("km", "ki lô mét"),
    ("cm", "xăng ti mét"),
    ("mm", "mi li mét"),
    ("m", "mét"),
    ("kg", "ki lô gam"),
    ("mg", "mi li gam"),
    ("g", "gam"),
    ("ml", "mi li lít"),
    ("l", "lít"),
    ("ha", "héc ta"),
    ("Mbps", "mê ga bít trên giây"),
    ("Gbps", "gi ga bít trên giây"),
    ("°F", "độ ép"),
    ("°C", "độ xê"),
    ("°c", "độ xê"),
    ("°", "độ"),
    ("kWh", "ki lô oát giờ"),
    ("kW", "ki lô oát"),
    ("W", "oát"),
    ("V", "vôn"),
    ("kHz", "ki lô héc"),
    ("MHz", "mê ga héc"),
    ("GHz", "gi ga héc"),
    ("Hz", "héc"),
    ("KB", "ki lô bai"),
    ("MB", "mê ga bai"),
    ("GB", "gi ga bai"),
    ("TB", "tê ra bai"),
    ("%", "phần trăm"),
    ("s", "giây"),
];

const CURRENCIES: &[(&str, &str)] = &[
    ("$", "đô la"),
    ("USD", "đô la"),
    ("€", "ơ rô"),
    ("EUR", "ơ rô"),
    ("¥", "yên nhật"),
    ("JPY", "yên nhật"),
    ("£", "bảng anh"),
    ("GBP", "bảng anh"),
    ("đ", "đồng"),
    ("₫", "đồng"),
    ("VND", "đồng"),
    ("VNĐ", "đồng"),
    ("vnđ", "đồng"),
    ("đồng", "đồng"),
    ("RM", "ringgit"),
    ("MYR", "ringgit"),
    ("₩", "won"),
    ("KRW", "won"),
    ("CNY", "nhân dân tệ"),
    ("₽", "rúp"),
    ("฿", "bạt"),
];

fn unit_or_currency(suffix: &str) -> Option<&'static str> {
    UNITS.iter().chain(CURRENCIES).find(|(w, _)| *w == suffix).map(|(_, s)| *s)
}

/// Reads a core that contains digits.
fn read_core(core: &str, prev: &[String]) -> Option<String> {
    if let Some(s) = phone(core) {
        return Some(s);
    }
    if let Some(s) = time(core) {
        return Some(s);
    }
    if let Some(s) = date(core, prev) {
        return Some(s);
    }
    if let Some(n) = number_words(core) {
        // Ordinals after "thứ": 1 and 4 have their own words.
        if prev.last().is_some_and(|p| p == "thứ") {
            return Some(match core {
                "1" => "nhất".into(),
                "4" => "tư".into(),
                _ => n,
            });
        }
        return Some(n);
    }
    // Currency before the amount: "$2", "€5".
    for (sym, spoken) in CURRENCIES {
        if let Some(rest) = core.strip_prefix(sym)
            && let Some(n) = amount_words(rest, sym, spoken)
        {
            return Some(n);
        }
    }
    // Range: "3-5", "10-20%", "2010-2015", "8:00-17:00".
    if let Some((a, b)) = core.split_once(['-', '–'])
        && let (Some(x), Some(y)) = (read_core(a, &[]), read_core(b, &[]))
    {
        return Some(format!("{x} đến {y}"));
    }
    // Per: "150.000đ/người" -> "... đồng một người".
    if let Some((a, b)) = core.split_once('/')
        && !b.is_empty()
        && b.chars().all(char::is_alphabetic)
        && amount_with_unit(core).is_none()
        && let Some(x) = read_core(a, prev)
    {
        return Some(format!("{x} một {b}"));
    }
    // Fraction "2/3".
    if let Some((a, b)) = core.split_once('/')
        && let (Some(x), Some(y)) = (number_words(a), number_words(b))
    {
        // A quarter is "tư": "1/4" -> "một phần tư".
        let y = if b == "4" { "tư".to_string() } else { y };
        return Some(format!("{x} phần {y}"));
    }
    amount_with_unit(core).or_else(|| code(core))
}

/// A code of capital letters and digits: the letters as written, each run of digits as a number
/// ("VN123" -> "VN một trăm hai mươi ba", "U23" -> "U hai mươi ba", "COVID-19" -> "COVID mười
/// chín", "12A" -> "mười hai A").
fn code(core: &str) -> Option<String> {
    let ok = core.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-')
        && core.chars().any(|c| c.is_ascii_uppercase())
        && core.chars().any(|c| c.is_ascii_digit());
    if !ok {
        return None;
    }
    let mut out: Vec<String> = Vec::new();
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut Vec<String>| {
        if !run.is_empty() {
            let digits = run.starts_with(|c: char| c.is_ascii_digit());
            out.push(if digits { int_words(run) } else { run.clone() });
            run.clear();
        }
    };
    for c in core.chars() {
        if c == '-' || run.starts_with(|r: char| r.is_ascii_digit()) != c.is_ascii_digit() {
            flush(&mut run, &mut out);
        }
        if c != '-' {
            run.push(c);
        }
    }
    flush(&mut run, &mut out);
    Some(out.join(" "))
}

/// An amount with its unit or currency attached: "12kg", "2$", "0,01€", "50.000đ", "200km/h".
fn amount_with_unit(core: &str) -> Option<String> {
    let split = core.find(|c: char| !(c.is_ascii_digit() || c == '.' || c == ',' || c == '-')).unwrap_or(core.len());
    let (num, suffix) = core.split_at(split);
    let spoken = unit_or_currency(suffix)?;
    amount_words(num, suffix, spoken)
}

/// "8:20" -> "tám giờ hai mươi phút", "8:20:15", "20h", "20h30".
fn time(core: &str) -> Option<String> {
    let parts: Vec<&str> = if core.contains(':') {
        core.split(':').collect()
    } else {
        let i = core.find('h')?;
        let (h, m) = (&core[..i], &core[i + 1..]);
        if m.is_empty() { vec![h] } else { vec![h, m] }
    };
    if parts.iter().any(|p| p.is_empty() || p.len() > 2 || !p.chars().all(|c| c.is_ascii_digit())) || parts.len() > 3 {
        return None;
    }
    let v: Vec<u64> = parts.iter().filter_map(|p| p.parse().ok()).collect();
    if v[0] > 24 || v.iter().skip(1).any(|x| *x >= 60) || (core.contains(':') && parts.len() < 2) {
        return None;
    }
    let mut s = format!("{} giờ", to_words(v[0]));
    if let Some(m) = v.get(1).filter(|m| **m > 0 || v.len() > 2) {
        s.push_str(&format!(" {} phút", to_words(*m)));
    }
    if let Some(sec) = v.get(2) {
        s.push_str(&format!(" {} giây", to_words(*sec)));
    }
    Some(s)
}

fn month_words(m: u64) -> String {
    if m == 4 { "tư".into() } else { to_words(m) }
}

/// "24/7/2013" -> "ngày hai mươi tư tháng bảy năm hai nghìn không trăm mười ba" ("ngày" left out
/// when the text says it already); "24/7" only after "ngày"; "7/2013" -> "tháng bảy năm …".
fn date(core: &str, prev: &[String]) -> Option<String> {
    let parts: Vec<&str> = core.split(['/', '-', '.']).collect();
    if parts.iter().any(|p| p.is_empty() || !p.chars().all(|c| c.is_ascii_digit())) {
        return None;
    }
    let v: Vec<u64> = parts.iter().filter_map(|p| p.parse().ok()).collect();
    let after_day_word = prev.last().is_some_and(|p| matches!(p.as_str(), "ngày" | "mùng" | "mồng" | "hôm"));
    // In a date 24 is "hai mươi bốn", as NeMo says it.
    let day = |d: u64| {
        let d = to_words(d).replace("mươi tư", "mươi bốn");
        if after_day_word { d } else { format!("ngày {d}") }
    };
    match v.as_slice() {
        [d, m, y] if (1..=31).contains(d) && (1..=12).contains(m) && parts[2].len() == 4 => {
            Some(format!("{} tháng {} năm {}", day(*d), month_words(*m), to_words(*y)))
        }
        [d, m] if after_day_word && (1..=31).contains(d) && (1..=12).contains(m) && !core.contains('.') => {
            Some(format!("{} tháng {}", day(*d), month_words(*m)))
        }
        [m, y] if (1..=12).contains(m) && parts[1].len() == 4 && core.contains('/') => {
            let month_word = if prev.last().is_some_and(|p| p == "tháng") { "" } else { "tháng " };
            Some(format!("{month_word}{} năm {}", month_words(*m), to_words(*y)))
        }
        _ => None,
    }
}

/// E-mail and web addresses, as they are spelled out: "an@gmail.com" -> "an a còng gmail chấm
/// com", "http://www.google.com" -> "h t t p hai chấm sẹc sẹc w w w chấm google chấm com". Parts
/// that read as words are said as words; the others letter by letter, digits as digit words.
fn address_words(core: &str) -> Option<String> {
    let (scheme, rest) = match core.split_once("://") {
        Some((s @ ("http" | "https" | "ftp"), r)) => (Some(s), r),
        _ => (None, core),
    };
    let host = rest.split('/').next().unwrap_or_default();
    let tld = host.rsplit('.').next().unwrap_or_default().to_ascii_lowercase();
    let is_address = (scheme.is_some() || host.contains('@') || host.starts_with("www."))
        || (host.contains('.') && matches!(tld.as_str(), "com" | "vn" | "net" | "org" | "edu" | "gov" | "io"));
    if !is_address || !rest.chars().all(|c| c.is_ascii_alphanumeric() || "@._-/".contains(c)) || host.is_empty() {
        return None;
    }
    let spell = |part: &str| -> String {
        let vowels = part.chars().filter(|c| "aeiouyAEIOUY".contains(*c)).count();
        if part.len() >= 2 && vowels > 0 && part.chars().all(|c| c.is_ascii_alphabetic()) && part != "www" {
            return part.to_lowercase();
        }
        part.chars()
            .map(|c| match c.to_digit(10) {
                Some(d) => spell_digits(&d.to_string()),
                None => c.to_ascii_lowercase().to_string(),
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut out: Vec<String> = Vec::new();
    if let Some(s) = scheme {
        out.push(spell(s));
        out.push("hai chấm sẹc sẹc".into());
    }
    let mut part = String::new();
    for c in rest.chars() {
        let sep = match c {
            '@' => "a còng",
            '.' => "chấm",
            '/' => "sẹc",
            '_' => "gạch dưới",
            '-' => "gạch ngang",
            _ => {
                part.push(c);
                continue;
            }
        };
        if !part.is_empty() {
            out.push(spell(&part));
            part.clear();
        }
        out.push(sep.into());
    }
    if !part.is_empty() {
        out.push(spell(&part));
    }
    Some(out.join(" "))
}

/// Phone numbers are read digit by digit: "0912345678", "0912.345.678", "+84912345678".
fn phone(core: &str) -> Option<String> {
    let (plus, body) = match core.strip_prefix('+') {
        Some(b) => (true, b),
        None => (false, core),
    };
    if !body.chars().all(|c| c.is_ascii_digit() || c == '.' || c == '-') {
        return None;
    }
    let digits: String = body.chars().filter(char::is_ascii_digit).collect();
    let phone_like = (plus && digits.len() >= 8)
        || (digits.starts_with('0') && (9..=11).contains(&digits.len()) && !body.contains(','));
    if !phone_like {
        return None;
    }
    Some(format!("{}{}", if plus { "cộng " } else { "" }, spell_digits(&digits)))
}

/// Roman numerals where the text names what they count: "thế kỷ XIX", "chương IV", "quý III".
fn roman_in_context(core: &str, prev: &[String]) -> Option<String> {
    let counted = prev_is(prev, &["thế", "kỷ"])
        || prev_is(prev, &["thế", "kỉ"])
        || prev.last().is_some_and(|p| {
            matches!(p.as_str(), "chương" | "phần" | "quý" | "khóa" | "khoá" | "tập" | "kỳ" | "lần" | "thứ")
        })
        || prev_is(prev, &["đại", "hội"]);
    if !counted {
        return None;
    }
    roman(core).map(to_words)
}

fn roman(s: &str) -> Option<u64> {
    if s.is_empty() || s.len() > 15 {
        return None;
    }
    let val = |c: char| match c {
        'I' => Some(1),
        'V' => Some(5),
        'X' => Some(10),
        'L' => Some(50),
        'C' => Some(100),
        'D' => Some(500),
        'M' => Some(1000),
        _ => None,
    };
    let v: Vec<i64> = s.chars().map(val).collect::<Option<_>>()?;
    let mut total = 0i64;
    for (i, x) in v.iter().enumerate() {
        if v.get(i + 1).is_some_and(|n| n > x) {
            total -= x;
        } else {
            total += x;
        }
    }
    u64::try_from(total).ok().filter(|t| *t > 0)
}

const ABBREVIATIONS: &[(&str, &str)] = &[
    ("TP.HCM", "thành phố Hồ Chí Minh"),
    ("TPHCM", "thành phố Hồ Chí Minh"),
    ("HCM", "Hồ Chí Minh"),
    ("TP.", "thành phố"),
    ("Tp.", "thành phố"),
    ("TP", "thành phố"),
    ("UBND", "ủy ban nhân dân"),
    ("HĐND", "hội đồng nhân dân"),
    ("v.v.", "vân vân"),
    ("v.v", "vân vân"),
    ("PGS.TS", "phó giáo sư tiến sĩ"),
    ("PGS.TS.", "phó giáo sư tiến sĩ"),
    ("PGS.", "phó giáo sư"),
    ("GS.", "giáo sư"),
    ("TS.", "tiến sĩ"),
    ("ThS.", "thạc sĩ"),
    ("BS.", "bác sĩ"),
    ("KS.", "kỹ sư"),
    ("ĐH", "đại học"),
    ("THPT", "trung học phổ thông"),
    ("THCS", "trung học cơ sở"),
    ("CLB", "câu lạc bộ"),
    ("HLV", "huấn luyện viên"),
    ("VĐV", "vận động viên"),
    ("CSGT", "cảnh sát giao thông"),
    ("&", "và"),
];

fn abbreviation(word: &str) -> Option<&'static str> {
    let core = word.trim_end_matches([',', ';', ':', '!', '?']);
    ABBREVIATIONS.iter().find(|(a, _)| *a == core).map(|(_, s)| *s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_plain_text() {
        assert_eq!(normalize(""), "");
        assert_eq!(normalize("  xin chào,  bạn!  "), "  xin chào,  bạn!  ");
    }
}
