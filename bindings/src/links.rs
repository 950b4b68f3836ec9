//! Deep links: what a link holds, previewed before anything is stored.

use crate::{shown, SofttokenError};

/// What a deep link holds, shown before anything is stored.
#[derive(Debug, Clone, uniffi::Enum)]
pub enum LinkPreview {
    /// An Entrust activation QR link: ask for its password, then `begin_qr_activation`.
    Activation {
        /// The link's scheme (`igmobileotp` unless the issuer changed it).
        scheme: String,
    },
    /// One otpauth token: store it with `import_link`.
    Token {
        /// Service.
        issuer: Option<String>,
        /// Account.
        account: String,
        /// `totp`, `hotp` or `steam`.
        kind: String,
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
    /// One QR code of a Google Authenticator export: store it with `import_link`.
    GoogleExport {
        /// The tokens' labels.
        names: Vec<String>,
        /// This code's index (0-based).
        batch_index: u32,
        /// Codes in the export.
        batch_size: u32,
    },
}

/// Recognises a deep link (what the phone's link handler receives) and previews it.
#[uniffi::export]
pub fn handle_link(link: String) -> Result<LinkPreview, SofttokenError> {
    use softtoken_core::link::{classify, Link};
    use softtoken_core::uri::OtpKind;
    Ok(match classify(&link)? {
        Link::SecActivate(u) => LinkPreview::Activation { scheme: shown(&u.scheme) },
        Link::Otpauth(u) => LinkPreview::Token {
            issuer: u.issuer.as_deref().map(shown),
            account: shown(&u.account),
            kind: match u.kind {
                OtpKind::Totp { .. } => "totp".into(),
                OtpKind::Hotp { .. } => "hotp".into(),
                OtpKind::Steam => "steam".into(),
            },
            digits: u.digits,
        },
        Link::OnlineActivation(l) => {
            LinkPreview::OnlineActivation { provider: softtoken_core::activation::provider_from_url(&l.base_url).unwrap_or_default(), base_url: l.base_url }
        }
        Link::Migration(p) => {
            LinkPreview::GoogleExport { names: p.items.iter().map(|(l, _)| shown(l)).collect(), batch_index: p.batch_index, batch_size: p.batch_size }
        }
    })
}
