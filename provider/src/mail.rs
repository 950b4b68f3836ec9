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
        let bad = |why: &str| ProviderError::Usage(format!("--smtp {url:?}: {why}"));
        let rest = url.strip_prefix("smtp://").ok_or_else(|| bad("expected smtp://HOST[:PORT] (plain SMTP to a relay on this host)"))?;
        let rest = rest.trim_end_matches('/');
        let (host, port) = match rest.rsplit_once(':') {
            Some((h, p)) if !h.ends_with(']') || h.starts_with('[') => (h, p.parse().map_err(|_| bad("the port is not a number"))?),
            _ => (rest, 25),
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let loopback = host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|a| a.is_loopback());
        if !loopback {
            return Err(bad("the message carries the activation password, so it goes by plain SMTP to a relay on this host only (127.0.0.1, ::1 or localhost)"));
        }
        Ok(Delivery::Smtp { host: host.to_string(), port })
    }
}

/// The activation e-mail for `issued`, from `from` to `to`.
pub fn activation_message(from: &str, to: &str, issued: &Issued) -> Result<lettre::Message> {
    let mailbox = |a: &str, what: &str| a.parse::<Mailbox>().map_err(|e| ProviderError::Mail(format!("{what} address {a:?}: {e}")));
    let png = softtoken_core::qr::png(&issued.uri, 6)?;
    let expires = crate::web_time(issued.expires_at);
    let link_text = issued.link.as_deref().map(|l| format!("\nOn the phone with softtoken, open this link instead of scanning:\n{l}\n")).unwrap_or_default();
    let text = format!(
        "Your soft token is ready to activate.\n\n\
         1. Open softtoken and scan the QR code in this message.\n\
         2. Type the activation password: {password}\n\
         3. Type the registration code the app shows into Complete in the portal.\n\n\
         Serial number: {serial}\nThe QR code and password are valid until {expires}.\n{link_text}\n\
         If you did not ask for a token, tell your administrator.\n",
        password = issued.password,
        serial = issued.serial,
    );
    let esc = crate::web_escape;
    let link_html = issued
        .link
        .as_deref()
        .map(|l| format!("<p>On the phone with softtoken, open this link instead of scanning:<br><a href=\"{0}\">{0}</a></p>", esc(l)))
        .unwrap_or_default();
    let html = format!(
        "<!doctype html><html><body><p>Your soft token is ready to activate.</p>\
         <p><img src=\"cid:activation-qr\" alt=\"Activation QR code\" width=\"300\"></p>\
         <p>Activation password: <b>{password}</b></p><p>Serial number: {serial}<br>Valid until {expires}.</p>{link_html}\
         <p>Then type the registration code the app shows into <i>Complete</i> in the portal.</p></body></html>",
        password = esc(&issued.password),
        serial = esc(&issued.serial),
        expires = esc(&expires),
    );
    let body = MultiPart::related()
        .multipart(MultiPart::alternative().singlepart(SinglePart::plain(text)).singlepart(SinglePart::html(html)))
        .singlepart(Attachment::new_inline("activation-qr".into()).body(png, ContentType::parse("image/png").expect("a valid type")));
    lettre::Message::builder()
        .from(mailbox(from, "from")?)
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
    use std::io::Write;
    let io = |e: std::io::Error| ProviderError::Mail(format!("outbox {}: {e}", dir.display()));
    std::fs::create_dir_all(dir).map_err(io)?;
    let path = dir.join(format!("{name}.eml"));
    let temp = dir.join(format!(".{name}.eml.tmp"));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&temp).map_err(io)?;
    file.write_all(bytes).and_then(|()| file.sync_all()).map_err(io)?;
    std::fs::rename(&temp, &path).map_err(io)?;
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
}
