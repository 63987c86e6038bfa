//! Korean particles chosen by the word before them. A catalogue sentence that puts a name in
//! front of a particle writes both forms, `{{ step }}은(는)`, since the name is known only
//! when the sentence is said; [`particles`] keeps the one the name's last sound takes:
//! "오케스트레이션은", "payment를", "email로". English text has none of these marks and passes
//! through unchanged.

/// The particle pairs: the form after a final consonant, the form after a vowel, and how
/// each is written in the catalogue.
const PAIRS: [(&str, &str, &str); 8] = [
    ("은(는)", "은", "는"),
    ("는(은)", "은", "는"),
    ("이(가)", "이", "가"),
    ("가(이)", "이", "가"),
    ("을(를)", "을", "를"),
    ("를(을)", "을", "를"),
    ("과(와)", "과", "와"),
    ("와(과)", "과", "와"),
];

/// `(으)로`: 으로 after a final consonant other than ㄹ, 로 after a vowel or ㄹ.
const TOWARDS: &str = "(으)로";

/// How a word ends, as far as a particle cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    Vowel,
    /// ㄹ: a final consonant, but (으)로 takes 로.
    Rieul,
    Consonant,
}

/// The text with every particle mark resolved by the word before it.
pub fn particles(text: String) -> String {
    if !text.contains(')') {
        return text;
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    'scan: while !rest.is_empty() {
        for (mark, consonant, vowel) in PAIRS {
            if let Some(after) = rest.strip_prefix(mark) {
                out.push_str(match ending(&out) {
                    Ending::Vowel => vowel,
                    Ending::Rieul | Ending::Consonant => consonant,
                });
                rest = after;
                continue 'scan;
            }
        }
        if let Some(after) = rest.strip_prefix(TOWARDS) {
            out.push_str(match ending(&out) {
                Ending::Consonant => "으로",
                Ending::Vowel | Ending::Rieul => "로",
            });
            rest = after;
            continue;
        }
        let c = rest.chars().next().unwrap_or_default();
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// How the text said so far ends: its last Hangul syllable's final consonant, or the sound a
/// Latin word or a number ends with as Korean reads it aloud. Closing quotes and brackets are
/// looked through (`"pay"를`).
fn ending(said: &str) -> Ending {
    let word: Vec<char> = said
        .trim_end_matches(['"', '\'', '”', '’', ')', ']', '»', '」', '』', ' '])
        .chars()
        .rev()
        .take(2)
        .collect();
    let Some(&last) = word.first() else {
        return Ending::Vowel;
    };
    if ('\u{AC00}'..='\u{D7A3}').contains(&last) {
        return match (last as u32 - 0xAC00) % 28 {
            0 => Ending::Vowel,
            8 => Ending::Rieul,
            _ => Ending::Consonant,
        };
    }
    if last.is_ascii_digit() {
        // 영 일 이 삼 사 오 육 칠 팔 구.
        return match last {
            '0' | '3' | '6' => Ending::Consonant,
            '1' | '7' | '8' => Ending::Rieul,
            _ => Ending::Vowel,
        };
    }
    let before = word.get(1).map(|c| c.to_ascii_lowercase());
    match last.to_ascii_lowercase() {
        // "email" 이메일, "hotel" 호텔.
        'l' => Ending::Rieul,
        // "system" 시스템; "payment" ends in 트 and "order" in 더, vowels.
        'm' | 'n' => Ending::Consonant,
        // "shipping" 시핑: -ng is ㅇ.
        'g' if before == Some('n') => Ending::Consonant,
        _ => Ending::Vowel,
    }
}

#[cfg(test)]
mod tests {
    use super::particles;

    fn says(text: &str) -> String {
        particles(text.to_string())
    }

    #[test]
    fn hangul_by_its_final_consonant() {
        assert_eq!(
            says("오케스트레이션은(는) 빠릅니다"),
            "오케스트레이션은 빠릅니다"
        );
        assert_eq!(
            says("코레오그래피은(는) 느슨합니다"),
            "코레오그래피는 느슨합니다"
        );
        assert_eq!(says("결제이(가) 실패"), "결제가 실패");
        assert_eq!(says("주문이(가) 실패"), "주문이 실패");
        assert_eq!(says("배송을(를) 기다림"), "배송을 기다림");
        assert_eq!(says("재고을(를) 기다림"), "재고를 기다림");
        assert_eq!(says("결제(으)로 가던"), "결제로 가던");
        assert_eq!(says("주문(으)로 가던"), "주문으로 가던");
        assert_eq!(says("메일(으)로 가던"), "메일로 가던");
        assert_eq!(says("주문와(과) 결제"), "주문과 결제");
    }

    #[test]
    fn latin_names_and_numbers_as_they_are_read() {
        assert_eq!(says("payment을(를) 잃음"), "payment를 잃음");
        assert_eq!(says("OrderPlaced을(를) 들음"), "OrderPlaced를 들음");
        assert_eq!(says("email(으)로"), "email로");
        assert_eq!(says("system은(는)"), "system은");
        assert_eq!(says("shipping이(가)"), "shipping이");
        assert_eq!(says("step3(으)로"), "step3으로");
        assert_eq!(says("step2(으)로"), "step2로");
        assert_eq!(says("\"pay\"을(를)"), "\"pay\"를");
        assert_eq!(says("\"order\"을(를)"), "\"order\"를");
    }

    #[test]
    fn text_without_marks_is_unchanged() {
        assert_eq!(says("payment (retry 2) failed"), "payment (retry 2) failed");
        assert_eq!(says("(으)로"), "로");
        assert_eq!(says(""), "");
    }
}
