//! The vault file format, versions 1 and 2 (all integers little-endian).
//!
//! ```text
//! outer (clear):  magic "STVAULT\0" | u16 version | u8 n, key-store kind (n ASCII bytes)
//!                 | vault id (16 ASCII hex) | 8-byte SHA-256 prefix of the above
//!                 | sealed = DeviceKeyStore::seal("softtoken/v1/vault/<id>", inner)
//! inner:          the outer header again (so the clear header is authenticated by the seal)
//!                 | u8 kdf (0 none, 1 Argon2id) | u32 m_kib | u32 t | u32 p | 16-byte salt
//!                 | u32 max PIN attempts | u16 n, key slot | u16 n, biometric slot
//!                 | (v2) u64 generation
//!                 | payload = AES-256-GCM(data key, JSON identities,
//!                                          aad = "softtoken/v1/payload" ‖ inner up to here)
//! ```
//!
//! The checksum in the clear header only tells a flipped byte (reported as corrupt) from a newer
//! format (reported as unsupported); the device seal authenticates everything.
//!
//! Version 2 adds the generation: it grows by one with every save and the device key store keeps
//! the highest one written, so an older copy of the file put back is refused (version 1 files
//! open as generation 0 and are written as version 2 at their next save).

use crate::error::{Error, Result};
use crate::vault::keys::KdfParams;

/// Magic bytes of a vault file.
pub const MAGIC: &[u8; 8] = b"STVAULT\0";
/// The vault format version this build writes (and the newest it reads).
pub const VERSION: u16 = 2;
/// The oldest vault format version this build reads.
pub const OLDEST_VERSION: u16 = 1;

/// The clear header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OuterHeader {
    /// Format version.
    pub version: u16,
    /// Which device key store sealed the vault.
    pub store_kind: String,
    /// Random id, part of the device-key labels.
    pub vault_id: String,
}

impl OuterHeader {
    /// Encodes the header with its checksum.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&self.version.to_le_bytes());
        out.push(self.store_kind.len() as u8);
        out.extend_from_slice(self.store_kind.as_bytes());
        out.extend_from_slice(self.vault_id.as_bytes());
        let sum = ring::digest::digest(&ring::digest::SHA256, &out);
        out.extend_from_slice(&sum.as_ref()[..8]);
        out
    }

    /// Label of the whole-file device seal.
    pub fn seal_label(&self) -> String {
        format!("softtoken/v1/vault/{}", self.vault_id)
    }
}

/// Reads fields with bounds checks; every short read is corruption, never a panic.
pub struct Reader<'a> {
    data: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    /// Starts at the beginning of `data`.
    pub fn new(data: &'a [u8]) -> Self {
        Reader { data, at: 0 }
    }
    /// The next `n` bytes.
    pub fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self.at.checked_add(n).filter(|e| *e <= self.data.len()).ok_or(Error::CorruptVault { previous_available: false })?;
        let s = &self.data[self.at..end];
        self.at = end;
        Ok(s)
    }
    /// A byte.
    pub fn u8(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }
    /// A little-endian u16.
    pub fn u16(&mut self) -> Result<u16> {
        Ok(u16::from_le_bytes(self.take(2)?.try_into().expect("2")))
    }
    /// A little-endian u32.
    pub fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_le_bytes(self.take(4)?.try_into().expect("4")))
    }
    /// Bytes read so far.
    pub fn position(&self) -> usize {
        self.at
    }
    /// Everything not read yet.
    pub fn rest(&mut self) -> &'a [u8] {
        let s = &self.data[self.at..];
        self.at = self.data.len();
        s
    }
}

const CORRUPT: Error = Error::CorruptVault { previous_available: false };

/// Splits a file into its clear header (checked) and the sealed part.
pub fn decode_outer(file: &[u8]) -> Result<(OuterHeader, Vec<u8>, &[u8])> {
    let mut r = Reader::new(file);
    if r.take(8)? != MAGIC {
        return Err(CORRUPT);
    }
    let version = r.u16()?;
    let n = r.u8()? as usize;
    let kind = r.take(n)?;
    let id = r.take(16)?;
    let header_len = r.position();
    let sum = r.take(8)?;
    let expect = ring::digest::digest(&ring::digest::SHA256, &file[..header_len]);
    if sum != &expect.as_ref()[..8] {
        return Err(CORRUPT);
    }
    if !(OLDEST_VERSION..=VERSION).contains(&version) {
        return Err(Error::UnsupportedFormat { what: "vault", version, supported: VERSION });
    }
    let store_kind = String::from_utf8(kind.to_vec()).map_err(|_| CORRUPT)?;
    let vault_id = String::from_utf8(id.to_vec()).map_err(|_| CORRUPT)?;
    let header = OuterHeader { version, store_kind, vault_id };
    Ok((header, file[..header_len + 8].to_vec(), r.rest()))
}

/// Everything inside the device seal but the payload ciphertext.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InnerHeader {
    /// `None` when the vault has no PIN.
    pub kdf: Option<KdfParams>,
    /// Argon2id salt.
    pub salt: [u8; 16],
    /// Wrong PINs before the vault locks for good.
    pub max_attempts: u32,
    /// The data key wrapped by the PIN key (PIN vaults) or the data key itself (no PIN; the device
    /// seal protects it).
    pub key_slot: Vec<u8>,
    /// The data key sealed under the biometric device key, or empty.
    pub bio_slot: Vec<u8>,
    /// Saves so far (0 for a version-1 file).
    pub generation: u64,
}

/// Encodes the inner header in the current version (after the repeated outer header).
pub fn encode_inner(outer: &[u8], h: &InnerHeader) -> Vec<u8> {
    let mut out = outer.to_vec();
    let k = h.kdf.unwrap_or(KdfParams { m_kib: 0, t: 0, p: 0 });
    out.push(if h.kdf.is_some() { 1 } else { 0 });
    out.extend_from_slice(&k.m_kib.to_le_bytes());
    out.extend_from_slice(&k.t.to_le_bytes());
    out.extend_from_slice(&k.p.to_le_bytes());
    out.extend_from_slice(&h.salt);
    out.extend_from_slice(&h.max_attempts.to_le_bytes());
    out.extend_from_slice(&(h.key_slot.len() as u16).to_le_bytes());
    out.extend_from_slice(&h.key_slot);
    out.extend_from_slice(&(h.bio_slot.len() as u16).to_le_bytes());
    out.extend_from_slice(&h.bio_slot);
    out.extend_from_slice(&h.generation.to_le_bytes());
    out
}

/// Decodes the inner plaintext: checks the repeated outer header, returns the inner header, the
/// bytes it spans (the payload's associated data) and the payload.
pub fn decode_inner<'a>(outer: &[u8], version: u16, inner: &'a [u8]) -> Result<(InnerHeader, &'a [u8], &'a [u8])> {
    let mut r = Reader::new(inner);
    if r.take(outer.len())? != outer {
        return Err(CORRUPT);
    }
    let kdf_id = r.u8()?;
    let (m_kib, t, p) = (r.u32()?, r.u32()?, r.u32()?);
    let kdf = match kdf_id {
        0 => None,
        1 => Some(KdfParams { m_kib, t, p }.check().map_err(|_| CORRUPT)?),
        _ => return Err(CORRUPT),
    };
    let salt = r.take(16)?.try_into().expect("16");
    let max_attempts = r.u32()?;
    let n = r.u16()? as usize;
    let key_slot = r.take(n)?.to_vec();
    let n = r.u16()? as usize;
    let bio_slot = r.take(n)?.to_vec();
    let generation = if version >= 2 { u64::from_le_bytes(r.take(8)?.try_into().expect("8")) } else { 0 };
    let header_end = r.position();
    let payload = r.rest();
    Ok((InnerHeader { kdf, salt, max_attempts, key_slot, bio_slot, generation }, &inner[..header_end], payload))
}
