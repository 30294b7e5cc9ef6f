//! Inverse text normalization: spoken Vietnamese (ASR output) to written form.
//!
//! The line is cut into words (punctuation kept aside); at each word the classes are tried in a
//! fixed order and the first that matches rewrites the words it covers. Conventions: digits
//! without thousands separators, "." as the decimal point, "ngày 24 tháng 7 năm 2013", "8:20" /
//! "20h", money with its symbol after the amount ("2$"; the đồng by name: "50000 đồng"), measures with unit symbols
//! ("200 km/h"), negatives with "-" ("âm một ngàn chín" -> "-1900"), addresses joined
//! ("an@gmail.com", "http://www.google.com"). A lone digit word stays a word ("ba năm" is three years, not "3 năm") unless a
//! class around it (a date, time, amount, measure) makes it a number.
use crate::number::{digit, digit_pair, parse_cardinal, short_tenths};

/// One word of the line: the spaces before it, its leading punctuation, the word itself, its
/// trailing punctuation, and the word in lower case for matching.
struct Token<'a> {
    space: &'a str,
    lead: &'a str,
    core: &'a str,
    trail: &'a str,
    lower: String,
}

fn tokenize(line: &str) -> Vec<Token<'_>> {
    let mut out = Vec::new();
    let mut rest = line;
    while !rest.is_empty() {
        let ws = rest.len() - rest.trim_start().len();
        let (space, after) = rest.split_at(ws);
        if after.is_empty() {
            out.push(Token { space, lead: "", core: "", trail: "", lower: String::new() });
            break;
        }
        let end = after.find(char::is_whitespace).unwrap_or(after.len());
        let (word, next) = after.split_at(end);
        let is_punct = |c: char| !c.is_alphanumeric() && c != '@' && c != '%' && c != '$' && c != '€';
        let core_start = word.find(|c: char| !is_punct(c)).unwrap_or(word.len());
        let core_end = word
            .rfind(|c: char| !is_punct(c))
            .map(|i| i + word[i..].chars().next().map_or(1, char::len_utf8))
            .unwrap_or(core_start)
            .max(core_start);
        out.push(Token {
            space,
            lead: &word[..core_start],
            core: &word[core_start..core_end],
            trail: &word[core_end..],
            lower: word[core_start..core_end].to_lowercase(),
        });
        rest = next;
    }
    out
}

/// What a matcher produced: the written form and how many tokens it covers.
type Hit = (String, usize);

/// Inverse-normalizes one line.
pub fn inverse_normalize(line: &str) -> String {
    let tokens = tokenize(line);
    // A phrase never runs across punctuation, so none is lost: matchers see the words up to the
    // first one with trailing punctuation, or before the next one with leading punctuation.
    let lower: Vec<&str> = tokens.iter().map(|t| t.lower.as_str()).collect();
    let mut out = String::with_capacity(line.len());
    let mut i = 0;
    while i < tokens.len() {
        let stop = (i..tokens.len())
            .find_map(|j| {
                if j > i && !tokens[j].lead.is_empty() {
                    Some(j)
                } else if !tokens[j].trail.is_empty() || tokens[j].core.is_empty() {
                    Some(j + 1)
                } else {
                    None
                }
            })
            .unwrap_or(tokens.len());
        let t = &tokens[i];
        match (!t.core.is_empty()).then(|| classify(&lower[i..stop])).flatten() {
            Some((text, n)) if n > 0 => {
                let last = &tokens[i + n - 1];
                out.push_str(t.space);
                out.push_str(t.lead);
                // "Ngày hai…" keeps its capital: "Ngày 2…".
                let capital = t.core.chars().next().is_some_and(char::is_uppercase);
                let mut chars = text.chars();
                match chars.next() {
                    Some(c) if capital && c.is_lowercase() => {
                        out.extend(c.to_uppercase());
                        out.push_str(chars.as_str());
                    }
                    _ => out.push_str(&text),
                }
                out.push_str(last.trail);
                i += n;
            }
            _ => {
                out.push_str(t.space);
                out.push_str(t.lead);
                out.push_str(t.core);
                out.push_str(t.trail);
                i += 1;
            }
        }
    }
    out
}

fn classify(w: &[&str]) -> Option<Hit> {
    negative(w).or_else(|| plain(w))
}

/// "âm một ngàn chín" -> "-1900", "âm năm độ xê" -> "-5 °C": "âm" before what is written with
/// digits (never "âm nhạc").
fn negative(w: &[&str]) -> Option<Hit> {
    if w.first() != Some(&"âm") {
        return None;
    }
    let (text, n) = plain(&w[1..])?;
    text.starts_with(|c: char| c.is_ascii_digit()).then(|| (format!("-{text}"), n + 1))
}

fn plain(w: &[&str]) -> Option<Hit> {
    address(w)
        .or_else(|| time(w))
        .or_else(|| date(w))
        .or_else(|| ordinal(w))
        .or_else(|| measure_or_money(w))
        .or_else(|| fraction(w))
        .or_else(|| decimal(w))
        .or_else(|| phone(w))
        .or_else(|| digit_run(w, 3))
        .or_else(|| cardinal(w))
}

/// A cardinal worth writing as digits: more than one word, or a value of ten or more.
fn cardinal(w: &[&str]) -> Option<Hit> {
    let (v, n) = parse_cardinal(w)?;
    // "hai chục" (a score of, about twenty) is said and written as words.
    if n == 2 && w[1] == "chục" {
        return None;
    }
    (n > 1 || v >= 10).then(|| (written(w, v, n), n))
}

/// Any number, however short: for the classes whose context makes it one.
fn number(w: &[&str]) -> Option<Hit> {
    decimal(w).or_else(|| longer(parse_cardinal(w).map(|(v, n)| (written(w, v, n), n)), digit_run(w, 2)))
}

/// A cardinal of `n` words as it is written: millions and billions said round keep their word,
/// as the press writes them ("một triệu" -> "1 triệu", "bốn triệu sáu" -> "4.6 triệu", "hai
/// triệu rưỡi" -> "2.5 triệu", "một nghìn tỷ" -> "1000 tỷ"); every other number in digits
/// ("hai triệu ba trăm nghìn" -> "2300000").
fn written(w: &[&str], v: u64, n: usize) -> String {
    let words = &w[..n];
    let Some(k) = words.iter().position(|x| matches!(*x, "triệu" | "tỷ" | "tỉ")) else { return v.to_string() };
    let Some((x, _)) = parse_cardinal(&words[..k]).filter(|(_, m)| *m == k) else { return v.to_string() };
    let tenth = match &words[k + 1..] {
        [] => None,
        [t] => short_tenths(t).or_else(|| digit(t).filter(|d| *d > 0 && *t != "năm" && *t != "linh")),
        _ => return v.to_string(),
    };
    let scale = words[k];
    match tenth {
        None => format!("{x} {scale}"),
        Some(d) => format!("{x}.{d} {scale}"),
    }
}

/// The reading that covers more words; `a` on a tie.
fn longer(a: Option<Hit>, b: Option<Hit>) -> Option<Hit> {
    match (a, b) {
        (Some(a), Some(b)) if b.1 > a.1 => Some(b),
        (a, b) => a.or(b),
    }
}

/// "hai không hai ba" -> "2023"; "không chín một..." -> "091...": at least `min` digit words.
/// The last digit may take its after-tens form ("hai không hai mốt" -> "2021").
fn digit_run(w: &[&str], min: usize) -> Option<Hit> {
    let mut digits: String = w
        .iter()
        .take_while(|x| **x != "linh" && digit(x).is_some())
        .filter_map(|x| digit(x))
        .map(|d| char::from(b'0' + d as u8))
        .collect();
    if !digits.is_empty() {
        let last = match w.get(digits.len()) {
            Some(&"mốt") => Some('1'),
            Some(&"tư") => Some('4'),
            Some(&"lăm") => Some('5'),
            _ => None,
        };
        digits.extend(last);
    }
    let n = digits.len();
    (n >= min).then_some((digits, n))
}

/// A Vietnamese phone number said digit by digit, grouped as it is written: "không chín một hai
/// ba bốn năm sáu bảy tám" -> "091-234-5678".
fn phone(w: &[&str]) -> Option<Hit> {
    let (digits, n) = digit_run(w, 10)?;
    (digits.len() == 10 && digits.starts_with('0'))
        .then(|| (format!("{}-{}-{}", &digits[..3], &digits[3..6], &digits[6..]), n))
}

/// "ba phẩy mười bốn" / "ba phẩy một bốn" -> "3.14"; "không phẩy không một" -> "0.01"; "chấm"
/// as the point too ("không chấm không không một" -> "0.001", "sáu mươi chấm hai tư" -> "60.24").
fn decimal(w: &[&str]) -> Option<Hit> {
    let (int, n) = parse_cardinal(w)?;
    if !matches!(w.get(n), Some(&"phẩy" | &"chấm")) {
        return None;
    }
    let rest = &w[n + 1..];
    let run = digit_run(rest, 1);
    // The fraction is digits or a small cardinal; a scale word after it scales the whole
    // number ("ba mươi tư phẩy năm triệu" is "34.5 triệu").
    let is_scale = |x: &&str| matches!(*x, "nghìn" | "ngàn" | "triệu" | "tỷ" | "tỉ");
    let card = parse_cardinal(rest).filter(|(v, m)| (*m > 1 || *v >= 10) && !rest[..*m].iter().any(is_scale));
    let (frac, m) = longer(run, card.map(|(v, n)| (v.to_string(), n)))?;
    Some((format!("{int}.{frac}"), n + 1 + m))
}

/// "thứ mười lăm" -> "thứ 15"; weekdays and small ordinals as digits too ("thứ hai" -> "thứ 2",
/// "thứ tư" -> "thứ 4", "thứ nhất" -> "thứ 1"), as calendars and the press write them.
fn ordinal(w: &[&str]) -> Option<Hit> {
    if w.first() != Some(&"thứ") {
        return None;
    }
    let small = match w.get(1) {
        Some(&"nhất") => Some(1),
        Some(&"tư") => Some(4),
        _ => None,
    };
    if let Some(d) = small {
        return Some((format!("thứ {d}"), 2));
    }
    let (v, n) = parse_cardinal(&w[1..])?;
    (v >= 2).then(|| (format!("thứ {v}"), n + 1))
}

fn month(w: &[&str]) -> Option<(u64, usize)> {
    match w.first() {
        Some(&"tư") => Some((4, 1)),
        Some(&"năm") => Some((5, 1)),
        _ => parse_cardinal(w).filter(|(v, _)| (1..=12).contains(v)),
    }
}

fn year(w: &[&str]) -> Option<(String, usize)> {
    let card = parse_cardinal(w).filter(|(v, n)| *n > 1 && *v >= 100 && *v <= 9999).map(|(v, n)| (v.to_string(), n));
    let run = digit_run(w, 4).filter(|(s, _)| s.len() == 4);
    longer(longer(card, run), century_and_year(w))
}

/// A year said as its century's two digits and then the rest: "hai không linh chín" 2009, "hai
/// không mười chín" 2019, "một chín chín mươi" 1990, "hai không hai lăm" 2025.
fn century_and_year(w: &[&str]) -> Option<(String, usize)> {
    let (c1, c2) = (digit(w.first()?)?, digit(w.get(1)?)?);
    if !(1..=2).contains(&c1) || *w.first()? == "linh" || *w.get(1)? == "linh" {
        return None;
    }
    let rest = &w[2..];
    let (yy, n) = match rest {
        ["linh" | "lẻ", d, ..] => (digit(d)?, 2),
        _ => match parse_cardinal(rest).filter(|(v, _)| (10..100).contains(v)) {
            Some((v, n)) if n <= 2 || rest.get(1) == Some(&"mươi") => (v, n),
            _ => (digit_pair(rest)?, 2),
        },
    };
    Some((format!("{c1}{c2}{yy:02}"), 2 + n))
}

/// Dates: "ngày hai mươi tư tháng bảy năm hai nghìn không trăm mười ba" -> "ngày 24 tháng 7 năm
/// 2013", and each part alone ("mùng một", "tháng bảy", "năm hai không hai ba"); the lunar
/// months' names stay words ("tháng giêng", "tháng chạp").
fn date(w: &[&str]) -> Option<Hit> {
    let mut out = Vec::new();
    let mut i = 0;
    if let Some(day_word @ ("ngày" | "mùng" | "mồng")) = w.first().copied() {
        let (d, n) = parse_cardinal(&w[1..]).filter(|(d, _)| (1..=31).contains(d))?;
        // "ngày một" alone is "a day" ("năm ngày một tuần"); a lone digit is a day of the month
        // only with its month. After "mùng" it is a day anyway, and stays a word as NeMo keeps
        // it ("mùng một tết", "mùng 2 tháng 9").
        if n == 1 && d < 10 && w.get(1 + n) != Some(&"tháng") {
            return (day_word != "ngày").then(|| (w[..2].join(" "), 2));
        }
        out.push(format!("{day_word} {d}"));
        i = 1 + n;
    }
    if w.get(i) == Some(&"tháng")
        && let Some((m, n)) = month(&w[i + 1..])
    {
        // "tháng năm" alone is as often "months and years" ("những tháng năm ấy"): May only with
        // a day before it or a year after it.
        let year_after = w.get(i + 1 + n) == Some(&"năm") && year(&w[i + 2 + n..]).is_some();
        if w[i + 1] == "năm" && out.is_empty() && !year_after {
            return None;
        }
        out.push(format!("tháng {m}"));
        i += 1 + n;
    }
    if w.get(i) == Some(&"năm")
        && let Some((y, n)) = year(&w[i + 1..])
    {
        out.push(format!("năm {y}"));
        i += 1 + n;
    }
    (!out.is_empty()).then(|| (out.join(" "), i))
}

/// Times: "tám giờ hai mươi phút" -> "8:20", "hai mươi giờ" -> "20h", "tám giờ rưỡi" -> "8:30",
/// "tám giờ kém mười lăm" -> "7:45", with seconds "8:20:15".
fn time(w: &[&str]) -> Option<Hit> {
    let (h, n) = parse_cardinal(w)?;
    if w.get(n) != Some(&"giờ") {
        return None;
    }
    // Hours past a day are a duration: "bốn mươi giờ" -> "40h".
    if h > 24 {
        return Some((format!("{h}h"), n + 1));
    }
    let mut i = n + 1;
    let rest = &w[i..];
    if rest.first() == Some(&"rưỡi") {
        return Some((format!("{h}:30"), i + 1));
    }
    if rest.first() == Some(&"kém")
        && let Some((m, k)) = parse_cardinal(&rest[1..]).filter(|(m, _)| (1..60).contains(m))
    {
        let used = 1 + k + usize::from(rest.get(1 + k) == Some(&"phút"));
        return Some((format!("{}:{:02}", (h + 23) % 24, 60 - m), i + used));
    }
    // "tám giờ hai ba phút": the minutes as a pair of digits.
    let pair = digit_pair(rest).filter(|m| *m < 60 && rest.get(2) == Some(&"phút")).map(|m| (m, 2));
    // A lone digit word with more after it is not minutes: "tám giờ một ngày" is eight hours a day.
    let minutes =
        parse_cardinal(rest).filter(|(m, k)| *m < 60 && !(*k == 1 && *m < 10 && rest.len() > 1 && rest[1] != "phút"));
    let Some((m, k)) = pair.or(minutes) else {
        return Some((format!("{h}h"), i));
    };
    // "hai giờ ba mươi" needs "phút" unless nothing else could follow.
    let unit = rest.get(k).copied();
    i += k;
    match unit {
        Some("phút") => i += 1,
        Some("giây") => return Some((format!("{h}h"), n + 1)),
        _ => {}
    }
    let mut s = format!("{h}:{m:02}");
    if let Some((sec, k2)) = parse_cardinal(&w[i..]).filter(|(s, _)| *s < 60)
        && w.get(i + k2) == Some(&"giây")
    {
        s.push_str(&format!(":{sec:02}"));
        i += k2 + 1;
    }
    Some((s, i))
}

/// Units and currencies as spoken (words, longest first within a first word) and written.
const UNITS: &[(&str, &str)] = &[
    ("ki lô mét trên giờ", "km/h"),
    ("kilomet trên giờ", "km/h"),
    ("kilômét trên giờ", "km/h"),
    ("kilomet", "km"),
    ("kilômét", "km"),
    ("mê ga bít trên giây", "Mbps"),
    ("megabit trên giây", "Mbps"),
    ("gi ga bít trên giây", "Gbps"),
    ("gigabit trên giây", "Gbps"),
    ("độ ép", "°F"),
    ("độ f", "°F"),
    ("ki lô mét một giờ", "km/h"),
    ("cây số một giờ", "km/h"),
    ("mét trên giây", "m/s"),
    ("ki lô mét vuông", "km²"),
    ("ki lô mét", "km"),
    // "cây số" is the everyday word, kept as NeMo keeps it.
    ("cây số", "cây số"),
    ("xăng ti mét vuông", "cm²"),
    ("xăng ti mét", "cm"),
    ("xen ti mét", "cm"),
    ("mi li mét", "mm"),
    ("mét vuông", "m²"),
    ("mét khối", "m³"),
    ("mét", "m"),
    ("ki lô gam", "kg"),
    ("ki lô oát giờ", "kWh"),
    ("ki lô oát", "kW"),
    ("ki lô héc", "kHz"),
    ("ki lô", "kg"),
    ("mi li gam", "mg"),
    ("gam", "g"),
    ("mi li lít", "ml"),
    ("lít", "l"),
    ("héc ta", "ha"),
    ("độ xê", "°C"),
    ("độ c", "°C"),
    ("mê ga héc", "MHz"),
    ("gi ga héc", "GHz"),
    ("héc", "Hz"),
    ("mê ga bai", "MB"),
    ("gi ga bai", "GB"),
    ("oát", "W"),
    ("vôn", "V"),
    ("phần trăm", "%"),
    // Seconds as a symbol; minutes stay "phút" ("5 phút"), as NeMo writes them.
    ("giây", "s"),
    ("phút", "phút"),
];

const CURRENCIES: &[(&str, &str)] = &[
    ("đô la mỹ", "$"),
    ("đô la", "$"),
    ("đô", "$"),
    ("ơ rô", "€"),
    ("euro", "€"),
    ("yên nhật", "¥"),
    ("yên", "¥"),
    ("bảng anh", "£"),
    ("ringgit", "RM"),
    ("won", "₩"),
    // The yuan has no symbol in Vietnamese text: "500 nhân dân tệ".
    ("nhân dân tệ", " nhân dân tệ"),
    ("rúp", "₽"),
    ("bạt", "฿"),
    // The đồng keeps its name, as amounts are written in Vietnamese ("50000 đồng").
    ("việt nam đồng", " đồng"),
    ("đồng", " đồng"),
];

/// Matches a spoken name at the start of `w`, reading hyphenated words ("ki-lô-mét") as spaced.
fn spoken(w: &[&str], name: &str) -> Option<usize> {
    let want: Vec<&str> = name.split(' ').collect();
    let mut got = 0;
    let mut used = 0;
    while got < want.len() {
        let parts: Vec<&str> = w.get(used)?.split('-').collect();
        if want.get(got..got + parts.len())? != parts.as_slice() {
            return None;
        }
        got += parts.len();
        used += 1;
    }
    Some(used)
}

/// "hai trăm ki lô mét trên giờ" -> "200 km/h"; "năm mươi nghìn đồng" -> "50000 đồng";
/// "không phẩy không một ơ rô" -> "0.01€"; "năm phần trăm" -> "5%".
fn measure_or_money(w: &[&str]) -> Option<Hit> {
    let (num, n) = number(w)?;
    // Heights: "một mét bảy mươi" -> "1m70".
    if w.get(n) == Some(&"mét")
        && !num.contains('.')
        && let Some((cm, k)) = parse_cardinal(&w[n + 1..]).filter(|(cm, _)| (1..100).contains(cm))
        && !UNITS.iter().chain(CURRENCIES).any(|(name, _)| spoken(&w[n + 1 + k..], name).is_some())
    {
        return Some((format!("{num}m{cm:02}"), n + 1 + k));
    }
    // A lone "một" before a unit is "a" or "per" ("hai mươi nghìn đồng một lít").
    if n == 1 && w[0] == "một" {
        return None;
    }
    let rest = &w[n..];
    for (name, symbol) in CURRENCIES {
        if let Some(k) = spoken(rest, name) {
            // Symbols attach to the amount as NeMo writes them ("100$", "3 tỷ$").
            return Some((format!("{num}{symbol}"), n + k));
        }
    }
    for (name, symbol) in UNITS {
        if let Some(k) = spoken(rest, name) {
            let sep = if matches!(*symbol, "%" | "s") { "" } else { " " };
            return Some((format!("{num}{sep}{symbol}"), n + k));
        }
    }
    None
}

/// "hai phần ba" -> "2/3", "ba trên bốn" -> "3/4".
fn fraction(w: &[&str]) -> Option<Hit> {
    let (a, n) = parse_cardinal(w)?;
    if !matches!(w.get(n), Some(&"phần" | &"trên")) {
        return None;
    }
    let rest = &w[n + 1..];
    if rest.first() == Some(&"trăm") {
        return None;
    }
    let (b, m) = parse_cardinal(rest).or_else(|| (rest.first() == Some(&"tư")).then_some((4, 1)))?;
    (b > 0).then(|| (format!("{a}/{b}"), n + 1 + m))
}

/// One piece of a spoken address: a run of characters said one by one (letters, digits, digit
/// words after the first: "a b ba" -> "ab3"), ending in at most one word ("g mail" -> "gmail");
/// or one word. Never two words: "gửi cho an a còng…" keeps "cho" out of the address.
fn address_piece(w: &[&str]) -> Option<(String, usize)> {
    let is_char = |x: &str| x.chars().count() == 1 && x.chars().all(|c| c.is_ascii_alphanumeric());
    let is_word = |x: &str| !x.is_empty() && x.chars().all(|c| c.is_ascii_alphanumeric());
    // Where a separator starts instead: "a còng" (@), "hai chấm sẹc" (://).
    let separator = |i: usize| {
        matches!(
            (w.get(i), w.get(i + 1), w.get(i + 2)),
            (Some(&"a"), Some(&"còng"), _) | (Some(&"hai"), Some(&"chấm"), Some(&"sẹc"))
        )
    };
    let mut out = String::new();
    let mut i = 0;
    while let Some(x) = w.get(i).copied() {
        if separator(i) {
            break;
        }
        if is_char(x) {
            out.push_str(x);
        } else if let Some(d) = digit(x).filter(|_| i > 0 && x != "linh") {
            out.push(char::from(b'0' + d as u8));
        } else {
            break;
        }
        i += 1;
    }
    if let Some(x) = w.get(i).copied()
        && is_word(x)
        && !separator(i)
        && digit(x).is_none()
    {
        out.push_str(x);
        i += 1;
    }
    (i > 0).then_some((out, i))
}

const TLDS: &[&str] = &["com", "vn", "net", "org", "edu", "gov", "io", "info", "biz", "me", "app"];

/// E-mail addresses, domains and web addresses spoken out: "an a còng gmail chấm com" ->
/// "an@gmail.com", "vnexpress chấm net" -> "vnexpress.net", "a b ba chấm s d d a còng g mail chấm
/// com" -> "ab3.sdd@gmail.com", "h t t p hai chấm sẹc sẹc w w w chấm google chấm com" ->
/// "http://www.google.com".
fn address(w: &[&str]) -> Option<Hit> {
    let (user, mut i) = address_piece(w)?;
    let mut out = user;
    let mut is_email = false;
    let mut dots = 0;
    loop {
        let sep = match (w.get(i), w.get(i + 1), w.get(i + 2), w.get(i + 3)) {
            (Some(&"a"), Some(&"còng"), ..) if !is_email => ("@", 2),
            (Some(&"hai"), Some(&"chấm"), Some(&"sẹc"), Some(&"sẹc"))
                if matches!(out.as_str(), "http" | "https" | "ftp") =>
            {
                ("://", 4)
            }
            (Some(&"chấm"), ..) => (".", 1),
            (Some(&"sẹc"), ..) if dots > 0 => ("/", 1),
            (Some(&"gạch"), Some(&"dưới"), ..) => ("_", 2),
            (Some(&"gạch"), Some(&"ngang"), ..) => ("-", 2),
            _ => break,
        };
        let Some((next, k)) = address_piece(&w[i + sep.1..]) else { break };
        is_email |= sep.0 == "@";
        dots += usize::from(sep.0 == ".");
        out.push_str(sep.0);
        out.push_str(&next);
        i += sep.1 + k;
    }
    let host = out.split('/').nth(if out.contains("://") { 2 } else { 0 }).unwrap_or_default();
    let tld_ok = host.rsplit('.').next().is_some_and(|t| TLDS.contains(&t));
    (dots > 0 && tld_ok).then_some((out, i))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_text_and_spacing() {
        assert_eq!(inverse_normalize(""), "");
        assert_eq!(inverse_normalize("  xin chào,  bạn!  "), "  xin chào,  bạn!  ");
        assert_eq!(inverse_normalize("Ba năm trước"), "Ba năm trước");
    }
}
