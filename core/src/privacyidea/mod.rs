//! privacyIDEA and eduMFA: their push tokens (poll only, no Firebase) and their two-step OTP
//! enrollment (`docs/privacyidea.md`).
//!
//! The core computes; it does no I/O. [`enrollment`] reads the enrollment link, [`keys`] makes
//! the phone's RSA key and signs with it and checks the server's signatures, [`challenge`] reads a
//! polled challenge, checks it and builds the signed answers, [`two_step`] makes the phone's half
//! of a two-step OTP key. The app's `net` crate carries the requests.

pub mod challenge;
pub mod enrollment;
mod jcs;
pub mod keys;
pub mod time;
pub mod two_step;

use serde::{Deserialize, Serialize};

pub use challenge::{Answer, Challenge, PolledChallenge};
pub use enrollment::PushEnrollment;
pub use keys::{PhoneKey, ServerKey};
pub use two_step::TwoStep;

/// Which server software issued a push token: both speak the same protocol under their own names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Server {
    /// privacyIDEA (`otpauth://pipush/…`, `pia://pipush/…`; token type `push`).
    PrivacyIdea,
    /// eduMFA, privacyIDEA's fork (`edumfa-push://edumfa/…`; token type `edupush`): no presence
    /// matching, no code to the phone, no decline reasons.
    EduMfa,
}

impl Server {
    /// The product's name as users know it.
    pub fn name(self) -> &'static str {
        match self {
            Server::PrivacyIdea => "privacyIDEA",
            Server::EduMfa => "eduMFA",
        }
    }
}

/// What the app keeps of an enrolled push token besides its private key (the identity's secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushLink {
    /// privacyIDEA or eduMFA.
    pub server: Server,
    /// The token's serial at the server (`PIPU…`, `EDUP…`).
    pub serial: String,
    /// Where the token polls and answers: the URL of its enrollment link (the server's later
    /// challenges may name another; this one stays).
    pub url: String,
    /// The server's public key (PKCS#1 `RSAPublicKey`, DER, base64): every challenge is checked
    /// against it.
    pub server_key: String,
    /// False when the enrollment link said `sslverify=0` and the user accepted it.
    pub tls_verify: bool,
}
