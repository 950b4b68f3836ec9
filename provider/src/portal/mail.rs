//! The activation e-mail (*Send Email* in the portal): the QR code inline, the password, the
//! online activation link for phones. Delivered by SMTP to a relay on this host (`--smtp`), or
//! written as `.eml` files into an outbox directory (`--outbox`) when none is configured.
//!
//! SMTP is plain, so it is accepted to loopback relays only: the message carries the activation
//! password. The local relay (Postfix, Exim…) does the TLS onward; TLS to a remote relay is not
//! built.

use crate::{Issued, ProviderError, Result};
use lettre::message::{header::ContentType, Attachment, Mailbox, MultiPart, SinglePart};
use std::path::{Path, PathBuf};

/// Where activation e-mails go.
#[derive(Debug, Clone)]
pub enum Delivery {
    /// `.eml` files written (0600, atomically) into this directory.
    Outbox(PathBuf),
    /// A relay on this host, `smtp://127.0.0.1:25`.
    Smtp {
        /// Its loopback address.
        host: String,
        /// Its port.
        port: u16,
    },
}

impl Delivery {
    /// Parses `--smtp smtp://HOST[:PORT]` (loopback hosts only).
    pub fn smtp(url: &str) -> Result<Delivery> {
        let bad = |why: &str| ProviderError::Invalid(format!("--smtp {url:?}: {why}"));
        let rest = url.strip_prefix("smtp://").ok_or_else(|| bad("expected smtp://HOST[:PORT] (plain SMTP to a relay on this host)"))?;
        let rest = rest.trim_end_matches('/');
        let (host, port) = match rest.rsplit_once(':') {
            Some((h, p)) if !h.ends_with(']') || h.starts_with('[') => (h, p.parse().map_err(|_| bad("the port is not a number"))?),
            _ => (rest, 25),
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let loopback = host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|a| a.is_loopback());
        if !loopback {
            return Err(bad(
                "the message carries the activation password, so it goes by plain SMTP to a relay on this host only (127.0.0.1, ::1 or localhost)",
            ));
        }
        Ok(Delivery::Smtp { host: host.to_string(), port })
    }
}

/// The e-mail's plain-text part (not escaped: it is text).
#[derive(askama::Template)]
#[template(path = "mail/activation.txt", escape = "none")]
struct ActivationText<'a> {
    password: &'a str,
    serial: &'a str,
    expires: &'a str,
    minutes: u64,
    link: Option<&'a str>,
}

/// The e-mail's HTML part (escaped).
#[derive(askama::Template)]
#[template(path = "mail/activation.html")]
struct ActivationHtml<'a> {
    password: &'a str,
    serial: &'a str,
    expires: &'a str,
    minutes: u64,
    link: Option<&'a str>,
}

/// The activation e-mail for `issued`, from `from` to `to`, written at `now` (its lifetime is the
/// one the portal's dialog counts down). The online link goes in its https form: mail clients
/// drop links of schemes they do not know, and the provider's `/activate` page opens the app.
pub fn activation_message(from: &str, to: &str, issued: &Issued, now: u64) -> Result<lettre::Message> {
    let mailbox = |a: &str, what: &str| a.parse::<Mailbox>().map_err(|e| ProviderError::Mail(format!("{what} address {a:?}: {e}")));
    let from = mailbox(from, "from")?;
    let png = softtoken_core::qr::png(&issued.uri, 6)?;
    let expires = super::html::time(issued.expires_at);
    let minutes = issued.expires_at.saturating_sub(now).div_ceil(60);
    let fields = |t: &dyn askama::DynTemplate| t.dyn_render().map_err(|e| ProviderError::Mail(format!("message: {e}")));
    let https = issued.link.as_deref().map(softtoken_core::link::OnlineActivationLink::parse).transpose()?.map(|l| l.https_form());
    let (password, serial, link) = (issued.password.as_str(), issued.serial.as_str(), https.as_deref());
    let text = fields(&ActivationText { password, serial, expires: &expires, minutes, link })?;
    let html = fields(&ActivationHtml { password, serial, expires: &expires, minutes, link })?;
    // A unique Message-ID at the sender's domain (RFC 5322 §3.6.4); some filters reject mail without.
    let mut unique = [0u8; 16];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut unique)
        .map_err(|_| ProviderError::Mail("no randomness for the Message-ID".into()))?;
    let message_id = format!("<{}.{}@{}>", softtoken_core::secret::hex_encode(&unique), issued.serial, from.email.domain());
    let body = MultiPart::related()
        .multipart(MultiPart::alternative().singlepart(SinglePart::plain(text)).singlepart(SinglePart::html(html)))
        .singlepart(Attachment::new_inline("activation-qr".into()).body(png, ContentType::parse("image/png").expect("a valid type")));
    lettre::Message::builder()
        .message_id(Some(message_id))
        .from(from)
        .to(mailbox(to, "recipient")?)
        .subject("Activate your soft token")
        .multipart(body)
        .map_err(|e| ProviderError::Mail(e.to_string()))
}

/// Sends or files `message`; returns where it went (the outbox file, or the relay).
pub fn deliver(delivery: &Delivery, message: &lettre::Message, name: &str) -> Result<String> {
    match delivery {
        Delivery::Outbox(dir) => write_outbox(dir, name, &message.formatted()),
        Delivery::Smtp { host, port } => {
            use lettre::Transport;
            let transport = lettre::SmtpTransport::builder_dangerous(host.as_str()).port(*port).timeout(Some(std::time::Duration::from_secs(20))).build();
            transport.send(message).map_err(|e| ProviderError::Mail(format!("the relay {host}:{port} did not take the message: {e}")))?;
            Ok(format!("smtp://{host}:{port}"))
        }
    }
}

/// Writes `bytes` as `DIR/NAME.eml`: a temporary file (0600) synced, then renamed.
fn write_outbox(dir: &Path, name: &str, bytes: &[u8]) -> Result<String> {
    let io = |e: std::io::Error| ProviderError::Mail(format!("outbox {}: {e}", dir.display()));
    std::fs::create_dir_all(dir).map_err(io)?;
    let path = dir.join(format!("{name}.eml"));
    crate::files::replace("outbox message", &path, bytes).map_err(|e| ProviderError::Mail(e.to_string()))?;
    Ok(path.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_relays_are_accepted() {
        assert!(matches!(Delivery::smtp("smtp://127.0.0.1:2525").unwrap(), Delivery::Smtp { port: 2525, .. }));
        assert!(matches!(Delivery::smtp("smtp://localhost").unwrap(), Delivery::Smtp { port: 25, .. }));
        assert!(matches!(Delivery::smtp("smtp://[::1]:25").unwrap(), Delivery::Smtp { port: 25, .. }));
        assert!(Delivery::smtp("smtp://mail.example.com:25").is_err());
        assert!(Delivery::smtp("http://127.0.0.1").is_err());
    }

    #[test]
    fn the_activation_message_carries_the_password_the_qr_code_and_the_escaped_link() {
        let issued = Issued {
            serial: "48244-13456".into(),
            activation_code: "1745-7845-1300-3".into(),
            password: "73193487".into(),
            uri: "otpauth://totp/x?secret=GEZDGNBV".into(),
            expires_at: 1_000,
            link: Some("softtoken://activate?base=https%3A%2F%2Fidp.example.com&token=0123456789abcdef0123456789abcdef".into()),
            transaction_url: None,
            digits: 6,
            manual_possible: false,
        };
        let message = activation_message("portal@example.com", "user@example.com", &issued, 1_000 - 300).unwrap();
        // Quoted-printable undone: soft line breaks joined, `=3D` back to `=`.
        let text = String::from_utf8(message.formatted()).unwrap().replace("=\r\n", "").replace("=3D", "=");
        assert!(text.contains("Subject: Activate your soft token"), "{text}");
        assert!(text.contains("73193487") && text.contains("48244-13456"), "{text}");
        assert!(text.contains("Content-ID: <activation-qr>") && text.contains("image/png"), "{text}");
        // The link is the https form (mail clients drop softtoken:// links), the lifetime the
        // portal's, and the message has its own Message-ID at the sender's domain.
        assert!(text.contains("https://idp.example.com/activate#token=0123456789abcdef0123456789abcdef"), "{text}");
        assert!(!text.contains("softtoken://"), "{text}");
        assert!(text.contains("valid for 5 minutes"), "{text}");
        let id_line = text.lines().find(|l| l.starts_with("Message-ID: <")).unwrap_or_else(|| panic!("no Message-ID: {text}"));
        assert!(id_line.ends_with(".48244-13456@example.com>"), "{id_line}");
        let again = String::from_utf8(activation_message("portal@example.com", "user@example.com", &issued, 700).unwrap().formatted()).unwrap();
        let id_line = id_line.replace("=3D", "=");
        assert!(!again.contains(&id_line), "every message has its own id");
        assert!(!text.contains("1745-7845-1300-3"), "the activation code is not in the e-mail: {text}");
        assert!(activation_message("portal@example.com", "not an address", &issued, 700).is_err());
    }
}
