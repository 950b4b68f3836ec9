//! The enrollment link of a push token: `otpauth://pipush/LABEL?…` or `pia://pipush/LABEL?…`
//! (privacyIDEA), `edumfa-push://edumfa/LABEL?…` (eduMFA), with `url`, `ttl`, `issuer`,
//! `enrollment_credential`, `v`, `serial`, `sslverify` and optionally `poll_only`, `pin`,
//! `app_force_unlock`, `image`. Each value is percent-decoded exactly once.

use super::Server;
use crate::error::{Error, Result};
use percent_encoding::percent_decode_str;

/// The only crypto version of the links (`v=1`).
pub const VERSION: &str = "1";
/// Longest link read.
const MAX_LINK: usize = 4096;
/// Longest `ttl` honoured, in minutes (a week).
const MAX_TTL_MIN: u64 = 7 * 24 * 60;

/// What a push enrollment link says.
#[derive(Clone, PartialEq, Eq)]
pub struct PushEnrollment {
    /// privacyIDEA or eduMFA.
    pub server: Server,
    /// The label (the server's `tokenlabel` policy; the serial by default).
    pub label: String,
    /// The token's serial at the server.
    pub serial: String,
    /// Where enrollment step 2 goes, and later polls and answers.
    pub url: String,
    /// Minutes within which step 2 must be done (the server does not enforce it; the app does).
    pub ttl_min: u64,
    /// The issuer, if given.
    pub issuer: Option<String>,
    /// The one-time credential that authorises step 2 (hex). Redacted in Debug.
    pub enrollment_credential: String,
    /// `sslverify`: false when the server asks the phone not to check its certificate.
    pub sslverify: bool,
    /// `poll_only=True`: the server sends no Firebase wake-ups (absent for eduMFA).
    pub poll_only: Option<bool>,
    /// `pin=True` or `app_force_unlock`: the server wants the app locked by a PIN.
    pub wants_app_lock: bool,
}

impl std::fmt::Debug for PushEnrollment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PushEnrollment")
            .field("server", &self.server)
            .field("label", &self.label)
            .field("serial", &self.serial)
            .field("url", &self.url)
            .field("ttl_min", &self.ttl_min)
            .field("issuer", &self.issuer)
            .field("enrollment_credential", &"[redacted]")
            .field("sslverify", &self.sslverify)
            .finish_non_exhaustive()
    }
}

fn bad(why: impl Into<String>) -> Error {
    Error::MalformedUri(why.into())
}

/// The scheme-and-host prefixes of push links, and whose they are.
const PREFIXES: [(&str, Server); 3] =
    [("otpauth://pipush/", Server::PrivacyIdea), ("pia://pipush/", Server::PrivacyIdea), ("edumfa-push://edumfa/", Server::EduMfa)];

/// True when `text` is a push enrollment link (of either server).
pub fn is_push_link(text: &str) -> bool {
    let t = text.trim();
    PREFIXES.iter().any(|(p, _)| t.get(..p.len()).is_some_and(|h| h.eq_ignore_ascii_case(p)))
}

fn decode(value: &str, what: &str) -> Result<String> {
    percent_decode_str(&value.replace('+', " ")).decode_utf8().map(|s| s.into_owned()).map_err(|_| bad(format!("{what} is not valid percent-encoded UTF-8")))
}

fn check_serial(serial: &str) -> Result<()> {
    if serial.is_empty() || serial.len() > 64 || !serial.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)) {
        return Err(bad(format!("the serial {:?} is not 1 to 64 letters, digits, '-', '_' or '.'", crate::text::neutralise(serial))));
    }
    Ok(())
}

/// The host (and port) of a checked URL.
pub fn host_of(url: &str) -> &str {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    rest.split('/').next().unwrap_or(rest)
}

impl PushEnrollment {
    /// Parses a push enrollment link.
    pub fn parse(text: &str) -> Result<Self> {
        let text = text.trim();
        if text.len() > MAX_LINK {
            return Err(Error::TooLarge { what: "push enrollment link (characters)", found: text.len() as u64, limit: MAX_LINK as u64 });
        }
        let (prefix, server) = PREFIXES
            .iter()
            .find(|(p, _)| text.get(..p.len()).is_some_and(|h| h.eq_ignore_ascii_case(p)))
            .ok_or_else(|| bad("not a push enrollment link (otpauth://pipush/, pia://pipush/ or edumfa-push://edumfa/)"))?;
        let rest = text[prefix.len()..].split('#').next().unwrap_or("");
        let (raw_label, query) = rest.split_once('?').unwrap_or((rest, ""));
        let label = decode(raw_label, "the label")?.trim().to_string();

        let mut values: Vec<(String, String)> = Vec::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let key = decode(k, "a parameter name")?.to_ascii_lowercase();
            if values.iter().any(|(k, _)| *k == key) {
                return Err(bad(format!("parameter {key} appears twice")));
            }
            values.push((key.clone(), decode(v, &key)?));
        }
        let get = |k: &str| values.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str());
        let need = |k: &str| get(k).filter(|v| !v.is_empty()).ok_or_else(|| bad(format!("the push enrollment link has no {k}")));

        let version = need("v")?;
        if version != VERSION {
            return Err(Error::UnsupportedVersion(version.to_string()));
        }
        let serial = need("serial")?.to_string();
        check_serial(&serial)?;
        let url = crate::link::check_base_url(need("url")?)?;
        let credential = need("enrollment_credential")?.to_string();
        if credential.len() > 256 || !credential.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(bad("the enrollment credential is not 1 to 256 letters and digits"));
        }
        let ttl_min = match get("ttl") {
            None | Some("") => 10,
            Some(t) => t.trim().parse::<u64>().map_err(|_| bad(format!("ttl {t:?} is not a whole number of minutes")))?.min(MAX_TTL_MIN),
        };
        let flag = |k: &str| -> Result<Option<bool>> {
            match get(k) {
                None => Ok(None),
                Some(v) if v == "1" || v.eq_ignore_ascii_case("true") => Ok(Some(true)),
                Some(v) if v == "0" || v.eq_ignore_ascii_case("false") => Ok(Some(false)),
                Some(v) => Err(bad(format!("{k}={:?} is neither 0/1 nor True/False", crate::text::neutralise(v)))),
            }
        };
        let sslverify = flag("sslverify")?.unwrap_or(true);
        let poll_only = flag("poll_only")?;
        let wants_app_lock = flag("pin")?.unwrap_or(false) || get("app_force_unlock").is_some_and(|v| !v.is_empty());
        let issuer = get("issuer").map(|i| i.trim().to_string()).filter(|i| !i.is_empty());
        let label = if label.is_empty() { serial.clone() } else { label };
        crate::identity::check_name(&label).map_err(|_| bad("the label is longer than 64 characters or holds control characters"))?;
        Ok(PushEnrollment { server: *server, label, serial, url, ttl_min, issuer, enrollment_credential: credential, sslverify, poll_only, wants_app_lock })
    }

    /// The Unix time after which step 2 may no longer be sent for a link read at `read_at`.
    pub fn deadline(&self, read_at: u64) -> u64 {
        read_at.saturating_add(self.ttl_min * 60)
    }

    /// Whether TLS certificates are checked for this token. A link that turns checks off
    /// (`sslverify=0`) for an https server off this machine is refused unless the user says so
    /// (`allow_unverified`); plain http is only ever accepted on loopback.
    pub fn tls_verify(&self, allow_unverified: bool) -> Result<bool> {
        if self.sslverify || !self.url.to_ascii_lowercase().starts_with("https://") {
            return Ok(true);
        }
        if allow_unverified {
            return Ok(false);
        }
        Err(Error::PushProtocol(format!(
            "the enrollment link asks not to check {}'s TLS certificate (sslverify=0): anyone on the network path could then read and answer your sign-ins. \
             Refused; if your administrator confirms this server has no valid certificate, enroll again allowing unverified TLS",
            host_of(&self.url)
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) const OBSERVED: &str = "otpauth://pipush/PIPU0000A0F8?url=http%3A//127.0.0.1%3A55689/ttype/push&ttl=10&issuer=privacyIDEA&enrollment_credential=93884ac3cea1f64e802715ca22ae92197e3e32c4&v=1&serial=PIPU0000A0F8&sslverify=0&poll_only=True";

    #[test]
    fn the_observed_link_reads_exactly() {
        let e = PushEnrollment::parse(OBSERVED).unwrap();
        assert_eq!(e.server, Server::PrivacyIdea);
        assert_eq!((e.label.as_str(), e.serial.as_str(), e.url.as_str()), ("PIPU0000A0F8", "PIPU0000A0F8", "http://127.0.0.1:55689/ttype/push"));
        assert_eq!((e.ttl_min, e.issuer.as_deref(), e.sslverify, e.poll_only), (10, Some("privacyIDEA"), false, Some(true)));
        assert!(!format!("{e:?}").contains("93884ac3"), "the credential is redacted");
        assert!(e.tls_verify(false).unwrap(), "plain http on loopback: nothing to verify");
        let pia = PushEnrollment::parse(&OBSERVED.replace("otpauth://pipush/PIPU0000A0F8", "pia://pipush/judy%40pirealm%20%23PIPU0000A0F8")).unwrap();
        assert_eq!(pia.label, "judy@pirealm #PIPU0000A0F8");
        let issuer = PushEnrollment::parse(&OBSERVED.replace("issuer=privacyIDEA", "issuer=PI%20Test%20%26%20Co/x")).unwrap();
        assert_eq!(issuer.issuer.as_deref(), Some("PI Test & Co/x"));
        let edu = PushEnrollment::parse(&OBSERVED.replace("otpauth://pipush/", "edumfa-push://edumfa/").replace("&poll_only=True", "")).unwrap();
        assert_eq!((edu.server, edu.poll_only), (Server::EduMfa, None));
        assert_eq!(e.deadline(1000), 1600);
    }

    #[test]
    fn every_bad_link_has_its_own_error() {
        let e = |u: String| PushEnrollment::parse(&u).unwrap_err().to_string();
        assert_eq!(e(OBSERVED.replace("v=1", "v=2")), "unsupported activation URI version \"2\" (softtoken reads v=1)");
        assert!(e(OBSERVED.replace("&v=1", "")).contains("has no v"));
        assert!(e(OBSERVED.replace("&serial=PIPU0000A0F8", "")).contains("has no serial"));
        assert!(e(OBSERVED.replace("enrollment_credential=", "x=")).contains("has no enrollment_credential"));
        assert!(e(OBSERVED.replace("url=http%3A//127.0.0.1", "url=http%3A//10.1.2.3")).contains("plain http"));
        assert!(e(OBSERVED.replace("ttl=10", "ttl=soon")).contains("ttl \"soon\""));
        assert!(e(OBSERVED.replace("sslverify=0", "sslverify=maybe")).contains("sslverify="));
        assert!(e(OBSERVED.replace("&ttl=10", "&ttl=10&ttl=1")).contains("appears twice"));
        assert!(e(OBSERVED.replace("serial=PIPU0000A0F8", "serial=PI%0APU")).contains("serial"));
        assert!(e(format!("{OBSERVED}&x={}", "a".repeat(5000))).contains("more than the 4096"));
        assert!(e("otpauth://totp/x?secret=AAAA".into()).contains("not a push enrollment link"));
    }

    #[test]
    fn sslverify_off_for_a_remote_https_server_needs_the_users_word() {
        let remote = PushEnrollment::parse(&OBSERVED.replace("http%3A//127.0.0.1%3A55689", "https%3A//pi.example.org")).unwrap();
        let refused = remote.tls_verify(false).unwrap_err().to_string();
        assert!(refused.contains("sslverify=0") && refused.contains("pi.example.org"), "{refused}");
        assert!(!remote.tls_verify(true).unwrap());
        let checked =
            PushEnrollment::parse(&OBSERVED.replace("http%3A//127.0.0.1%3A55689", "https%3A//pi.example.org").replace("sslverify=0", "sslverify=1")).unwrap();
        assert!(checked.tls_verify(false).unwrap());
    }
}
