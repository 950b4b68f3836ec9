//! The FFI's error: the decisions a UI acts on, and the one place every core, online and scanning
//! error is mapped to them (unit-tested below).

use crate::shown;
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
    #[error("wrong PIN ({attempts_left} attempts left)")]
    WrongPin {
        /// Attempts before the next delay.
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

impl From<CoreError> for SofttokenError {
    /// The one boundary between the core's rich errors and the decisions a UI takes. Every detail
    /// text is neutralised (control and bidi characters replaced): it may quote a name or a
    /// provider's words.
    fn from(e: CoreError) -> Self {
        let message = softtoken_core::text::neutralise(&e.to_string()).into_owned();
        let invalid = |field: &str, reason: String| SofttokenError::InvalidCode { field: field.into(), reason };
        match e {
            CoreError::WrongPassword | CoreError::WrongBackupPassword | CoreError::WrongExportPassword { .. } => SofttokenError::WrongPassword,
            CoreError::ExportPasswordNeeded { .. } => invalid("password", message),
            CoreError::MalformedExport { .. } | CoreError::UnknownImportFormat(_) => invalid("file", message),
            CoreError::WrongPin { attempts_left } => SofttokenError::WrongPin { attempts_left },
            CoreError::Locked { retry_after_s } => SofttokenError::Locked { retry_after_s },
            // Ask for the PIN (again): never unlocked, locked by the user or idle, a PIN that was
            // not given, or a PIN changed by another process.
            CoreError::VaultLocked | CoreError::PinRequired | CoreError::ChangedElsewhere => SofttokenError::Locked { retry_after_s: 0 },
            CoreError::LockedPermanently => SofttokenError::LockedPermanently,
            CoreError::Invalid { field, reason } => invalid(&field.to_string(), softtoken_core::text::neutralise(&reason).into_owned()),
            CoreError::MalformedUri(_) => invalid("uri", message),
            CoreError::MalformedPayload(_) => invalid("activation payload", message),
            CoreError::NoMatch | CoreError::Ambiguous { .. } | CoreError::ResyncFailed { .. } => invalid("OTP", message),
            CoreError::NotFound(_) | CoreError::Duplicate { .. } | CoreError::NameTaken(_) | CoreError::AmbiguousName(_) => invalid("identity", message),
            CoreError::PinLength { .. } => invalid("PIN", message),
            CoreError::BackupPasswordTooShort { .. } => invalid("backup password", message),
            CoreError::NotABackup => invalid("backup", message),
            CoreError::TooLarge { .. } => invalid("input", message),
            CoreError::CorruptVault { .. } | CoreError::RolledBack { .. } | CoreError::CorruptBackup => SofttokenError::CorruptData { detail: message },
            CoreError::KeyUnavailable(_) | CoreError::WrongKeyStore { .. } => SofttokenError::KeyUnavailable { detail: message },
            CoreError::AuthenticationCancelled => SofttokenError::Cancelled,
            CoreError::Platform(_) | CoreError::Crypto(_) | CoreError::Encoding(_) => SofttokenError::Platform { detail: message },
            CoreError::Storage(_)
            | CoreError::NoVault(_)
            | CoreError::VaultExists(_)
            | CoreError::VaultIntact
            | CoreError::NoPreviousVersion
            | CoreError::ConcurrentChange => SofttokenError::Storage { detail: message },
            CoreError::PolicyViolation(_) => SofttokenError::PolicyViolation { detail: message },
            CoreError::UnsupportedVersion(_)
            | CoreError::UnsupportedFormat { .. }
            | CoreError::KdfParameters { .. }
            | CoreError::KdfTooCostly { .. }
            | CoreError::UnsupportedExport { .. }
            | CoreError::BiometricNotEnabled
            | CoreError::NotHotp(_)
            | CoreError::HotpNeedsRequest(_)
            | CoreError::CounterExhausted => SofttokenError::Unsupported { detail: message },
        }
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
            _ => ProviderRefusal::Unknown,
        }
    }
}

impl From<OnlineError> for SofttokenError {
    /// The online side's errors: the vault's own through [`From<CoreError>`], the provider's
    /// refusal typed, everything about reaching it as `Network`.
    fn from(e: OnlineError) -> Self {
        let detail = shown(&e.to_string());
        match e {
            OnlineError::Core(core) => core.into(),
            OnlineError::Refused { refusal, message } => SofttokenError::Refused { refusal: refusal.into(), detail: shown(&message) },
            OnlineError::Unreachable(_) | OnlineError::NotProtocol(_) | OnlineError::NotFoundWhileUnreachable { .. } => SofttokenError::Network { detail },
            OnlineError::ProviderClockOff { .. } => SofttokenError::InvalidCode { field: "provider clock".into(), reason: detail },
            OnlineError::NotOnline(_) => SofttokenError::Unsupported { detail },
            OnlineError::AmbiguousTransaction { .. } => SofttokenError::InvalidCode { field: "identity".into(), reason: detail },
            OnlineError::HalfActivated { .. } => SofttokenError::Storage { detail },
            _ => SofttokenError::Network { detail },
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
    fn every_core_error_maps_to_the_decision_a_ui_takes() {
        use softtoken_core::error::PolicyRule;
        let cases: Vec<(CoreError, &str)> = vec![
            (CoreError::WrongPin { attempts_left: 2 }, "WrongPin"),
            (CoreError::PinRequired, "Locked"),
            (CoreError::ChangedElsewhere, "Locked"),
            (CoreError::VaultLocked, "Locked"),
            (CoreError::LockedPermanently, "LockedPermanently"),
            (CoreError::WrongBackupPassword, "WrongPassword"),
            (CoreError::WrongExportPassword { format: "Aegis" }, "WrongPassword"),
            (CoreError::ExportPasswordNeeded { format: "2FAS" }, "InvalidCode"),
            (CoreError::MalformedExport { format: "2FAS", reason: "x".into() }, "InvalidCode"),
            (CoreError::KdfTooCostly { kdf: "scrypt", found: "x".into(), limit: "y".into() }, "Unsupported"),
            (CoreError::RolledBack { found: 1, newest: 2 }, "CorruptData"),
            (CoreError::CorruptBackup, "CorruptData"),
            (CoreError::WrongKeyStore { recorded: "file".into(), given: "memory".into() }, "KeyUnavailable"),
            (CoreError::TooLarge { what: "QR codes", found: 9, limit: 1 }, "InvalidCode"),
            (CoreError::KdfParameters { m_kib: 1, t: 1, p: 1, reason: "x" }, "Unsupported"),
            (CoreError::HotpNeedsRequest("h".into()), "Unsupported"),
            (CoreError::PolicyViolation(PolicyRule::PinRequired { identity: "a".into() }), "PolicyViolation"),
            (CoreError::VaultIntact, "Storage"),
            (CoreError::AuthenticationCancelled, "Cancelled"),
        ];
        for (core, want) in cases {
            let ffi = SofttokenError::from(core.clone());
            let got = format!("{ffi:?}");
            assert!(got.starts_with(want), "{core:?} → {got}");
        }
        let online: Vec<(OnlineError, &str)> = vec![
            (OnlineError::Unreachable("radio off".into()), "Network"),
            (OnlineError::NotProtocol("HTTP 502".into()), "Network"),
            (OnlineError::Refused { refusal: Refusal::Expired, message: "x".into() }, "Refused { refusal: Expired"),
            (OnlineError::Refused { refusal: Refusal::WrongNumber, message: "x".into() }, "Refused { refusal: WrongNumber"),
            (OnlineError::Core(CoreError::VaultLocked), "Locked"),
            (OnlineError::ProviderClockOff { offset_s: 90_000, limit_s: 86_400 }, "InvalidCode"),
            (OnlineError::NotOnline("a".into()), "Unsupported"),
            (OnlineError::AmbiguousTransaction { id: "t".into(), identities: vec!["a".into(), "b".into()] }, "InvalidCode"),
            (
                OnlineError::HalfActivated {
                    error: Box::new(OnlineError::Unreachable("x".into())),
                    undo: Box::new(OnlineError::Core(CoreError::Storage("y".into()))),
                    name: "n".into(),
                },
                "Storage",
            ),
        ];
        for (e, want) in online {
            let got = format!("{:?}", SofttokenError::from(e.clone()));
            assert!(got.starts_with(want), "{e:?} → {got}");
        }
        match SofttokenError::from(OnlineError::Refused { refusal: Refusal::NotFound, message: "evil\u{202e}".into() }) {
            SofttokenError::Refused { detail, .. } => assert!(!detail.chars().any(softtoken_core::text::is_hazard), "{detail:?}"),
            other => panic!("{other:?}"),
        }
        match SofttokenError::from(CoreError::NotFound("evil\u{1b}[2K\u{202e}".into())) {
            SofttokenError::InvalidCode { reason, .. } => assert!(!reason.chars().any(softtoken_core::text::is_hazard), "{reason:?}"),
            other => panic!("{other:?}"),
        }
    }
}
