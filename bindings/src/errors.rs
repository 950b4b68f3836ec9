//! The FFI's error: the façade's [`ErrorKind`] mirrored one to one (the decisions a UI acts on),
//! and the scanner's errors, which do not pass through the façade.

use softtoken_app::ErrorKind;
use softtoken_core::protocol::Refusal;
use softtoken_core::Error as CoreError;
use softtoken_net::Error as OnlineError;

/// What went wrong, as a decision the UI can act on.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum SofttokenError {
    /// The activation or backup password is wrong.
    #[error("wrong password")]
    WrongPassword,
    /// The PIN is wrong.
    #[error("{}", softtoken_core::error::wrong_pin_message(*attempts_left))]
    WrongPin {
        /// Wrong PINs still allowed before the vault locks for good.
        attempts_left: u32,
    },
    /// Wait before the next PIN attempt (0: the vault is locked, ask for the PIN).
    #[error("locked: try again in {retry_after_s} s")]
    Locked {
        /// Seconds to wait.
        retry_after_s: u64,
    },
    /// Too many wrong PINs: restore a backup or activate again.
    #[error("locked for good")]
    LockedPermanently,
    /// A typed or scanned value is malformed.
    #[error("{field}: {reason}")]
    InvalidCode {
        /// Which input ("activation code", "serial number", "uri", …).
        field: String,
        /// What is wrong.
        reason: String,
    },
    /// The vault or backup is damaged or was tampered with.
    #[error("{detail}")]
    CorruptData {
        /// Details.
        detail: String,
    },
    /// The device key is gone (another device, key invalidated): restore a backup.
    #[error("{detail}")]
    KeyUnavailable {
        /// Details.
        detail: String,
    },
    /// Reading or writing files failed.
    #[error("{detail}")]
    Storage {
        /// Details.
        detail: String,
    },
    /// The organisation's policy forbids it.
    #[error("{detail}")]
    PolicyViolation {
        /// Details.
        detail: String,
    },
    /// Not possible in this state or not supported.
    #[error("{detail}")]
    Unsupported {
        /// Details.
        detail: String,
    },
    /// The user dismissed the biometric prompt: offer it again or ask for the PIN (never a
    /// damaged vault).
    #[error("authentication was cancelled")]
    Cancelled,
    /// Biometric authentication is locked out after too many failed tries: ask for the PIN (the
    /// device's passcode lifts the lockout). Neither a cancel nor a damaged vault.
    #[error("{detail}")]
    BiometricLockedOut {
        /// Details.
        detail: String,
    },
    /// No answer from a provider, or one that is not the protocol (no network, TLS, timeout, no
    /// transport set): try again later.
    #[error("{detail}")]
    Network {
        /// Details.
        detail: String,
    },
    /// The provider refused: `refusal` says why, as the protocol's word.
    #[error("{detail}")]
    Refused {
        /// Why.
        refusal: ProviderRefusal,
        /// The provider's explanation (neutralised).
        detail: String,
    },
    /// The platform's key store failed, or an unexpected exception in app code.
    #[error("{detail}")]
    Platform {
        /// Details.
        detail: String,
    },
}

impl From<ErrorKind> for SofttokenError {
    /// The façade's classification, mirrored one to one: the FFI decides nothing of its own.
    fn from(kind: ErrorKind) -> Self {
        match kind {
            ErrorKind::WrongPassword => SofttokenError::WrongPassword,
            ErrorKind::WrongPin { attempts_left } => SofttokenError::WrongPin { attempts_left },
            ErrorKind::Locked { retry_after_s } => SofttokenError::Locked { retry_after_s },
            ErrorKind::LockedPermanently => SofttokenError::LockedPermanently,
            ErrorKind::Invalid { field, reason } => SofttokenError::InvalidCode { field, reason },
            ErrorKind::Corrupt { detail } => SofttokenError::CorruptData { detail },
            ErrorKind::KeyUnavailable { detail } => SofttokenError::KeyUnavailable { detail },
            ErrorKind::Storage { detail } => SofttokenError::Storage { detail },
            ErrorKind::Policy { detail } => SofttokenError::PolicyViolation { detail },
            ErrorKind::Unsupported { detail } => SofttokenError::Unsupported { detail },
            ErrorKind::Cancelled => SofttokenError::Cancelled,
            ErrorKind::BiometricLockedOut { detail } => SofttokenError::BiometricLockedOut { detail },
            ErrorKind::Network { detail } => SofttokenError::Network { detail },
            ErrorKind::Refused { refusal, detail } => SofttokenError::Refused { refusal: refusal.into(), detail },
            ErrorKind::Platform { detail } => SofttokenError::Platform { detail },
        }
    }
}

impl From<CoreError> for SofttokenError {
    fn from(e: CoreError) -> Self {
        ErrorKind::from(&e).into()
    }
}

impl From<OnlineError> for SofttokenError {
    fn from(e: OnlineError) -> Self {
        ErrorKind::from(&e).into()
    }
}

/// Why a provider refused, as what the app does next (the protocol's error words).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ProviderRefusal {
    /// A request this app should not have sent: report it.
    BadRequest,
    /// Not authenticated: the token may have been re-issued; activate again.
    BadMac,
    /// The device clock is off: ask the user to set the time automatically.
    Stale,
    /// The typed number was wrong: the sign-in is denied; the website starts again.
    WrongNumber,
    /// Nothing to answer any more (answered elsewhere, expired, unknown): refresh the list.
    NotFound,
    /// Another device or tap answered first: refresh the list.
    AlreadyAnswered,
    /// This activation link was used already: ask the company for a new one.
    AlreadyCompleted,
    /// Too late: the sign-in or activation expired.
    Expired,
    /// The company no longer knows this token: remove it.
    Unregistered,
    /// Too many sign-ins are waiting: answer those first.
    TooManyPending,
    /// Too many requests: wait a minute and try again.
    RateLimited,
    /// The company's server failed: try again later.
    Internal,
    /// A newer protocol word: show the provider's detail text.
    Unknown,
}

impl From<Refusal> for ProviderRefusal {
    fn from(r: Refusal) -> Self {
        match r {
            Refusal::BadRequest => ProviderRefusal::BadRequest,
            Refusal::BadMac => ProviderRefusal::BadMac,
            Refusal::Stale => ProviderRefusal::Stale,
            Refusal::WrongNumber => ProviderRefusal::WrongNumber,
            Refusal::NotFound => ProviderRefusal::NotFound,
            Refusal::AlreadyAnswered => ProviderRefusal::AlreadyAnswered,
            Refusal::AlreadyCompleted => ProviderRefusal::AlreadyCompleted,
            Refusal::Expired => ProviderRefusal::Expired,
            Refusal::Unregistered => ProviderRefusal::Unregistered,
            Refusal::TooManyPending => ProviderRefusal::TooManyPending,
            Refusal::RateLimited => ProviderRefusal::RateLimited,
            Refusal::Internal => ProviderRefusal::Internal,
            // Words of a request this app should not have sent.
            Refusal::MethodNotAllowed | Refusal::TooLarge => ProviderRefusal::BadRequest,
            Refusal::Unknown => ProviderRefusal::Unknown,
        }
    }
}

impl From<softtoken_scan::ScanError> for SofttokenError {
    fn from(e: softtoken_scan::ScanError) -> Self {
        use softtoken_scan::ScanError;
        let reason = e.to_string();
        match e {
            ScanError::InvalidFrame(_) => SofttokenError::InvalidCode { field: "frame".into(), reason },
            ScanError::TooLarge { .. } | ScanError::Corrupt(_) => SofttokenError::InvalidCode { field: "image".into(), reason },
            ScanError::UnknownFormat => SofttokenError::Unsupported { detail: reason },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ffi_error_mirrors_the_facades_classification() {
        let kinds = vec![
            (ErrorKind::WrongPassword, "WrongPassword"),
            (ErrorKind::WrongPin { attempts_left: 2 }, "WrongPin { attempts_left: 2 }"),
            (ErrorKind::Locked { retry_after_s: 30 }, "Locked { retry_after_s: 30 }"),
            (ErrorKind::LockedPermanently, "LockedPermanently"),
            (ErrorKind::Invalid { field: "f".into(), reason: "r".into() }, "InvalidCode { field: \"f\", reason: \"r\" }"),
            (ErrorKind::Corrupt { detail: "d".into() }, "CorruptData { detail: \"d\" }"),
            (ErrorKind::KeyUnavailable { detail: "d".into() }, "KeyUnavailable { detail: \"d\" }"),
            (ErrorKind::Storage { detail: "d".into() }, "Storage { detail: \"d\" }"),
            (ErrorKind::Policy { detail: "d".into() }, "PolicyViolation { detail: \"d\" }"),
            (ErrorKind::Unsupported { detail: "d".into() }, "Unsupported { detail: \"d\" }"),
            (ErrorKind::Cancelled, "Cancelled"),
            (ErrorKind::BiometricLockedOut { detail: "d".into() }, "BiometricLockedOut { detail: \"d\" }"),
            (ErrorKind::Network { detail: "d".into() }, "Network { detail: \"d\" }"),
            (ErrorKind::Refused { refusal: Refusal::WrongNumber, detail: "d".into() }, "Refused { refusal: WrongNumber, detail: \"d\" }"),
            (ErrorKind::Refused { refusal: Refusal::TooLarge, detail: "d".into() }, "Refused { refusal: BadRequest, detail: \"d\" }"),
            (ErrorKind::Platform { detail: "d".into() }, "Platform { detail: \"d\" }"),
        ];
        for (kind, want) in kinds {
            assert_eq!(format!("{:?}", SofttokenError::from(kind.clone())), want, "{kind:?}");
        }
        // And the whole way from a core error: a wrong export password is a wrong password.
        assert!(matches!(SofttokenError::from(CoreError::WrongExportPassword { format: "Aegis" }), SofttokenError::WrongPassword));
    }
}
