//! Text from outside (a transaction's summary and details, a provider's message, an issuer, a
//! token's name, a policy value) made safe to show a person.
//!
//! A website controls what a push transaction says. Shown raw, `ESC[2A ESC[2K CR` rewrites the
//! line the user is about to approve on a terminal, a newline forges a line of its own, and bidi
//! overrides (U+202E) reorder what a phone displays ("…moc.knab" shown as "bank.com…"). The
//! characters that can do this are C0 controls, DEL, C1 controls, and the bidi embedding,
//! override and isolate marks (U+202A–U+202E, U+2066–U+2069) plus the implicit marks U+200E,
//! U+200F and U+061C. Two treatments, at the display boundary only (the stored and MACed text
//! stays verbatim):
//! - [`escape`] (terminals): each such character becomes a visible `\u{…}` escape, and `\` itself
//!   becomes `\\`, so the output is unambiguous.
//! - [`neutralise`] (phone UIs, through the FFI): each becomes U+FFFD, the replacement mark, so
//!   the user sees that something was there and nothing is reordered.

use std::borrow::Cow;

/// True for a character that can move the cursor, forge a line or reorder displayed text.
pub fn is_hazard(c: char) -> bool {
    matches!(c, '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{061c}')
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

    proptest! {
        #[test]
        fn nothing_hazardous_survives(s in "\\PC*|[\\x00-\\x1f\\x7f-\\x9f\u{202a}-\u{202e}\u{2066}-\u{2069}a\\\\]*") {
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
