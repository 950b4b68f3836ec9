//! Deep links: what a phone's link handler receives. [`classify`] routes a link to its flow; every
//! flow shows a preview before anything is stored.

use crate::entrust::{self, SecActivateUri};
use crate::error::{Error, Result};
use crate::uri::{migration, OtpAuth};

/// A recognised link.
#[derive(Debug)]
pub enum Link {
    /// An Entrust activation QR link (needs its password).
    SecActivate(SecActivateUri),
    /// One otpauth token.
    Otpauth(OtpAuth),
    /// A Google Authenticator export (one QR code of a batch).
    Migration(migration::MigrationPart),
    /// An online activation link from an email (`docs/protocol.md` §6).
    OnlineActivation(OnlineActivationLink),
}

/// `softtoken://activate?base=<percent-encoded base URL>&token=<32 hex digits>`.
#[derive(Clone, PartialEq, Eq)]
pub struct OnlineActivationLink {
    /// The provider's base URL (https, or http on a loopback address), without a trailing slash.
    pub base_url: String,
    /// The single-use activation token: whoever holds it can activate, so Debug redacts it.
    pub token: String,
}

impl std::fmt::Debug for OnlineActivationLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OnlineActivationLink").field("base_url", &self.base_url).field("token", &"[redacted]").finish()
    }
}

const ONLINE_PREFIX: &str = "softtoken://activate?";

/// Characters escaped in the `base` parameter: everything but unreserved ones.
const QUERY_VALUE: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// Checks a provider base URL: https, or plain http only to a loopback host (the protocol's rule);
/// returns it without a trailing slash.
pub fn check_base_url(url: &str) -> Result<String> {
    let bad = |why: &str| Err(Error::MalformedUri(format!("the provider address {url:?} {why}")));
    let url = url.trim().trim_end_matches('/');
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(Error::MalformedUri("the provider address contains spaces or control characters".into()));
    }
    let Some((scheme, rest)) = url.split_once("://") else { return bad("is not an https URL") };
    let https = match scheme.to_ascii_lowercase().as_str() {
        "https" => true,
        "http" => false,
        _ => return bad("is not an https URL"),
    };
    // Strict on purpose: whatever a URL parser could read two ways (user info, a backslash that
    // WHATWG parsers take for '/', percent-escapes in the host) is refused, so the host checked
    // here is the host the HTTP client connects to.
    if rest.contains(['\\', '@', '?', '#', '%']) {
        return bad("has user info, a backslash, a query, a fragment or an escape");
    }
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    if !path.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~/".contains(&b)) {
        return bad("has characters outside letters, digits and -._~/ in its path");
    }
    let (host, port) = match authority.strip_prefix('[') {
        Some(v6) => match v6.split_once(']') {
            Some((h, p)) if h.parse::<std::net::Ipv6Addr>().is_ok() => (h, p),
            _ => return bad("has a malformed IPv6 address"),
        },
        None => match authority.find(':') {
            Some(i) => (&authority[..i], &authority[i..]),
            None => (authority, ""),
        },
    };
    if host.is_empty() || (!authority.starts_with('[') && !host.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')) {
        return bad("has no valid host");
    }
    if !port.is_empty()
        && !port.strip_prefix(':').is_some_and(|p| !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()) && p.parse::<u16>().is_ok())
    {
        return bad("has an invalid port");
    }
    if !https {
        let loopback = host.eq_ignore_ascii_case("localhost") || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
        if !loopback {
            return Err(Error::MalformedUri(format!("the provider address {url:?} is plain http: only https is accepted (http only on loopback)")));
        }
    }
    Ok(url.to_string())
}

/// The https form of an online activation link: `{base}/activate#token={token}`. Mail clients
/// keep https links (they drop unknown schemes); the token rides in the fragment, which browsers
/// never send to a server, and the provider's `/activate` page hands it to the app.
pub const HTTPS_LINK_MARK: &str = "/activate#token=";

impl OnlineActivationLink {
    /// Whether `text` looks like an online activation link (either form).
    pub fn matches(text: &str) -> bool {
        let t = text.trim();
        t.get(..ONLINE_PREFIX.len()).is_some_and(|p| p.eq_ignore_ascii_case(ONLINE_PREFIX)) || Self::split_https(t).is_some()
    }

    fn split_https(t: &str) -> Option<(&str, &str)> {
        let (base, token) = t.split_once(HTTPS_LINK_MARK)?;
        let scheme = base.split_once("://")?.0;
        (scheme.eq_ignore_ascii_case("https") || scheme.eq_ignore_ascii_case("http")).then_some((base, token))
    }

    /// The https form ([`HTTPS_LINK_MARK`]), for e-mails.
    pub fn https_form(&self) -> String {
        format!("{}{HTTPS_LINK_MARK}{}", self.base_url, self.token)
    }

    /// Parses and checks a link (`softtoken://activate?base=…&token=…`, or its https form).
    pub fn parse(text: &str) -> Result<Self> {
        let t = text.trim();
        if let Some((base, token)) = Self::split_https(t) {
            if !crate::secret::is_lower_hex(token, 32) {
                return Err(Error::MalformedUri("activation link: the token must be 32 lowercase hex digits (was the link cut?)".into()));
            }
            return Ok(OnlineActivationLink { base_url: check_base_url(base)?, token: token.to_string() });
        }
        if !Self::matches(t) {
            return Err(Error::MalformedUri("not an online activation link (softtoken://activate?…)".into()));
        }
        let (mut base, mut token) = (None, None);
        for pair in t[ONLINE_PREFIX.len()..].split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let v = percent_encoding::percent_decode_str(v)
                .decode_utf8()
                .map_err(|_| Error::MalformedUri(format!("activation link: {k} is not UTF-8")))?
                .into_owned();
            match k {
                "base" => base = Some(v),
                "token" => token = Some(v),
                _ => {}
            }
        }
        let base = base.ok_or_else(|| Error::MalformedUri("activation link without base (the provider address)".into()))?;
        let token = token.ok_or_else(|| Error::MalformedUri("activation link without token".into()))?;
        if !crate::secret::is_lower_hex(&token, 32) {
            return Err(Error::MalformedUri("activation link: the token must be 32 lowercase hex digits (was the link cut?)".into()));
        }
        Ok(OnlineActivationLink { base_url: check_base_url(&base)?, token })
    }

    /// The link's text.
    pub fn format(&self) -> String {
        format!("{ONLINE_PREFIX}base={}&token={}", percent_encoding::utf8_percent_encode(&self.base_url, QUERY_VALUE), self.token)
    }
}

/// Recognises and parses a link.
pub fn classify(text: &str) -> Result<Link> {
    let t = text.trim();
    if entrust::is_secactivate(t) {
        return Ok(Link::SecActivate(SecActivateUri::parse(t)?));
    }
    if migration::is_migration(t) {
        return Ok(Link::Migration(migration::parse(t)?));
    }
    if OnlineActivationLink::matches(t) {
        return Ok(Link::OnlineActivation(OnlineActivationLink::parse(t)?));
    }
    if t.get(..10).is_some_and(|p| p.eq_ignore_ascii_case("otpauth://")) {
        return Ok(Link::Otpauth(OtpAuth::parse(t)?));
    }
    Err(Error::MalformedUri("not a link softtoken handles (secactivate, softtoken://activate, otpauth or otpauth-migration)".into()))
}

#[cfg(test)]
mod https_form_tests {
    use super::*;

    #[test]
    fn the_https_form_of_an_activation_link_reads_back_to_the_same_link() {
        let link = OnlineActivationLink { base_url: "https://idp.example.com/st".into(), token: "0123456789abcdef0123456789abcdef".into() };
        let https = link.https_form();
        assert_eq!(https, "https://idp.example.com/st/activate#token=0123456789abcdef0123456789abcdef");
        assert!(OnlineActivationLink::matches(&https));
        let back = OnlineActivationLink::parse(&https).unwrap();
        assert_eq!((back.base_url.as_str(), back.token.as_str()), (link.base_url.as_str(), link.token.as_str()));
        assert!(matches!(classify(&https), Ok(Link::OnlineActivation(_))));
        // A cut token, or a remote plain-http address, is refused as in the softtoken:// form.
        assert!(OnlineActivationLink::parse("https://idp.example.com/activate#token=0123").is_err());
        assert!(OnlineActivationLink::parse("http://idp.example.com/activate#token=0123456789abcdef0123456789abcdef").is_err());
        assert!(!OnlineActivationLink::matches("https://idp.example.com/portal"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        let v: serde_json::Value = serde_json::from_str(include_str!("../../fixtures/vectors/entrust.json")).unwrap();
        assert!(matches!(classify(v["secactivate"]["uri"].as_str().unwrap()).unwrap(), Link::SecActivate(_)));
        assert!(matches!(classify("otpauth://totp/a?secret=JBSWY3DP").unwrap(), Link::Otpauth(_)));
        let m = migration::format(&[OtpAuth::parse("otpauth://totp/a?secret=JBSWY3DP").unwrap()], 10, 1);
        assert!(matches!(classify(&m[0]).unwrap(), Link::Migration(_)));
        assert!(classify("https://example.com").is_err());
        let online = "softtoken://activate?base=https%3A%2F%2Fid.example.com%2Fst&token=0123456789abcdef0123456789abcdef";
        match classify(online).unwrap() {
            Link::OnlineActivation(l) => {
                assert_eq!(l.base_url, "https://id.example.com/st");
                assert_eq!(l.format(), online);
                assert!(!format!("{l:?}").contains("0123456789abcdef"));
            }
            other => panic!("{other:?}"),
        }
        assert!(classify("otpauth://totp/a").is_err());
    }
}

#[cfg(test)]
mod online_tests {
    use super::*;

    const TOKEN: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn plain_http_only_on_loopback() {
        for ok in ["https://id.example.com", "http://127.0.0.1:8080/", "http://localhost:1", "http://[::1]:80/x"] {
            assert!(check_base_url(ok).is_ok(), "{ok}");
        }
        assert_eq!(check_base_url("http://127.0.0.1:8080/").unwrap(), "http://127.0.0.1:8080");
        for bad in [
            "http://id.example.com",
            "http://127.0.0.1.example.com",
            "ftp://x",
            "https://",
            "id.example.com",
            "http://10.0.0.1",
            // The attack: a WHATWG parser (the HTTP client) reads host "evil" here, the old check
            // read 127.0.0.1 after the '@'.
            "http://evil\\@127.0.0.1",
            "http://evil@127.0.0.1",
            "https://user:pw@bank.example",
            "http://127.0.0.1%2eevil.example",
            "http://127.0.0.1:99999",
            "https://bank.example/a?x=1",
            "http://[::1",
        ] {
            assert!(matches!(check_base_url(bad), Err(Error::MalformedUri(_))), "{bad}");
        }
    }

    #[test]
    fn malformed_links_say_what_is_wrong() {
        let cut = format!("softtoken://activate?base=https%3A%2F%2Fa.example&token={}", &TOKEN[..20]);
        assert!(OnlineActivationLink::parse(&cut).unwrap_err().to_string().contains("32 lowercase hex"));
        assert!(OnlineActivationLink::parse(&format!("softtoken://activate?token={TOKEN}")).unwrap_err().to_string().contains("without base"));
        assert!(OnlineActivationLink::parse("softtoken://activate?base=https%3A%2F%2Fa.example").unwrap_err().to_string().contains("without token"));
        let http = format!("softtoken://activate?base=http%3A%2F%2Fa.example&token={TOKEN}");
        assert!(OnlineActivationLink::parse(&http).unwrap_err().to_string().contains("plain http"));
        let l = OnlineActivationLink { base_url: "http://127.0.0.1:9/a b".into(), token: TOKEN.into() };
        assert!(OnlineActivationLink::parse(&l.format()).is_err(), "spaces in the address are refused");
    }
}
