//! Adding identities: Entrust activations (QR code, typed numbers), otpauth URIs, and tokens moved
//! from the official app. Each is prepared first (decrypted, checked, recovered — no vault needed,
//! so a wrong activation password never costs a PIN attempt) and stored second.

use crate::{Activity, Authenticator};
use softtoken_core::activation::{moved_identity, otpauth_identity, PendingActivation};
use softtoken_core::identity::Identity;
use softtoken_core::uri::OtpAuth;
use softtoken_core::Result;

pub use softtoken_core::activation::MovedToken;
use softtoken_core::privacyidea::two_step::{self, TwoStep};

/// A token from an otpauth URI.
#[derive(Debug, Clone)]
pub struct OtpauthToken {
    /// The identity (stored or not, as the call says).
    pub identity: Identity,
    /// Two-step enrollment only: the phone's part of the key in base32check form, which the user
    /// types into privacyIDEA to finish the enrollment there (it is not a secret alone: the
    /// server's part is needed too, and is never shown).
    pub client_part: Option<String>,
}

impl Authenticator {
    /// Starts an activation from a QR URI and its password: the registration code to show; nothing
    /// is stored yet.
    pub fn begin_qr_activation(&self, uri: &str, password: &str, digits: Option<u8>) -> Result<PendingActivation> {
        PendingActivation::from_uri(uri, password, digits, &ring::rand::SystemRandom::new())
    }

    /// Starts an activation from a typed serial number and activation code.
    pub fn begin_manual_activation(&self, serial: &str, activation_code: &str, digits: Option<u8>) -> Result<PendingActivation> {
        PendingActivation::from_numbers(serial, activation_code, digits, &ring::rand::SystemRandom::new())
    }

    /// Stores a previewed activation (`provider` overrides the registration address's host).
    pub fn commit_activation(&self, pending: PendingActivation, name: Option<&str>, provider: Option<&str>) -> Result<Identity> {
        let identity = pending.into_identity(name, provider, self.now(), &ring::rand::SystemRandom::new())?;
        self.add(identity)
    }

    /// The identity an otpauth URI describes, checked but not stored. A privacyIDEA two-step
    /// URI (`2step_salt`, `2step_output`, `2step_difficulty`) gets its key from the server's part
    /// and a part made here, which [`OtpauthToken::client_part`] holds for the user to type into
    /// privacyIDEA.
    pub fn prepare_otpauth(&self, uri: &str, name: Option<&str>, provider: Option<&str>) -> Result<OtpauthToken> {
        let rng = ring::rand::SystemRandom::new();
        let mut parsed = OtpAuth::parse(uri)?;
        let client_part = match TwoStep::from_uri(uri)? {
            None => None,
            Some(two_step) => {
                let client = two_step.client_part(&rng)?;
                parsed.secret = two_step.derive(&parsed.secret, &client)?;
                Some(two_step::base32check(&client))
            }
        };
        let mut identity = otpauth_identity(&parsed, name, self.now(), &rng)?;
        if let Some(p) = provider {
            identity.provider = Some(p.to_string());
        }
        Ok(OtpauthToken { identity, client_part })
    }

    /// Adds an otpauth URI (a two-step one too: the returned token's `client_part` must then
    /// reach privacyIDEA).
    pub fn add_otpauth(&self, uri: &str, name: Option<&str>) -> Result<OtpauthToken> {
        let OtpauthToken { identity, client_part } = self.prepare_otpauth(uri, name, None)?;
        Ok(OtpauthToken { identity: self.add(identity)?, client_part })
    }

    /// The identity of a token activated in the official app, recovered from its registration code
    /// or from codes it showed (searched on all cores); not stored.
    pub fn prepare_moved(&self, token: &MovedToken, name: Option<&str>, provider: Option<&str>) -> Result<Identity> {
        moved_identity(token, provider.map(str::to_string), name, self.now(), &ring::rand::SystemRandom::new())
    }

    /// Moves a token activated in the official app into the vault.
    pub fn import_existing(&self, token: &MovedToken, name: Option<&str>) -> Result<Identity> {
        let identity = self.prepare_moved(token, name, None)?;
        self.add(identity)
    }

    /// Stores a prepared identity (an action): the organisation's policy and duplicates are
    /// checked by the vault.
    pub fn add(&self, identity: Identity) -> Result<Identity> {
        self.with(Activity::Action, |v| v.add(identity).cloned())
    }
}
