//! Secrets at rest: every identity's seed, and the activation code it is derived from, are sealed
//! in the database with AES-256-GCM under a key-encryption key (KEK) kept in a file of its own
//! (`--kek-file`, default `<state>.kek`, created 0600 on first use). The associated data names
//! what is sealed and the serial it belongs to, so a sealed value moved to another row or column
//! does not open. A copy of the database without the key file yields no seed.
//!
//! The database records the KEK's id (a hash of the key, not the key); opening it with another key
//! is refused at once with both ids named. Rotation ([`crate::Provider::rotate_kek`]) writes the
//! new key to `<kek>.new`, re-wraps every secret in one transaction, then renames the files; an
//! interrupted rotation is finished by the next open.

pub(crate) mod rotation;

use crate::{ProviderError, Result};
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM};
use ring::rand::{SecureRandom, SystemRandom};
pub use rotation::Rotated;

/// The serial the decoy seed is sealed under (not a valid serial: no token can have it).
pub(crate) const DECOY_SERIAL: &str = "decoy";
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// What a sealed value starts with (format version 1).
const MAGIC: &[u8; 4] = b"STK1";
/// The associated data's prefix.
const AAD_LABEL: &str = "softtoken-provider-v1";

/// What is sealed, bound into the associated data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sealed {
    /// An identity's seed.
    Seed,
    /// The activation code the seed is derived from.
    ActivationCode,
    /// An activation shown in the portal, carried in its *Send Email* form until sent.
    Mail,
    /// An activation or a new token's secret, carried in a short-lived cookie from the form that
    /// made it to the page that shows it (so reloading that page makes nothing new).
    View,
}

impl Sealed {
    fn label(self) -> &'static str {
        match self {
            Sealed::Seed => "seed",
            Sealed::ActivationCode => "activation_code",
            Sealed::Mail => "mail",
            Sealed::View => "view",
        }
    }
}

/// The key-encryption key.
pub struct Kek {
    key: Zeroizing<[u8; 32]>,
    id: String,
    path: PathBuf,
}

impl std::fmt::Debug for Kek {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Kek").field("id", &self.id).field("path", &self.path).field("key", &"[redacted]").finish()
    }
}

/// `path` with `suffix` appended to its file name (`state.db` → `state.db.kek`).
pub fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(suffix);
    path.with_file_name(name)
}

/// The KEK file used for a state database when none is named: `<state>.kek`.
pub fn default_kek_path(state: &Path) -> PathBuf {
    with_suffix(state, ".kek")
}

impl Kek {
    /// Reads the key at `path`, creating a random one (0600) if the file does not exist. A key
    /// file that group or others can read, or that is not 32 bytes, is refused.
    pub fn load_or_create(path: &Path) -> Result<Kek> {
        if !path.exists() {
            let mut key = Zeroizing::new([0u8; 32]);
            SystemRandom::new().fill(&mut key[..]).map_err(|_| ProviderError::random())?;
            crate::files::create_new("key file", path, &key[..])?;
        }
        Self::load(path)
    }

    /// Reads the key at `path`.
    pub fn load(path: &Path) -> Result<Kek> {
        let bytes = crate::files::read("key file", path)?;
        let key: [u8; 32] = bytes[..].try_into().map_err(|_| ProviderError::Invalid(format!("key file {} is not a 32-byte key", path.display())))?;
        let key = Zeroizing::new(key);
        let digest = ring::digest::digest(&ring::digest::SHA256, &[b"softtoken-provider-kek-id-v1".as_slice(), &key[..]].concat());
        let id = softtoken_core::secret::hex_encode(&digest.as_ref()[..8]);
        Ok(Kek { key, id, path: path.to_path_buf() })
    }

    /// A new random key written to `path` (0600; replaces a file left by an interrupted rotation).
    pub(crate) fn create_new(path: &Path) -> Result<Kek> {
        let _ = std::fs::remove_file(path);
        Self::load_or_create(path)
    }

    /// The key's id (a hash of the key; recorded in the database).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Where the key lives.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn aead(&self) -> LessSafeKey {
        LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &self.key[..]).expect("a 32-byte AES-256 key"))
    }

    fn aad(what: Sealed, serial: &str) -> Vec<u8> {
        format!("{AAD_LABEL}/{}/{serial}", what.label()).into_bytes()
    }

    /// Seals `plain` as `what` of `serial`: `STK1 ‖ nonce ‖ ciphertext ‖ tag`.
    pub fn seal(&self, what: Sealed, serial: &str, plain: &[u8]) -> Result<Vec<u8>> {
        let mut nonce = [0u8; 12];
        SystemRandom::new().fill(&mut nonce).map_err(|_| ProviderError::random())?;
        let mut out = Vec::with_capacity(MAGIC.len() + 12 + plain.len() + 16);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(plain);
        let tag = self
            .aead()
            .seal_in_place_separate_tag(Nonce::assume_unique_for_key(nonce), Aad::from(Self::aad(what, serial)), &mut out[MAGIC.len() + 12..])
            .map_err(|_| ProviderError::Fault("sealing failed".into()))?;
        out.extend_from_slice(tag.as_ref());
        softtoken_core::secret::scrub_stack();
        Ok(out)
    }

    /// Opens what [`Kek::seal`] sealed; anything else (another key, row or column, a changed byte)
    /// is [`ProviderError::SealBroken`].
    pub fn open(&self, what: Sealed, serial: &str, sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
        let broken = || ProviderError::SealBroken { what: what.label(), serial: serial.to_string() };
        let body = sealed.strip_prefix(MAGIC.as_slice()).filter(|b| b.len() >= 12 + 16).ok_or_else(broken)?;
        let nonce = Nonce::try_assume_unique_for_key(&body[..12]).map_err(|_| broken())?;
        let mut buf = Zeroizing::new(body[12..].to_vec());
        let n = self.aead().open_in_place(nonce, Aad::from(Self::aad(what, serial)), &mut buf[..]).map_err(|_| broken())?.len();
        buf.truncate(n);
        softtoken_core::secret::scrub_stack();
        Ok(buf)
    }
}

/// The SHA-256 of `text` in lower-case hex: how bearer secrets that the provider only compares
/// (session ids, activation link tokens) are stored, so a copy of the database holds none.
pub(crate) fn sha256_hex(text: &str) -> String {
    softtoken_core::secret::hex_encode(ring::digest::digest(&ring::digest::SHA256, text.as_bytes()).as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_value_opens_only_as_what_it_is_for_whom_it_is() {
        let dir = tempfile::tempdir().unwrap();
        let kek = Kek::load_or_create(&dir.path().join("k")).unwrap();
        let s = kek.seal(Sealed::Seed, "12345", b"seed bytes").unwrap();
        assert_eq!(&kek.open(Sealed::Seed, "12345", &s).unwrap()[..], b"seed bytes");
        assert!(matches!(kek.open(Sealed::Seed, "12346", &s), Err(ProviderError::SealBroken { .. })), "another row");
        assert!(matches!(kek.open(Sealed::ActivationCode, "12345", &s), Err(ProviderError::SealBroken { .. })), "another column");
        let other = Kek::load_or_create(&dir.path().join("k2")).unwrap();
        assert!(other.open(Sealed::Seed, "12345", &s).is_err(), "another key");
        assert_ne!(kek.id(), other.id());
        let mut flipped = s.clone();
        *flipped.last_mut().unwrap() ^= 1;
        assert!(kek.open(Sealed::Seed, "12345", &flipped).is_err());
        assert!(kek.open(Sealed::Seed, "12345", b"seed bytes").is_err(), "plaintext is not sealed");
        assert_eq!(Kek::load(&dir.path().join("k")).unwrap().id(), kek.id(), "the id is the key's");
        assert!(!format!("{kek:?}").contains(&softtoken_core::secret::hex_encode(&kek.key[..])));
    }

    #[cfg(unix)]
    #[test]
    fn a_key_file_others_can_read_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        Kek::load_or_create(&path).unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(Kek::load(&path).unwrap_err().to_string().contains("chmod 600"));
    }
}
