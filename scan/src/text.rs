//! The text of a QR symbol's bytes when the symbol names no character set (no ECI):
//! UTF-8, else Shift-JIS (byte mode in Japanese symbols), else ISO-8859-1 (the QR default).

/// Decodes a symbol's data bytes as UTF-8, else Shift-JIS, else ISO-8859-1 (which never fails).
pub fn decode_text(bytes: &[u8]) -> String {
    if let Ok(s) = std::str::from_utf8(bytes) {
        return s.to_owned();
    }
    if let Some(s) = encoding_rs::SHIFT_JIS.decode_without_bom_handling_and_without_replacement(bytes) {
        return s.into_owned();
    }
    bytes.iter().map(|&b| b as char).collect()
}

#[cfg(test)]
mod tests {
    use super::decode_text;

    #[test]
    fn utf8_first() {
        assert_eq!(decode_text("otpauth://totp/Ä?secret=A".as_bytes()), "otpauth://totp/Ä?secret=A");
    }

    #[test]
    fn shift_jis_when_not_utf8() {
        // "テスト" in Shift-JIS.
        assert_eq!(decode_text(&[0x83, 0x65, 0x83, 0x58, 0x83, 0x67]), "テスト");
    }

    #[test]
    fn iso_8859_1_when_nothing_else_fits() {
        // "café" in Latin-1: a lone 0xE9 at the end is neither UTF-8 nor Shift-JIS.
        assert_eq!(decode_text(&[b'c', b'a', b'f', 0xE9]), "café");
        assert_eq!(decode_text(&[b'a', 0xA0]), "a\u{a0}");
    }
}
