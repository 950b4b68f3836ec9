//! Text as the portal's pages and e-mails show it.

/// Text for HTML (portal pages, e-mails): control and bidi characters neutralised, then `&<>"'`
/// escaped.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in softtoken_core::text::neutralise(text).chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A moment shown in the portal: `<time datetime="{iso}" data-unix="{unix}">{text}</time>`; the
/// portal's script rewrites the text in the viewer's time zone (the text is UTC without it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stamp {
    /// Unix seconds.
    pub unix: u64,
    /// RFC 3339, UTC (`2026-12-03T07:45:00Z`).
    pub iso: String,
    /// As [`time`] writes it.
    pub text: String,
}

/// The [`Stamp`] of a Unix time.
pub fn stamp(unix: u64) -> Stamp {
    let iso = i64::try_from(unix)
        .ok()
        .and_then(|t| time::OffsetDateTime::from_unix_timestamp(t).ok())
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_default();
    Stamp { unix, iso, text: time(unix) }
}

/// A Unix time as people read it in the portal and e-mails (`Thu, 03 Dec 2026 07:45:00 GMT`).
pub fn time(unix: u64) -> String {
    httpdate::fmt_http_date(std::time::UNIX_EPOCH + std::time::Duration::from_secs(unix))
}

#[cfg(test)]
mod stamp_tests {
    #[test]
    fn a_stamp_carries_the_rfc3339_moment_for_the_viewers_clock() {
        let s = super::stamp(1_796_283_900);
        assert_eq!(s.iso, "2026-12-03T07:45:00Z");
        assert_eq!(s.text, "Thu, 03 Dec 2026 07:45:00 GMT");
    }
}
