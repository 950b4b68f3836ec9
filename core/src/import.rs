//! Imports from other authenticators: each input becomes a list of (label, identity or the reason
//! it cannot be used), so an import can store every good item and report every bad one.
//! Reading files is the shell's job; this module only looks at their bytes.

use crate::activation::otpauth_identity;
use crate::error::{Error, Result};
use crate::identity::Identity;
use crate::uri::{aegis, migration, OtpAuth};
use ring::rand::SecureRandom;

/// What an input turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A softtoken encrypted backup (needs its password).
    Backup,
    /// An Aegis plain JSON export.
    Aegis,
    /// Text: otpauth:// and otpauth-migration:// URIs, one per line.
    UriText,
}

/// Recognises an input by its content.
pub fn detect(bytes: &[u8]) -> Format {
    if bytes.starts_with(crate::vault::backup::MAGIC) {
        Format::Backup
    } else if bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{') {
        Format::Aegis
    } else {
        Format::UriText
    }
}

/// A migration batch seen during an import: which parts arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchSeen {
    /// Google's batch id.
    pub batch_id: i32,
    /// Parts in the batch.
    pub size: u32,
    /// Indices that arrived.
    pub indices: Vec<u32>,
}

/// Items from a text of URIs (blank lines and `#` comments skipped), with migration batches seen.
pub fn from_uri_text(text: &str, now: u64, rng: &dyn SecureRandom, batches: &mut Vec<BatchSeen>) -> Vec<(String, Result<Identity>)> {
    let mut items = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if migration::is_migration(line) {
            match migration::parse(line) {
                Ok(part) => {
                    match batches.iter_mut().find(|b| b.batch_id == part.batch_id && b.size == part.batch_size) {
                        Some(b) => b.indices.push(part.batch_index),
                        None => batches.push(BatchSeen { batch_id: part.batch_id, size: part.batch_size, indices: vec![part.batch_index] }),
                    }
                    items.extend(part.items.into_iter().map(|(label, t)| (label, t.and_then(|t| otpauth_identity(&t, None, now, rng)))));
                }
                Err(e) => items.push((format!("line {}", n + 1), Err(e))),
            }
        } else {
            let label = OtpAuth::parse(line).map(|u| display(&u)).unwrap_or_else(|_| format!("line {}", n + 1));
            items.push((label, OtpAuth::parse(line).and_then(|u| otpauth_identity(&u, None, now, rng))));
        }
    }
    items
}

fn display(u: &OtpAuth) -> String {
    match &u.issuer {
        Some(i) => format!("{i}: {}", u.account),
        None => u.account.clone(),
    }
}

/// Items from an Aegis plain export.
pub fn from_aegis(json: &str, now: u64, rng: &dyn SecureRandom) -> Result<Vec<(String, Result<Identity>)>> {
    Ok(aegis::parse(json)?.into_iter().map(|(label, t)| (label, t.and_then(|t| otpauth_identity(&t, None, now, rng)))).collect())
}

/// Items from a softtoken backup.
pub fn from_backup(bytes: &[u8], password: &str) -> Result<Vec<(String, Result<Identity>)>> {
    Ok(crate::vault::backup::decrypt(bytes, password)?.into_iter().map(|i| (i.name.clone(), Ok(i))).collect())
}

/// Items from bytes of a detected format (the backup password is asked only for backups).
pub fn from_bytes(
    bytes: &[u8],
    backup_password: &mut dyn FnMut() -> Result<String>,
    now: u64,
    rng: &dyn SecureRandom,
    batches: &mut Vec<BatchSeen>,
) -> Result<Vec<(String, Result<Identity>)>> {
    match detect(bytes) {
        Format::Backup => from_backup(bytes, &backup_password()?),
        Format::Aegis => from_aegis(std::str::from_utf8(bytes).map_err(|_| Error::MalformedUri("not UTF-8 text".into()))?, now, rng),
        Format::UriText => {
            let text = std::str::from_utf8(bytes).map_err(|_| Error::MalformedUri("not a backup, an Aegis export or a text of URIs".into()))?;
            let items = from_uri_text(text, now, rng, batches);
            if items.is_empty() {
                return Err(Error::MalformedUri("no otpauth or otpauth-migration URI found".into()));
            }
            Ok(items)
        }
    }
}

/// One report item per run of missing QR codes in a batch (label, reason), e.g.
/// ("migration batch 7: QR codes 2–4 of 5", "…not given"). Bounded by the parts that arrived,
/// never by a size read from the input.
pub fn missing_parts(batches: &[BatchSeen]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for b in batches {
        let mut seen: Vec<u32> = b.indices.iter().copied().filter(|i| *i < b.size).collect();
        seen.sort_unstable();
        seen.dedup();
        let mut next = 0u32;
        for gap_end in seen.iter().copied().chain(std::iter::once(b.size)) {
            if gap_end > next {
                let codes = if gap_end - next == 1 { format!("QR code {}", next + 1) } else { format!("QR codes {}–{}", next + 1, gap_end) };
                out.push((format!("migration batch {}: {codes} of {}", b.batch_id, b.size), "not given: import every QR code of the export".to_string()));
            }
            next = gap_end.saturating_add(1);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::rand::SystemRandom;

    #[test]
    fn text_with_good_bad_and_migration_lines() {
        let rng = SystemRandom::new();
        let mig = migration::format(&[OtpAuth::parse("otpauth://totp/G:m?secret=JBSWY3DPEHPK3PXP").unwrap()], 10, 9);
        let text = format!("# exported\notpauth://totp/A:x?secret=GEZDGNBVGY3TQOJQ\n\notpauth://totp/B:y?secret=1111\n{}\n", mig[0]);
        let mut batches = Vec::new();
        let items = from_uri_text(&text, 0, &rng, &mut batches);
        assert_eq!(items.len(), 3);
        assert!(items[0].1.is_ok());
        assert_eq!(items[1].0, "line 4");
        assert!(items[1].1.is_err());
        assert_eq!(items[2].1.as_ref().unwrap().provider.as_deref(), Some("G"));
        assert_eq!(batches, vec![BatchSeen { batch_id: 9, size: 1, indices: vec![0] }]);
        assert!(missing_parts(&batches).is_empty());
        let reason = "not given: import every QR code of the export".to_string();
        assert_eq!(missing_parts(&[BatchSeen { batch_id: 3, size: 2, indices: vec![1] }]), vec![("migration batch 3: QR code 1 of 2".to_string(), reason.clone())]);
        assert_eq!(
            missing_parts(&[BatchSeen { batch_id: 4, size: 6, indices: vec![0, 4, 4] }]),
            vec![("migration batch 4: QR codes 2–4 of 6".to_string(), reason.clone()), ("migration batch 4: QR code 6 of 6".to_string(), reason)]
        );
    }

    #[test]
    fn a_74_character_qr_code_with_a_huge_batch_size_is_refused_without_allocating() {
        // The attack: a migration QR code whose batch_size is 2^31-1 made the old code allocate one
        // string per missing part (1.3 GB) and abort.
        // Protobuf: version = 1, batch_size = 2^31-1, batch_id = 1.
        let payload = [0x10, 0x01, 0x18, 0xff, 0xff, 0xff, 0xff, 0x07, 0x28, 0x01];
        let data = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, payload);
        let uri = format!("otpauth-migration://offline?data={data}");
        assert!(uri.len() < 80, "{uri}");
        assert!(matches!(migration::parse(&uri), Err(Error::TooLarge { limit: 100, .. })));
        let mut batches = Vec::new();
        let items = from_uri_text(&uri, 0, &SystemRandom::new(), &mut batches);
        assert_eq!(items.len(), 1);
        assert!(items[0].1.is_err());
        assert!(missing_parts(&batches).is_empty());
        // A size just under the cap reports the gap as one item, not one per part.
        assert_eq!(missing_parts(&[BatchSeen { batch_id: 1, size: 100, indices: vec![0] }]).len(), 1);
    }

    proptest::proptest! {
        #[test]
        fn missing_parts_are_few_and_exact(size in 1u32..=100, indices in proptest::collection::vec(0u32..120, 0..20)) {
            let report = missing_parts(&[BatchSeen { batch_id: 1, size, indices: indices.clone() }]);
            let present: std::collections::BTreeSet<u32> = indices.iter().copied().filter(|i| *i < size).collect();
            proptest::prop_assert!(report.len() <= present.len() + 1);
            let mut missing = 0u32;
            for (label, _) in &report {
                let nums: Vec<u32> = label.rsplit_once(": QR code").unwrap().1.trim_start_matches('s').split(" of ").next().unwrap()
                    .trim().split('–').map(|n| n.parse().unwrap()).collect();
                missing += nums.last().unwrap() - nums[0] + 1;
            }
            proptest::prop_assert_eq!(missing, size - present.len() as u32);
        }
    }

    #[test]
    fn detects_formats() {
        assert_eq!(detect(b"STBACKUP\x01\x00"), Format::Backup);
        assert_eq!(detect(b"  {\"db\":{}}"), Format::Aegis);
        assert_eq!(detect(b"otpauth://totp/x?secret=AA"), Format::UriText);
    }
}
