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

/// A Unix time as people read it in the portal and e-mails (`Thu, 03 Dec 2026 07:45:00 GMT`).
pub fn time(unix: u64) -> String {
    httpdate::fmt_http_date(std::time::UNIX_EPOCH + std::time::Duration::from_secs(unix))
}
