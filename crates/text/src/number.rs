//! Vietnamese cardinal numbers in words, both ways.

/// Value of a digit word in the units position. `after_tens` allows the forms used only after
/// "mươi"/"mười" (mốt, tư, lăm, nhăm).
fn unit(word: &str, after_tens: bool) -> Option<u64> {
    Some(match word {
        "một" => 1,
        "hai" => 2,
        "ba" => 3,
        "bốn" => 4,
        "năm" if !after_tens => 5,
        "sáu" => 6,
        "bảy" | "bẩy" => 7,
        "tám" => 8,
        "chín" => 9,
        "mốt" | "tư" | "lăm" | "nhăm" if after_tens => match word {
            "mốt" => 1,
            "tư" => 4,
            _ => 5,
        },
        _ => return None,
    })
}

/// A digit word read on its own (digit-by-digit forms: years, phone numbers, decimals).
pub fn digit(word: &str) -> Option<u64> {
    match word {
        "không" | "linh" => Some(0),
        "năm" => Some(5),
        "bảy" | "bẩy" => Some(7),
        w => unit(w, false),
    }
}

/// 0..=99 at the start of `w`: (value, words used).
fn below_100(w: &[&str]) -> Option<(u64, usize)> {
    match w {
        ["mười", rest @ ..] => match rest.first().and_then(|x| unit(x, true).or_else(|| unit(x, false))) {
            // "mười năm" is ten years far more often than fifteen.
            Some(u) if rest.first() != Some(&"năm") => Some((10 + u, 2)),
            _ => Some((10, 1)),
        },
        [d, "mươi" | "chục", rest @ ..] => {
            let tens = unit(d, false)?;
            if tens < 2 && w[1] == "mươi" {
                return None;
            }
            match rest.first().and_then(|x| unit(x, true).or_else(|| unit(x, false).filter(|_| *x != "năm"))) {
                Some(u) => Some((tens * 10 + u, 3)),
                None => Some((tens * 10, 2)),
            }
        }
        // Spoken short form without "mươi": "hai lăm" 25, "sáu lăm" 65, "ba tư" 34, "hai mốt" 21.
        [d, u @ ("mốt" | "tư" | "lăm"), ..] if unit(d, false).is_some_and(|t| t >= 2) => {
            Some((unit(d, false)? * 10 + unit(u, true)?, 2))
        }
        [d, ..] => unit(d, false).map(|u| (u, 1)).or_else(|| (*d == "không").then_some((0, 1))),
        [] => None,
    }
}

/// Two digit words read as the tens and units of one number, as they are said after "trăm" or
/// before "phút": "hai sáu" 26, "năm chín" 59, "hai mốt" 21. The units word is never "năm" (five
/// and "year" sound alike: "hai trăm hai năm" is 220 years; 225 is said "hai trăm hai lăm").
pub fn digit_pair(w: &[&str]) -> Option<u64> {
    let tens = w.first().and_then(|x| unit(x, false).or_else(|| (*x == "năm").then_some(5)))?;
    let units = w.get(1).filter(|x| **x != "năm").and_then(|x| unit(x, true).or_else(|| unit(x, false)))?;
    (tens >= 2).then_some(tens * 10 + units)
}

/// A units word said alone after a scale or "trăm", meaning that many tenths of it: "mốt" 1,
/// "tư" 4, "lăm"/"nhăm"/"rưỡi" 5 ("một trăm mốt" 110, "hai nghìn tư" 2400, "tám trăm rưỡi" 850).
pub fn short_tenths(word: &str) -> Option<u64> {
    match word {
        "mốt" => Some(1),
        "tư" => Some(4),
        "lăm" | "nhăm" | "rưỡi" => Some(5),
        _ => None,
    }
}

/// 0..=999: "ba trăm lẻ tám", "không trăm linh năm", "hai mươi tư", "một trăm hai sáu".
fn below_1000(w: &[&str]) -> Option<(u64, usize)> {
    if let [d, "trăm", rest @ ..] = w {
        let h = if *d == "không" { 0 } else { unit(d, false)? };
        if let [z @ ("linh" | "lẻ"), u, ..] = rest {
            let _ = z;
            if let Some(u) = unit(u, false).or_else(|| (*u == "năm").then_some(5)) {
                return Some((h * 100 + u, 4));
            }
        }
        if let Some((v, n)) = below_100(rest).filter(|(v, _)| *v >= 10) {
            // "hai mươi" read in full, or a short pair: "một trăm hai sáu" is 126.
            return match digit_pair(rest) {
                Some(p) if n < 2 => Some((h * 100 + p, 4)),
                _ => Some((h * 100 + v, 2 + n)),
            };
        }
        if let Some(p) = digit_pair(rest) {
            return Some((h * 100 + p, 4));
        }
        let before_scale = rest.get(1).is_some_and(|x| scale(x).is_some() || matches!(*x, "tỷ" | "tỉ"));
        // A units word alone after "trăm" is the short form of its tens: "một trăm hai" 120, "một
        // trăm hai nghìn" 120 000 (102 000 is "một trăm linh hai nghìn"). "năm" only before a
        // scale: "hai trăm năm trước" is two hundred years ago.
        if let Some(u) = rest.first().and_then(|x| unit(x, false).filter(|_| *x != "năm" || before_scale)) {
            return Some((h * 100 + u * 10, 3));
        }
        if let Some(t) = rest.first().and_then(|x| short_tenths(x)) {
            return Some((h * 100 + t * 10, 3));
        }
        return Some((h * 100, 2));
    }
    below_100(w)
}

/// The longest cardinal at the start of `w` (lower-case words): (value, words used).
/// "X tỷ Y" is X (itself up to "nghìn tỷ") billions plus Y below a billion.
pub fn parse_cardinal(w: &[&str]) -> Option<(u64, usize)> {
    let (x, n) = below_billion(w)?;
    if !matches!(w.get(n), Some(&"tỷ" | &"tỉ")) {
        return Some((x, n));
    }
    let mut value = x.saturating_mul(1_000_000_000);
    let mut used = n + 1;
    if w.get(used) == Some(&"rưỡi") {
        return Some((value.saturating_add(500_000_000), used + 1));
    }
    if let Some((y, m)) = below_scale(&w[used..], 1_000_000_000) {
        value = value.saturating_add(y);
        used += m;
    }
    Some((value, used))
}

/// 0..=999_999_999: groups of "triệu" and "nghìn" in descending order, then the rest.
fn below_billion(w: &[&str]) -> Option<(u64, usize)> {
    below_scale(w, u64::MAX)
}

/// What follows a scale word (`after`, or `u64::MAX` at the start of a number): smaller groups,
/// short forms ("hai tỷ ba"), units after "linh" ("tỷ linh một triệu").
fn below_scale(w: &[&str], after: u64) -> Option<(u64, usize)> {
    let mut total: u64 = 0;
    let mut i = 0;
    let mut last_scale = after;
    let mut any = false;
    while i < w.len() {
        // "hai nghìn tư" is 2400, "ba triệu mốt" 3 100 000.
        if last_scale != u64::MAX
            && let Some(t) = short_tenths(w[i])
            && w[i] != "rưỡi"
        {
            total += t * last_scale / 10;
            i += 1;
            break;
        }
        // "một nghìn linh năm": units alone after a scale.
        let parsed = if last_scale != u64::MAX && matches!(w[i], "linh" | "lẻ") {
            w.get(i + 1).and_then(|x| digit(x)).filter(|d| (1..=9).contains(d)).map(|d| (d, 2))
        } else {
            below_1000(&w[i..])
        };
        let Some((v, n)) = parsed else { break };
        match w.get(i + n).and_then(|s| scale(s)) {
            Some(sc) if sc < last_scale => {
                total += v * sc;
                let mut used = n + 1;
                // "hai triệu rưỡi": and a half of the scale.
                if w.get(i + used) == Some(&"rưỡi") {
                    total += sc / 2;
                    used += 1;
                }
                last_scale = sc;
                i += used;
                any = true;
            }
            _ => {
                if last_scale != u64::MAX && n == 1 && w[i] == "năm" {
                    // "bảy ngàn năm" is seven thousand years: 7500 is "bảy ngàn rưỡi" or "lăm".
                    break;
                }
                if last_scale != u64::MAX && n == 1 && (1..=9).contains(&v) {
                    // Short form: "hai nghìn ba" is 2300, "ba triệu hai" 3 200 000.
                    total += v * last_scale / 10;
                    i += n;
                } else if v < last_scale {
                    total += v;
                    i += n;
                }
                any = true;
                break;
            }
        }
    }
    any.then_some((total, i))
}

fn scale(word: &str) -> Option<u64> {
    match word {
        "nghìn" | "ngàn" => Some(1_000),
        "triệu" => Some(1_000_000),
        _ => None,
    }
}

const DIGITS: [&str; 10] = ["không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín"];

/// Digit-by-digit reading: "090" -> "không chín không".
pub fn spell_digits(digits: &str) -> String {
    digits.chars().filter_map(|c| c.to_digit(10)).map(|d| DIGITS[d as usize]).collect::<Vec<_>>().join(" ")
}

/// 0..=999 in words; `full` marks a group after a larger one, where units alone take "linh"
/// ("một nghìn linh năm") and an empty hundreds is not said ("hai nghìn hai mươi tư"), as people
/// say years and amounts.
fn group_words(n: u64, full: bool, out: &mut Vec<&'static str>) {
    let (h, t, u) = (n / 100, n / 10 % 10, n % 10);
    if h > 0 {
        out.extend([DIGITS[h as usize], "trăm"]);
    }
    match t {
        0 if u > 0 && (h > 0 || full) => out.extend(["linh", DIGITS[u as usize]]),
        0 => {
            if u > 0 || (h == 0 && !full) {
                out.push(DIGITS[u as usize]);
            }
        }
        1 => {
            out.push("mười");
            match u {
                0 => {}
                5 => out.push("lăm"),
                u => out.push(DIGITS[u as usize]),
            }
        }
        t => {
            out.extend([DIGITS[t as usize], "mươi"]);
            match u {
                0 => {}
                1 => out.push("mốt"),
                4 => out.push("tư"),
                5 => out.push("lăm"),
                u => out.push(DIGITS[u as usize]),
            }
        }
    }
}

/// A cardinal in words, as it is read: 105 "một trăm linh năm", 1005 "một nghìn linh năm", 2024
/// "hai nghìn hai mươi tư", 21 "hai mươi mốt", 24 "hai mươi tư", 15 "mười lăm",
/// 1_000_000_000_000 "một nghìn tỷ".
pub fn to_words(n: u64) -> String {
    if n == 0 {
        return "không".into();
    }
    let mut out = Vec::new();
    push_words(n, &mut out);
    out.join(" ")
}

fn push_words(n: u64, out: &mut Vec<&'static str>) {
    let billions = n / 1_000_000_000;
    let rest = n % 1_000_000_000;
    if billions > 0 {
        push_words(billions, out);
        out.push("tỷ");
    }
    let mut started = billions > 0;
    for (g, name) in [(rest / 1_000_000, "triệu"), (rest / 1000 % 1000, "nghìn"), (rest % 1000, "")] {
        if g == 0 {
            continue;
        }
        group_words(g, started, out);
        if !name.is_empty() {
            out.push(name);
        }
        started = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        for n in (0..2000).chain([10_000, 100_005, 1_000_000, 1_234_567_890, 2_000_000_000_000]) {
            let w = to_words(n);
            let words: Vec<&str> = w.split(' ').collect();
            assert_eq!(parse_cardinal(&words), Some((n, words.len())), "{n}: {w}");
        }
    }

    #[test]
    fn spoken_variants() {
        let p = |s: &str| parse_cardinal(&s.split(' ').collect::<Vec<_>>()).map(|x| x.0);
        assert_eq!(p("ba trăm lẻ tám"), Some(308));
        assert_eq!(p("hai mươi bốn"), Some(24));
        assert_eq!(p("hai chục"), Some(20));
        assert_eq!(p("năm ngàn"), Some(5000));
        assert_eq!(p("ba tỉ"), Some(3_000_000_000));
        assert_eq!(p("mười năm"), Some(10), "ten years");
        assert_eq!(p("hai mươi năm"), Some(20), "twenty years");
        assert_eq!(p("hai triệu rưỡi"), Some(2_500_000));
        assert_eq!(p("một nghìn không trăm linh năm"), Some(1005));
    }

    #[test]
    fn short_forms_inside_compound_numbers() {
        let p = |s: &str| parse_cardinal(&s.split(' ').collect::<Vec<_>>());
        let cases = [
            ("một trăm mốt", 110, 3),
            ("năm trăm tư", 540, 3),
            ("tám trăm rưỡi", 850, 3),
            ("một trăm lăm", 150, 3),
            ("một trăm hai sáu", 126, 4),
            ("một ngàn một trăm hai sáu", 1126, 6),
            ("bốn mươi hai nghìn hai trăm năm chín", 42259, 8),
            ("chín tỷ bảy trăm tám chín triệu", 9_789_000_000, 7),
            ("hai nghìn tư", 2400, 3),
            ("ba triệu mốt", 3_100_000, 3),
            ("bảy ngàn năm", 7000, 2),
            ("hai trăm hai năm", 220, 3),
            ("một trăm hai nghìn", 120_000, 4),
            ("một trăm linh hai nghìn", 102_000, 5),
            ("ba trăm năm nghìn", 350_000, 4),
            ("một trăm mốt nghìn", 110_000, 4),
            ("hai trăm năm", 200, 2),
            ("một trăm hai mươi", 120, 4),
        ];
        for (s, v, n) in cases {
            assert_eq!(p(s), Some((v, n)), "{s}");
        }
        assert_eq!(digit_pair(&["bốn", "ba"]), Some(43));
        assert_eq!(digit_pair(&["một", "ba"]), None, "no tens digit one: that is \"mười ba\"");
        assert_eq!(digit_pair(&["hai", "năm"]), None);
    }
}
