//! The identities in an unlocked vault: lookup, adding (policy and duplicate checks), renaming,
//! removing, per-identity settings and HOTP counters. Every change is one `modify`.

use super::Vault;
use crate::error::{Error, Field, Result};
use crate::identity::{check_name, Identity, IdentityKind};

/// `needle`'s characters appear in `haystack` in order (spaces in `needle` ignored).
fn is_subsequence(needle: &str, haystack: &str) -> bool {
    let mut rest = haystack.chars();
    needle.chars().filter(|c| !c.is_whitespace()).all(|c| rest.any(|h| h == c))
}

/// An identity as a choice in an ambiguity error: `name (provider) [id]`.
fn describe(x: &Identity) -> String {
    match &x.provider {
        Some(p) if *p != x.name => format!("{} ({p}) [{}]", x.name, x.id),
        _ => format!("{} [{}]", x.name, x.id),
    }
}

/// HOTP counters searched ahead when resynchronising.
pub const RESYNC_WINDOW: u64 = 1000;

impl Vault {
    /// All identities, in the order added.
    pub fn identities(&self) -> &[Identity] {
        &self.identities
    }

    /// Finds an identity by id, then by exact name, then as people type it (see `index_of`).
    pub fn find(&self, name_or_id: &str) -> Result<&Identity> {
        let i = self.index_of(name_or_id)?;
        Ok(&self.identities[i])
    }

    fn index_of(&self, key: &str) -> Result<usize> {
        if let Some(i) = self.identities.iter().position(|x| x.id == key) {
            return Ok(i);
        }
        if let Some(i) = self.identities.iter().position(|x| x.name == key) {
            return Ok(i);
        }
        // ASCII case folding: the phone library does not carry Unicode's case tables (about 20 kB)
        // for this; other letters match as typed.
        let wanted = key.trim().to_ascii_lowercase();
        if wanted.is_empty() {
            return Err(Error::NotFound(key.to_string()));
        }
        // The way people type: the whole name in any case, then a part of the name or issuer,
        // then the letters in order (`gh` finds GitHub). The first rule that matches decides; a
        // rule that matches several is refused with the choices, never guessed.
        let fields = |x: &Identity| [Some(x.name.to_ascii_lowercase()), x.provider.as_deref().map(str::to_ascii_lowercase)];
        let rules: [&dyn Fn(&Identity) -> bool; 3] =
            [&|x| x.name.to_ascii_lowercase() == wanted, &|x| fields(x).iter().flatten().any(|f| f.contains(&wanted)), &|x| {
                fields(x).iter().flatten().any(|f| is_subsequence(&wanted, f))
            }];
        for rule in rules {
            let matches: Vec<usize> = (0..self.identities.len()).filter(|i| rule(&self.identities[*i])).collect();
            match matches.as_slice() {
                [] => continue,
                [i] => return Ok(*i),
                many => {
                    let choices = many.iter().map(|i| describe(&self.identities[*i])).collect();
                    return Err(Error::AmbiguousName { key: key.to_string(), choices });
                }
            }
        }
        Err(Error::NotFound(key.to_string()))
    }

    /// A name not used yet: `base`, else `base (2)`, `base (3)`, …
    pub fn unique_name(&self, base: &str) -> String {
        let taken = |n: &str| self.identities.iter().any(|x| x.name == n);
        if !taken(base) {
            return base.to_string();
        }
        (2..).map(|k| format!("{base} ({k})")).find(|n| !taken(n)).expect("unbounded")
    }

    /// The identity already holding the same secret and kind, if any.
    pub fn duplicate_of(&self, identity: &Identity) -> Option<&Identity> {
        self.identities.iter().find(|x| x.seed == identity.seed && x.kind == identity.kind && x.algorithm == identity.algorithm)
    }

    /// Adds an identity and saves. Refuses one whose policy needs a PIN in a PIN-less vault, and
    /// one already present.
    pub fn add(&mut self, identity: Identity) -> Result<&Identity> {
        identity.validate()?;
        let i = self.modify(|v| {
            v.admit(&identity)?;
            let mut identity = identity;
            identity.name = v.unique_name(identity.name.trim());
            v.identities.push(identity);
            Ok(v.identities.len() - 1)
        })?;
        Ok(&self.identities[i])
    }

    /// Why `identity` may not enter this vault, if it may not: its policy needs a PIN this vault
    /// lacks or forbids the biometric unlock it has, or it is already here.
    pub fn admit(&self, identity: &Identity) -> Result<()> {
        if identity.requires_pin() && !self.has_pin() {
            return Err(Error::PolicyViolation(crate::error::PolicyRule::PinRequired { identity: identity.name.clone() }));
        }
        if let Some(d) = self.duplicate_of(identity) {
            return Err(Error::Duplicate { existing: d.name.clone() });
        }
        if identity.forbids_biometric() && self.has_biometric() {
            return Err(Error::PolicyViolation(crate::error::PolicyRule::BiometricForbidden { identity: identity.name.clone() }));
        }
        Ok(())
    }

    /// Renames an identity and saves.
    pub fn rename(&mut self, name_or_id: &str, new_name: &str) -> Result<()> {
        check_name(new_name)?;
        self.modify(|v| {
            let i = v.index_of(name_or_id)?;
            if v.identities.iter().enumerate().any(|(j, x)| j != i && x.name == new_name.trim()) {
                return Err(Error::NameTaken(new_name.trim().to_string()));
            }
            v.identities[i].name = new_name.trim().to_string();
            Ok(())
        })
    }

    /// Removes an identity (its seed is zeroized when dropped) and saves.
    pub fn remove(&mut self, name_or_id: &str) -> Result<Identity> {
        self.modify(|v| {
            let i = v.index_of(name_or_id)?;
            Ok(v.identities.remove(i))
        })
    }

    /// Sets one field of an identity and saves; a failed save puts the old value back.
    fn set_and_save<T>(&mut self, name_or_id: &str, field: fn(&mut Identity) -> &mut T, value: T) -> Result<()> {
        self.modify(|v| {
            let i = v.index_of(name_or_id)?;
            *field(&mut v.identities[i]) = value;
            Ok(())
        })
    }

    /// Changes the code length of an Entrust identity (6 or 8: its issuer's setting, which a manual
    /// activation cannot read) without a new registration: the seed stays, only the shown codes
    /// change. An otpauth token's length is its issuer's and is not changed here.
    pub fn set_digits(&mut self, name_or_id: &str, digits: u8) -> Result<()> {
        if digits != 6 && digits != 8 {
            return Err(Error::invalid(Field::Digits, "an Entrust token shows 6 or 8 digits"));
        }
        self.change_entrust(name_or_id, Field::Digits, ": its code length is its issuer's", |i| i.digits = digits)
    }

    /// Sets (or with `None` clears) the provider address an Entrust identity's push sign-ins come
    /// from: https, or http to a loopback host.
    pub fn set_transaction_url(&mut self, name_or_id: &str, url: Option<&str>) -> Result<()> {
        let url = url.map(crate::link::check_base_url).transpose()?;
        self.change_entrust(name_or_id, Field::Transaction, "", |i| i.transaction_url = url)
    }

    /// Applies `change` to an Entrust identity and saves; any other kind is refused as invalid
    /// `field` (`why` ends the message).
    fn change_entrust(&mut self, name_or_id: &str, field: Field, why: &str, change: impl FnOnce(&mut Identity)) -> Result<()> {
        self.modify(|v| {
            let i = v.index_of(name_or_id)?;
            if v.identities[i].kind != IdentityKind::Entrust {
                return Err(Error::invalid(field, format!("{:?} is not an Entrust token{why}", v.identities[i].name)));
            }
            change(&mut v.identities[i]);
            Ok(())
        })
    }

    /// Records the push token registered at the identity's provider and saves.
    pub fn set_push_token(&mut self, name_or_id: &str, token: Option<String>) -> Result<()> {
        self.set_and_save(name_or_id, |i| &mut i.push_token, token)
    }

    /// Sets an identity's clock offset (seconds added to this device's time) and saves.
    pub fn set_time_offset(&mut self, name_or_id: &str, offset_s: i64) -> Result<()> {
        self.set_and_save(name_or_id, |i| &mut i.time_offset_s, offset_s)
    }

    /// The next HOTP code: the counter is advanced and saved *before* the code is returned, so a
    /// code is never shown twice even if the app dies right after.
    /// Under the vault lock the counter is read from the file, so two processes never show the
    /// same code.
    pub fn next_hotp(&mut self, name_or_id: &str) -> Result<String> {
        let (i, counter) = self.modify(|v| {
            let i = v.index_of(name_or_id)?;
            if v.identities[i].kind != IdentityKind::Hotp {
                return Err(Error::NotHotp(v.identities[i].name.clone()));
            }
            let counter = v.identities[i].counter;
            v.identities[i].counter = counter.checked_add(1).ok_or(Error::CounterExhausted)?;
            Ok((i, counter))
        })?;
        self.identities[i].hotp_code(counter)
    }

    /// Resynchronises an HOTP counter from two consecutive codes (searching 1 000 counters ahead).
    pub fn resync_hotp(&mut self, name_or_id: &str, first: &str, second: &str) -> Result<u64> {
        self.modify(|v| {
            let i = v.index_of(name_or_id)?;
            let id = &v.identities[i];
            let hotp = crate::otp::Hotp::new(id.seed.clone(), id.algorithm, id.digits)?;
            let mut from = id.counter;
            let end = id.counter.saturating_add(RESYNC_WINDOW);
            let found = loop {
                match hotp.find_counter(first, from, end - from)? {
                    Some(c) if hotp.code(c + 1) == second.trim() => break c,
                    Some(c) => from = c + 1,
                    None => return Err(Error::ResyncFailed { window: RESYNC_WINDOW }),
                }
            };
            v.identities[i].counter = found + 2;
            Ok(found + 2)
        })
    }
}
