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

impl From<softtoken_app::LinkPreview> for LinkPreview {
    fn from(p: softtoken_app::LinkPreview) -> Self {
        use softtoken_app::LinkPreview as P;
        match p {
            P::Activation { scheme } => LinkPreview::Activation { scheme: shown(&scheme) },
            P::Token { issuer, account, kind, digits } => {
                LinkPreview::Token { issuer: issuer.as_deref().map(shown), account: shown(&account), kind: kind.name().into(), digits }
            }
            P::OnlineActivation { provider, base_url } => LinkPreview::OnlineActivation { provider, base_url },
            P::GoogleExport { names, batch_index, batch_size } => {
                LinkPreview::GoogleExport { names: names.iter().map(|n| shown(n)).collect(), batch_index, batch_size }
            }
        }
    }
}

/// Recognises a deep link (what the phone's link handler receives) and previews it.
#[uniffi::export]
pub fn handle_link(link: String) -> Result<LinkPreview, SofttokenError> {
    Ok(softtoken_app::preview_link(&link)?.into())
}
