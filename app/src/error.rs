//! The one classification of errors: what the user or the app can do about one. The core and the
//! online side keep rich errors (every case named); [`ErrorKind`] is computed from them here, in
//! one place. The FFI mirrors it one to one, the CLI adds only exit codes and advice, so a case
//! cannot be a wrong password in one shell and something else in the other.
//!
//! Every detail text is neutralised (control and bidi characters replaced): it may quote a name,
//! a file's contents or a provider's words.

use softtoken_core::protocol::Refusal;
use softtoken_core::Error as CoreError;
use softtoken_net::Error as OnlineError;

/// What went wrong, as a decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorKind {
    /// The activation, backup or export password is wrong: ask for it again.
    WrongPassword,
    /// The PIN is wrong.
    WrongPin {
        /// Wrong PINs still allowed before the vault locks for good.
        attempts_left: u32,
    },
    /// Wait before the next PIN attempt; 0: the vault is locked (never unlocked, locked, idle, or
    /// its PIN changed elsewhere), ask for the PIN.
    Locked {
        /// Seconds to wait.
        retry_after_s: u64,
    },
    /// Too many wrong PINs: restore a backup or activate again.
    LockedPermanently,
    /// A typed, scanned or read value is malformed: `field` names it.
    Invalid {
        /// Which input ("activation code", "uri", "identity", "file", …).
        field: String,
        /// What is wrong.
        reason: String,
    },
    /// The vault or a backup is damaged or was tampered with.
    Corrupt {
        /// Details.
        detail: String,
    },
    /// The device key is gone (another device, a key invalidated): restore a backup.
    KeyUnavailable {
        /// Details.
        detail: String,
    },
    /// Reading or writing files failed, or the vault is not in the state the call needs.
    Storage {
        /// Details.
        detail: String,
    },
    /// The organisation's policy forbids it.
    Policy {
        /// Details.
        detail: String,
    },
    /// Not possible here, or not supported by this build or format.
    Unsupported {
        /// Details.
        detail: String,
    },
    /// The user dismissed the biometric prompt: offer it again or ask for the PIN.
    Cancelled,
    /// The platform's biometric authentication is locked out after too many failed tries: ask for
    /// the PIN (the device's passcode lifts the lockout). Not a damaged vault, not a cancel.
    BiometricLockedOut {
        /// Details.
        detail: String,
    },
    /// No answer from a provider, or one that is not the protocol: try again later.
    Network {
        /// Details.
        detail: String,
    },
    /// The provider refused, with the protocol's word.
    Refused {
        /// Why.
        refusal: Refusal,
        /// The provider's explanation.
        detail: String,
    },
    /// The platform (its key store, its random generator, its cryptography) failed.
    Platform {
        /// Details.
        detail: String,
    },
}

fn shown(text: &str) -> String {
    softtoken_core::text::neutralise(text).into_owned()
}

impl From<&CoreError> for ErrorKind {
    fn from(e: &CoreError) -> Self {
        let message = shown(&e.to_string());
        let invalid = |field: &str, reason: String| ErrorKind::Invalid { field: field.into(), reason };
        match e {
            CoreError::WrongPassword | CoreError::WrongBackupPassword | CoreError::WrongExportPassword { .. } => ErrorKind::WrongPassword,
            CoreError::ExportPasswordNeeded { .. } => invalid("password", message),
            CoreError::MalformedExport { .. } | CoreError::UnknownImportFormat(_) => invalid("file", message),
            CoreError::WrongPin { attempts_left } => ErrorKind::WrongPin { attempts_left: *attempts_left },
            CoreError::Locked { retry_after_s } => ErrorKind::Locked { retry_after_s: *retry_after_s },
            // Ask for the PIN (again): never unlocked, locked by the user or idle, a PIN that was
            // not given, or a PIN changed by another process.
            CoreError::VaultLocked | CoreError::PinRequired | CoreError::ChangedElsewhere => ErrorKind::Locked { retry_after_s: 0 },
            CoreError::LockedPermanently => ErrorKind::LockedPermanently,
            CoreError::Invalid { field, reason } => invalid(&field.to_string(), shown(reason)),
            CoreError::MalformedUri(_) => invalid("uri", message),
            CoreError::MalformedPayload(_) => invalid("activation payload", message),
            CoreError::PushProtocol(_) => invalid("push", message),
            CoreError::ForgedChallenge { .. } => invalid("transaction", message),
            CoreError::NoMatch | CoreError::Ambiguous { .. } | CoreError::ResyncFailed { .. } => invalid("OTP", message),
            CoreError::NotFound(_) | CoreError::Duplicate { .. } | CoreError::NameTaken(_) | CoreError::AmbiguousName { .. } => invalid("identity", message),
            CoreError::PinLength { .. } => invalid("PIN", message),
            CoreError::BackupPasswordTooShort { .. } => invalid("backup password", message),
            CoreError::NotABackup => invalid("backup", message),
            CoreError::TooLarge { .. } => invalid("input", message),
            CoreError::CorruptVault { .. } | CoreError::RolledBack { .. } | CoreError::CorruptBackup => ErrorKind::Corrupt { detail: message },
            CoreError::KeyUnavailable(_) | CoreError::WrongKeyStore { .. } => ErrorKind::KeyUnavailable { detail: message },
            CoreError::AuthenticationCancelled => ErrorKind::Cancelled,
            CoreError::AuthenticationLockedOut(_) => ErrorKind::BiometricLockedOut { detail: message },
            CoreError::Platform(_) | CoreError::Crypto(_) | CoreError::Encoding(_) => ErrorKind::Platform { detail: message },
            CoreError::Storage(_)
            | CoreError::NoVault(_)
            | CoreError::VaultExists(_)
            | CoreError::VaultIntact
            | CoreError::NoPreviousVersion
            | CoreError::ConcurrentChange => ErrorKind::Storage { detail: message },
            CoreError::PolicyViolation(_) => ErrorKind::Policy { detail: message },
            CoreError::UnsupportedVersion(_)
            | CoreError::UnsupportedFormat { .. }
            | CoreError::KdfParameters { .. }
            | CoreError::KdfTooCostly { .. }
            | CoreError::UnsupportedExport { .. }
            | CoreError::BiometricNotEnabled
            | CoreError::NotHotp(_)
            | CoreError::HotpNeedsRequest(_)
            | CoreError::NoCodes(_)
            | CoreError::CounterExhausted => ErrorKind::Unsupported { detail: message },
        }
    }
}

impl From<&OnlineError> for ErrorKind {
    /// The online side: the vault's own errors as above, the provider's refusal with its word,
    /// everything about reaching a provider as `Network`.
    fn from(e: &OnlineError) -> Self {
        let detail = shown(&e.to_string());
        match e {
            OnlineError::Core(core) => core.into(),
            OnlineError::Refused { refusal, message } => ErrorKind::Refused { refusal: *refusal, detail: shown(message) },
            OnlineError::Unreachable(_) | OnlineError::NotProtocol(_) | OnlineError::NotFoundWhileUnreachable { .. } => ErrorKind::Network { detail },
            OnlineError::ProviderClockOff { .. } => ErrorKind::Invalid { field: "provider clock".into(), reason: detail },
            OnlineError::NotOnline(_) => ErrorKind::Unsupported { detail },
            OnlineError::AmbiguousTransaction { .. } => ErrorKind::Invalid { field: "identity".into(), reason: detail },
            OnlineError::HalfActivated { .. } => ErrorKind::Storage { detail },
        }
    }
}

impl From<&softtoken_core::vault::key_store::KeyStoreError> for ErrorKind {
    /// A device key store's failure met outside the vault (the CLI's desktop stores).
    fn from(e: &softtoken_core::vault::key_store::KeyStoreError) -> Self {
        use softtoken_core::vault::key_store::KeyStoreError;
        let detail = shown(&format!("device key store: {e}"));
        match e {
            KeyStoreError::KeyMissing(_) | KeyStoreError::Rejected => ErrorKind::KeyUnavailable { detail },
            KeyStoreError::Cancelled => ErrorKind::Cancelled,
            KeyStoreError::LockedOut(_) => ErrorKind::BiometricLockedOut { detail },
            KeyStoreError::Failed(_) => ErrorKind::Platform { detail },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use softtoken_core::protocol::Refusal;

    #[test]
    fn every_core_and_online_error_is_classified_as_a_decision() {
        use softtoken_core::error::PolicyRule;
        let cases: Vec<(CoreError, &str)> = vec![
            (CoreError::WrongPin { attempts_left: 2 }, "WrongPin"),
            (CoreError::PinRequired, "Locked"),
            (CoreError::ChangedElsewhere, "Locked"),
            (CoreError::VaultLocked, "Locked"),
            (CoreError::LockedPermanently, "LockedPermanently"),
            (CoreError::WrongBackupPassword, "WrongPassword"),
            (CoreError::WrongExportPassword { format: "Aegis" }, "WrongPassword"),
            (CoreError::ExportPasswordNeeded { format: "2FAS" }, "Invalid"),
            (CoreError::MalformedExport { format: "2FAS", reason: "x".into() }, "Invalid"),
            (CoreError::KdfTooCostly { kdf: "scrypt", found: "x".into(), limit: "y".into() }, "Unsupported"),
            (CoreError::RolledBack { found: 1, newest: 2 }, "Corrupt"),
            (CoreError::CorruptBackup, "Corrupt"),
            (CoreError::WrongKeyStore { recorded: "file".into(), given: "memory".into() }, "KeyUnavailable"),
            (CoreError::TooLarge { what: "QR codes", found: 9, limit: 1 }, "Invalid"),
            (CoreError::KdfParameters { m_kib: 1, t: 1, p: 1, reason: "x" }, "Unsupported"),
            (CoreError::HotpNeedsRequest("h".into()), "Unsupported"),
            (CoreError::PolicyViolation(PolicyRule::PinRequired { identity: "a".into() }), "Policy"),
            (CoreError::VaultIntact, "Storage"),
            (CoreError::AuthenticationCancelled, "Cancelled"),
            (CoreError::AuthenticationLockedOut("x".into()), "BiometricLockedOut"),
        ];
        for (core, want) in cases {
            let got = format!("{:?}", ErrorKind::from(&core));
            assert!(got.starts_with(want), "{core:?} → {got}");
        }
        let online: Vec<(OnlineError, &str)> = vec![
            (OnlineError::Unreachable("radio off".into()), "Network"),
            (OnlineError::NotProtocol("HTTP 502".into()), "Network"),
            (OnlineError::Refused { refusal: Refusal::Expired, message: "x".into() }, "Refused { refusal: Expired"),
            (OnlineError::Refused { refusal: Refusal::WrongNumber, message: "x".into() }, "Refused { refusal: WrongNumber"),
            (OnlineError::Core(CoreError::VaultLocked), "Locked"),
            (OnlineError::ProviderClockOff { offset_s: 90_000, limit_s: 86_400 }, "Invalid"),
            (OnlineError::NotOnline("a".into()), "Unsupported"),
            (OnlineError::AmbiguousTransaction { id: "t".into(), identities: vec!["a".into(), "b".into()] }, "Invalid"),
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
            let got = format!("{:?}", ErrorKind::from(&e));
            assert!(got.starts_with(want), "{e:?} → {got}");
        }
        match ErrorKind::from(&OnlineError::Refused { refusal: Refusal::NotFound, message: "evil\u{202e}".into() }) {
            ErrorKind::Refused { detail, .. } => assert!(!detail.chars().any(softtoken_core::text::is_hazard), "{detail:?}"),
            other => panic!("{other:?}"),
        }
        match ErrorKind::from(&CoreError::NotFound("evil\u{1b}[2K\u{202e}".into())) {
            ErrorKind::Invalid { reason, .. } => assert!(!reason.chars().any(softtoken_core::text::is_hazard), "{reason:?}"),
            other => panic!("{other:?}"),
        }
    }
}
