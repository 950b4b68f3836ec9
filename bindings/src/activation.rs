//! Activations previewed before anything is stored: from a QR code and its password, or from a
//! typed serial number and activation code.

use crate::authenticator::{IdentityInfo, R};
use crate::{lock, shown, Authenticator, SofttokenError};
use std::sync::{Arc, Mutex};

/// An activation shown before anything is stored; `cancel` (or dropping it) wipes it.
#[derive(uniffi::Object)]
pub struct PendingActivation {
    inner: Mutex<Option<softtoken_core::activation::PendingActivation>>,
    serial: String,
    provider: Option<String>,
    policy: Option<String>,
    registration_code: String,
    digits: u8,
    digits_known: bool,
    transaction_url: Option<String>,
}

impl PendingActivation {
    fn wrap(p: softtoken_core::activation::PendingActivation) -> Arc<Self> {
        Arc::new(PendingActivation {
            serial: p.serial.to_string(),
            provider: p.provider.as_deref().map(shown),
            policy: p.policy.as_deref().map(shown),
            registration_code: p.registration_code.to_string(),
            digits: p.digits,
            digits_known: p.digits_known,
            transaction_url: p.transaction_url().map(str::to_string),
            inner: Mutex::new(Some(p)),
        })
    }
}

#[uniffi::export]
impl PendingActivation {
    /// Serial number.
    pub fn serial(&self) -> String {
        self.serial.clone()
    }
    /// Identity provider: the company's name the activation carries, else the registration
    /// address's host.
    pub fn provider(&self) -> Option<String> {
        self.provider.clone()
    }
    /// Policy string, verbatim.
    pub fn policy(&self) -> Option<String> {
        self.policy.clone()
    }
    /// The code the user types into the portal.
    pub fn registration_code(&self) -> String {
        self.registration_code.clone()
    }
    /// Code length.
    pub fn digits(&self) -> u8 {
        self.digits
    }
    /// False when neither the caller nor the activation said the code length: `digits` is then
    /// Entrust's default (6), and the app should ask (or let the user change it later with
    /// `set_digits`).
    pub fn digits_known(&self) -> bool {
        self.digits_known
    }
    /// Where push sign-ins will come from (softtoken's provider puts it in its QR codes), if known.
    pub fn transaction_url(&self) -> Option<String> {
        self.transaction_url.clone()
    }
    /// Wipes the activation; committing it afterwards fails.
    pub fn cancel(&self) {
        lock(&self.inner).take();
    }
}

#[uniffi::export]
impl Authenticator {
    /// Previews an activation from a QR URI and its password.
    #[uniffi::method(default(digits = None))]
    pub fn begin_qr_activation(&self, uri: String, password: String, digits: Option<u8>) -> R<Arc<PendingActivation>> {
        Ok(PendingActivation::wrap(self.app.begin_qr_activation(&uri, &password, digits)?))
    }

    /// Previews an activation from a typed serial number and activation code.
    #[uniffi::method(default(digits = None))]
    pub fn begin_manual_activation(&self, serial: String, activation_code: String, digits: Option<u8>) -> R<Arc<PendingActivation>> {
        Ok(PendingActivation::wrap(self.app.begin_manual_activation(&serial, &activation_code, digits)?))
    }

    /// Stores a previewed activation.
    #[uniffi::method(default(name = None))]
    pub async fn commit_activation(&self, pending: Arc<PendingActivation>, name: Option<String>) -> R<IdentityInfo> {
        let p = lock(&pending.inner).take().ok_or(SofttokenError::Unsupported { detail: "this activation was cancelled or already stored".into() })?;
        Ok((&self.run(move |a| a.commit_activation(p, name.as_deref(), None)).await?).into())
    }
}
