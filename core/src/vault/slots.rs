//! Key slots: the PIN's (Argon2id key wrapping the data key) and the biometric one (the data key
//! sealed by the platform's user-authentication-bound key), and the rules of changing them:
//! what weakens protection needs the current PIN, checked like an unlock attempt.

use super::attempts::AttemptCounter;
use super::format::InnerHeader;
use super::{key_error, keys, store, DeviceKeyStore, KdfParams, Vault};
use crate::error::{Error, Result};
use std::path::Path;
use zeroize::Zeroizing;

/// Checks a PIN like an unlock attempt: counted under the lock before the KDF runs (an
/// interrupted attempt counts as failed), refused while delays or the permanent lock apply, and
/// forgiven on success. Returns the data key the PIN's slot holds.
pub(super) fn pin_attempt(
    path: &Path,
    vault_id: &str,
    store: &dyn DeviceKeyStore,
    inner: &InnerHeader,
    pin: Option<&str>,
    now: u64,
) -> Result<Zeroizing<[u8; 32]>> {
    let Some(params) = inner.kdf else {
        return inner.key_slot.as_slice().try_into().map(Zeroizing::new).map_err(|_| Error::CorruptVault { previous_available: false });
    };
    let pin = pin.ok_or(Error::PinRequired)?;
    let counter = AttemptCounter::new(path, vault_id, store);
    let counted = counter.count(now, inner.max_attempts)?;
    let pin_key = keys::derive_pin_key(pin, &inner.salt, params)?;
    match keys::open(&pin_key, &slot_aad(vault_id), &inner.key_slot) {
        Some(k) if k.len() == 32 => {
            counter.forgive(&counted)?;
            Ok(Zeroizing::new(k[..].try_into().expect("32")))
        }
        _ if counted.failures >= inner.max_attempts => Err(Error::LockedPermanently),
        _ => Err(Error::WrongPin { attempts_left: inner.max_attempts.saturating_sub(counted.failures) }),
    }
}

/// The device-key label of the biometric slot; a platform store maps it to its
/// user-authentication-bound key.
pub fn biometric_label(vault_id: &str) -> String {
    format!("softtoken/v1/biometric/{vault_id}")
}

fn slot_aad(vault_id: &str) -> Vec<u8> {
    let mut aad = keys::PIN_SLOT_AAD.to_vec();
    aad.extend_from_slice(vault_id.as_bytes());
    aad
}

/// Builds the key slot for `pin` (or the bare data key without one).
pub(super) fn make_slot(data_key: &[u8; 32], pin: Option<&str>, kdf: KdfParams, vault_id: &str) -> Result<(Option<KdfParams>, [u8; 16], Vec<u8>)> {
    let salt = *keys::random::<16>()?;
    match pin {
        None => Ok((None, salt, data_key.to_vec())),
        Some(pin) => {
            check_pin(pin)?;
            let pin_key = keys::derive_pin_key(pin, &salt, kdf)?;
            Ok((Some(kdf), salt, keys::seal(&pin_key, &slot_aad(vault_id), data_key)?))
        }
    }
}

/// Fewest characters of a PIN (IDaaS resets give 4 digits).
pub const MIN_PIN_CHARS: usize = 4;
/// Most characters of a PIN.
pub const MAX_PIN_CHARS: usize = 128;

/// A PIN has 4 to 128 characters.
pub fn check_pin(pin: &str) -> Result<()> {
    let n = pin.chars().count();
    if !(MIN_PIN_CHARS..=MAX_PIN_CHARS).contains(&n) {
        return Err(Error::PinLength { min: MIN_PIN_CHARS, max: MAX_PIN_CHARS });
    }
    Ok(())
}

impl Vault {
    /// Confirms the current PIN for an operation that weakens protection (change or remove the
    /// PIN, enable biometrics, export): checked like an unlock attempt, so a wrong one counts.
    pub fn confirm_pin(&self, pin: Option<&str>, now: u64) -> Result<()> {
        let key = pin_attempt(&self.path, &self.outer.vault_id, self.store.as_ref(), &self.inner, pin, now)?;
        if !bool::from(subtle::ConstantTimeEq::ct_eq(&key[..], &self.data_key[..])) {
            // The file's PIN is not the one this unlock knows (changed elsewhere).
            return Err(Error::ChangedElsewhere);
        }
        Ok(())
    }

    /// Sets, changes or (with `None`) removes the PIN, after confirming the current one
    /// (`current` is ignored for a vault without PIN). The data key is rotated, the biometric slot
    /// (sealing the old key) is dropped and the previous generation (holding the old PIN's slot)
    /// removed, so no older file or slot opens with the old PIN. Returns whether biometric unlock
    /// was turned off by the change.
    pub fn change_pin(&mut self, current: Option<&str>, new_pin: Option<&str>, kdf: Option<KdfParams>, now: u64) -> Result<bool> {
        if let Some(p) = new_pin {
            check_pin(p)?;
        }
        self.confirm_pin(current, now)?;
        let params = kdf.or(self.inner.kdf).unwrap_or(KdfParams::DEFAULT).check()?;
        let data_key = keys::random::<32>()?;
        let (kdf, salt, key_slot) = make_slot(&data_key, new_pin, params, &self.outer.vault_id)?;
        let biometric_dropped = self.modify_with(false, |v| {
            if new_pin.is_none() {
                if let Some(x) = v.identities.iter().find(|x| x.requires_pin()) {
                    return Err(Error::PolicyViolation(crate::error::PolicyRule::PinRequired { identity: x.name.clone() }));
                }
            }
            let dropped = !v.inner.bio_slot.is_empty();
            v.inner = InnerHeader { kdf, salt, key_slot, bio_slot: Vec::new(), ..v.inner.clone() };
            v.data_key = data_key;
            Ok(dropped)
        })?;
        store::remove_previous(&self.path)?;
        Ok(biometric_dropped)
    }

    /// Enables biometric unlock after confirming the current PIN: the data key is also sealed
    /// under the platform's user-authentication-bound key. Refused while an identity's policy
    /// forbids biometrics.
    pub fn enable_biometric(&mut self, pin: Option<&str>, now: u64) -> Result<()> {
        if let Some(x) = self.identities.iter().find(|x| x.forbids_biometric()) {
            return Err(Error::PolicyViolation(crate::error::PolicyRule::BiometricForbidden { identity: x.name.clone() }));
        }
        self.confirm_pin(pin, now)?;
        let label = biometric_label(&self.outer.vault_id);
        let slot = self.store.seal(&label, &self.data_key[..]).map_err(|e| key_error(e, Error::Platform("seal rejected".into())))?;
        self.modify(|v| {
            if let Some(x) = v.identities.iter().find(|x| x.forbids_biometric()) {
                return Err(Error::PolicyViolation(crate::error::PolicyRule::BiometricForbidden { identity: x.name.clone() }));
            }
            v.inner.bio_slot = slot;
            Ok(())
        })
    }

    /// Turns biometric unlock off (strengthens protection: no PIN needed).
    pub fn disable_biometric(&mut self) -> Result<()> {
        self.modify(|v| {
            v.inner.bio_slot.clear();
            Ok(())
        })
    }

    /// Whether biometric unlock is enabled.
    pub fn has_biometric(&self) -> bool {
        !self.inner.bio_slot.is_empty()
    }
}
