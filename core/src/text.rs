//! Text from outside (a transaction's summary and details, a provider's message, an issuer, a
//! token's name, a policy value) made safe to show a person.
//!
//! A website controls what a push transaction says. Shown raw, `ESC[2A ESC[2K CR` rewrites the
//! line the user is about to approve on a terminal, a newline (or U+2028, U+2029) forges a line
//! of its own, bidi overrides (U+202E) reorder what a phone displays ("…moc.knab" shown as
//! "bank.com…"), and invisible format characters (U+200B, U+FEFF, U+2060, tag characters) hide
//! text or make two different strings look the same. The characters treated as hazardous are
//! every Unicode control (Cc: C0, DEL, C1), every format character (Cf: the bidi embedding,
//! override, isolate and implicit marks, zero-width spaces and joiners, the BOM, tags, …) and the
//! line and paragraph separators (Zl, Zp). Emoji joined by U+200D show their joiner replaced:
//! plain text wins over pictures. Two treatments, at the display boundary only (the stored and
//! MACed text stays verbatim):
//! - [`escape`] (terminals): each such character becomes a visible `\u{…}` escape, and `\` itself
//!   becomes `\\`, so the output is unambiguous.
//! - [`neutralise`] (phone UIs, through the FFI): each becomes U+FFFD, the replacement mark, so
//!   the user sees that something was there and nothing is reordered.

use std::borrow::Cow;

/// Every Unicode format character (Cf) and the line and paragraph separators (Zl, Zp), as
/// inclusive ranges in order (Unicode 18). A table of 21 ranges rather than a general-category
/// crate: the whole category table would cost the phone library about 50 kB, and a test checks
/// this one against that crate's.
const FORMAT_AND_SEPARATORS: [(u32, u32); 21] = [
    (0x00ad, 0x00ad),
    (0x0600, 0x0605),
    (0x061c, 0x061c),
    (0x06dd, 0x06dd),
    (0x070f, 0x070f),
    (0x0890, 0x0891),
    (0x08e2, 0x08e2),
    (0x180e, 0x180e),
    (0x200b, 0x200f),
    (0x2028, 0x202e),
    (0x2060, 0x2064),
    (0x2066, 0x206f),
    (0xfeff, 0xfeff),
    (0xfff9, 0xfffb),
    (0x110bd, 0x110bd),
    (0x110cd, 0x110cd),
    (0x13430, 0x1343f),
    (0x1bca0, 0x1bca3),
    (0x1d173, 0x1d17a),
    (0xe0001, 0xe0001),
    (0xe0020, 0xe007f),
];

/// True for a character that can move the cursor, forge a line, reorder displayed text or hide
/// itself: a Unicode control (Cc), format character (Cf), or line or paragraph separator (Zl, Zp).
pub fn is_hazard(c: char) -> bool {
    if c.is_control() {
        return true;
    }
    let cp = c as u32;
    FORMAT_AND_SEPARATORS
        .binary_search_by(|&(lo, hi)| {
            if hi < cp {
                std::cmp::Ordering::Less
            } else if lo > cp {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        })
        .is_ok()
}

/// For terminals: every hazardous character as a visible `\u{…}` escape (and `\` as `\\`).
pub fn escape(text: &str) -> Cow<'_, str> {
    if !text.chars().any(|c| is_hazard(c) || c == '\\') {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            c if is_hazard(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// For phone UIs: every hazardous character replaced by U+FFFD.
pub fn neutralise(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_hazard) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(text.chars().map(|c| if is_hazard(c) { '\u{fffd}' } else { c }).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_summary_that_rewrites_the_approved_line_is_shown_escaped() {
        // The attack: a website's summary moving the cursor up and clearing the line.
        let evil = "Sign in to Example Bank\u{1b}[2A\u{1b}[2K\rWire 10 000 EUR\u{202e}gpj.exe";
        assert_eq!(escape(evil), "Sign in to Example Bank\\u{1b}[2A\\u{1b}[2K\\u{d}Wire 10 000 EUR\\u{202e}gpj.exe");
        assert_eq!(neutralise(evil), "Sign in to Example Bank\u{fffd}[2A\u{fffd}[2K\u{fffd}Wire 10 000 EUR\u{fffd}gpj.exe");
        assert_eq!(escape("plain Zürich 東京"), "plain Zürich 東京");
        assert!(matches!(escape("plain"), Cow::Borrowed(_)));
        assert_eq!(escape("a\\u{1b}"), "a\\\\u{1b}", "an escape typed by the website is not mistaken for one of ours");
        assert_eq!(escape("line\nforged"), "line\\u{a}forged");
        assert_eq!(neutralise("\u{85}\u{9b}31m"), "\u{fffd}\u{fffd}31m", "C1 controls (NEL, CSI)");
    }

    #[test]
    fn the_hazard_table_is_every_control_format_and_separator_character() {
        use unicode_properties::{GeneralCategory as G, UnicodeGeneralCategory};
        for c in (0..=0x10ffff).filter_map(char::from_u32) {
            let expected = matches!(c.general_category(), G::Control | G::Format | G::LineSeparator | G::ParagraphSeparator);
            assert_eq!(is_hazard(c), expected, "U+{:04X} ({:?})", c as u32, c.general_category());
        }
    }

    #[test]
    fn invisible_separators_and_format_characters_in_a_summary_are_shown() {
        // The attack (issue 28, finding 8): U+2028/U+2029 start a new line on phones and in
        // terminals that honour them; U+200B, U+FEFF, U+2060 and tag characters are invisible, so
        // "pay.example" and "pay\u{200b}.example" looked the same. All reached the CLI raw.
        for c in ['\u{2028}', '\u{2029}', '\u{200b}', '\u{feff}', '\u{2060}', '\u{200d}', '\u{180e}', '\u{e0041}', '\u{fff9}', '\u{ad}'] {
            assert!(is_hazard(c), "{:x}", c as u32);
            let text = format!("Sign in{c}Wire 10 000 EUR");
            assert_eq!(escape(&text), format!("Sign in\\u{{{:x}}}Wire 10 000 EUR", c as u32));
            assert_eq!(neutralise(&text), "Sign in\u{fffd}Wire 10 000 EUR");
        }
        for c in ['a', ' ', '\u{a0}', 'é', '東', '\u{1f600}', '\u{5d0}'] {
            assert!(!is_hazard(c), "{:x}", c as u32);
        }
    }

    proptest! {
        #[test]
        fn nothing_hazardous_survives(s in "\\PC*|[\\p{Cc}\\p{Cf}\\p{Zl}\\p{Zp}a\\\\]*") {
            prop_assert!(!escape(&s).chars().any(is_hazard));
            prop_assert!(!neutralise(&s).chars().any(is_hazard));
            prop_assert_eq!(neutralise(&s).chars().count(), s.chars().count());
            // Escaping is reversible: every backslash in the output starts an escape.
            let e = escape(&s);
            let mut it = e.chars();
            let mut back = String::new();
            while let Some(c) = it.next() {
                if c != '\\' { back.push(c); continue; }
                match it.next() {
                    Some('\\') => back.push('\\'),
                    Some('u') => {
                        let hex: String = it.by_ref().skip(1).take_while(|c| *c != '}').collect();
                        back.push(char::from_u32(u32::from_str_radix(&hex, 16).unwrap()).unwrap());
                    }
                    other => prop_assert!(false, "stray escape {:?}", other),
                }
            }
            prop_assert_eq!(back, s);
        }
    }
}
