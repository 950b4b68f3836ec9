//! Deep links (what a phone's link handler or `softtoken open` receives): what one holds, previewed
//! before anything is stored. Both shells show this preview; the texts in it come from the link
//! and are raw (each shell neutralises them for its display).

use softtoken_core::identity::IdentityKind;
use softtoken_core::link::{classify, Link};
use softtoken_core::uri::OtpKind;
use softtoken_core::Result;

/// What a deep link holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkPreview {
    /// An Entrust activation QR link: ask for its password, then `begin_qr_activation`.
    Activation {
        /// The link's scheme (`igmobileotp` unless the issuer changed it).
        scheme: String,
    },
    /// One otpauth token: store it with `import_uris`.
    Token {
        /// Service.
        issuer: Option<String>,
        /// Account.
        account: String,
        /// Its kind: `Totp`, `Hotp` or `Steam`.
        kind: IdentityKind,
        /// Code length.
        digits: u8,
    },
    /// An online activation link: confirm with the user, then `activate_link`.
    OnlineActivation {
        /// The provider's host.
        provider: String,
        /// The provider's address.
        base_url: String,
    },
    /// One QR code of a Google Authenticator export: store it with `import_uris`.
    GoogleExport {
        /// The tokens' labels.
        names: Vec<String>,
        /// This code's index (0-based).
        batch_index: u32,
        /// Codes in the export.
        batch_size: u32,
    },
}

/// Recognises a deep link and says what it holds; nothing is stored, no secret is returned.
pub fn preview_link(link: &str) -> Result<LinkPreview> {
    Ok(match classify(link)? {
        Link::SecActivate(u) => LinkPreview::Activation { scheme: u.scheme },
        Link::Otpauth(u) => LinkPreview::Token {
            issuer: u.issuer.clone(),
            account: u.account.clone(),
            kind: match u.kind {
                OtpKind::Totp { .. } => IdentityKind::Totp,
                OtpKind::Hotp { .. } => IdentityKind::Hotp,
                OtpKind::Steam => IdentityKind::Steam,
            },
            digits: u.digits,
        },
        Link::OnlineActivation(l) => LinkPreview::OnlineActivation {
            provider: softtoken_core::activation::provider_from_url(&l.base_url).unwrap_or_default(),
            base_url: l.base_url.clone(),
        },
        Link::Migration(p) => {
            LinkPreview::GoogleExport { names: p.items.iter().map(|(label, _)| label.clone()).collect(), batch_index: p.batch_index, batch_size: p.batch_size }
        }
    })
}
