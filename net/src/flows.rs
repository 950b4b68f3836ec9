//! The app's online flows: activation by link, pending transactions, answers, unregistering on
//! removal, push tokens. Every reply's `server_time` keeps the identity's clock offset up to date
//! (`docs/protocol.md` §5); a `stale` refusal is retried once with the corrected clock.
//!
//! No lock is held while a provider answers: the flows reach the vault through [`VaultAccess`],
//! in short steps with no I/O inside (read what a request needs → send it → apply the reply). So a
//! slow provider never keeps the app from locking, and a vault locked meanwhile simply refuses
//! the step that applies the reply.

use crate::client::{ProviderClient, Reply};
use crate::error::{Error, Result};
use crate::transport::TransactionTransport;
use softtoken_core::activation::PendingActivation;
use softtoken_core::clock::Clock;
use softtoken_core::identity::Identity;
use softtoken_core::link::OnlineActivationLink;
use softtoken_core::protocol::Refusal;
use softtoken_core::transaction::{self, Answer, IdentityRequest, Response, Transaction};
use softtoken_core::vault::Vault;
use softtoken_core::Result as CoreResult;

/// A stored offset is rewritten only when the provider's clock says it is off by more than this.
const OFFSET_TOLERANCE_S: i64 = 2;
/// The largest offset taken from a provider's (unauthenticated) `server_time`: one day. A larger
/// one is reported ([`Error::ProviderClockOff`]) instead of applied.
pub const MAX_OFFSET_S: i64 = softtoken_core::identity::MAX_TIME_OFFSET_S;

/// Whether a call is the user's action (it restarts the idle timer) or a read (it does not). The
/// façade applies it (`softtoken_app::Authenticator`); online flows say which each step is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activity {
    /// A user action: unlocking, adding, renaming, answering, … restarts the idle timer.
    Action,
    /// A read: listing, showing TOTP codes, a step the app takes by itself; the idle lock still
    /// applies.
    Read,
}

/// Short access to the unlocked vault: each call takes whatever guards the vault, runs `step`
/// (which does no I/O) and releases it.
pub trait VaultAccess {
    /// Runs `step` on the unlocked vault, as `activity`.
    fn with_vault(&self, activity: Activity, step: &mut dyn FnMut(&mut Vault) -> CoreResult<()>) -> CoreResult<()>;
}

impl VaultAccess for std::sync::Mutex<Vault> {
    fn with_vault(&self, _activity: Activity, step: &mut dyn FnMut(&mut Vault) -> CoreResult<()>) -> CoreResult<()> {
        step(&mut self.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

/// Runs one step through `access` and returns its value.
pub(crate) fn step<T>(access: &dyn VaultAccess, activity: Activity, f: impl FnOnce(&mut Vault) -> CoreResult<T>) -> Result<T> {
    let mut f = Some(f);
    let mut out = None;
    access.with_vault(activity, &mut |v| {
        if let Some(f) = f.take() {
            out = Some(f(v)?);
        }
        Ok(())
    })?;
    Ok(out.ok_or(softtoken_core::Error::VaultLocked)?)
}

/// A transaction waiting for the user, with the identity it is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingTransaction {
    /// The identity's id in the vault.
    pub identity_id: String,
    /// The identity's name.
    pub identity_name: String,
    /// The transaction as the provider sent it (verbatim: show it through
    /// `softtoken_core::text`). A privacyIDEA sign-in request has the server's nonce as its id,
    /// the question as its summary and the title as its one detail.
    pub transaction: Transaction,
    /// The values to pick from (privacyIDEA's presence check: the login page shows one of them);
    /// empty when there is nothing to pick.
    pub choices: Vec<String>,
}

/// What a fetch found.
#[derive(Debug, Default)]
pub struct Fetched {
    /// Pending transactions of every online identity, oldest first.
    pub transactions: Vec<PendingTransaction>,
    /// Identities whose provider could not be asked, or sent an item that is not a transaction
    /// (name, why); everything else was still fetched.
    pub failures: Vec<(String, Error)>,
}

/// A finished online activation.
#[derive(Debug, Clone)]
pub struct Activated {
    /// The stored identity.
    pub identity: Identity,
    /// The registration code the app sent for the user.
    pub registration_code: String,
}

/// What removing an identity did.
#[derive(Debug)]
pub struct Removed {
    /// The removed identity's id.
    pub id: String,
    /// The removed identity's name.
    pub name: String,
    /// `None` for an offline identity; else whether its provider forgot it (and why not).
    pub unregistered: Option<Result<()>>,
    /// What stays at a server that has no way for the app to unregister (privacyIDEA, eduMFA):
    /// the token, for its administrator to delete.
    pub left_at_server: Option<String>,
}

fn base_of(identity: &Identity) -> Result<&str> {
    identity.transaction_url.as_deref().ok_or_else(|| Error::NotOnline(identity.name.clone()))
}

/// This device's time corrected by the identity's offset.
pub(crate) fn corrected_now(clock: &dyn Clock, offset_s: i64) -> u64 {
    (clock.unix_time() as i64).saturating_add(offset_s).max(0) as u64
}

/// The offset the provider's `server_time` calls for, when it differs from `current` by more than
/// the tolerance (else `None`: keep `current`). Beyond [`MAX_OFFSET_S`] it is refused.
fn new_offset(clock: &dyn Clock, server_time: Option<u64>, current: i64) -> Result<Option<i64>> {
    let Some(server_time) = server_time else {
        return Ok(None);
    };
    let measured = (server_time as i64).saturating_sub(clock.unix_time() as i64);
    if measured.abs() > MAX_OFFSET_S {
        return Err(Error::ProviderClockOff { offset_s: measured, limit_s: MAX_OFFSET_S });
    }
    Ok(((measured - current).abs() > OFFSET_TOLERANCE_S).then_some(measured))
}

/// Keeps the identity's offset in step with the provider's clock; returns the offset in force.
fn record_offset(access: &dyn VaultAccess, id: &str, current: i64, clock: &dyn Clock, server_time: Option<u64>) -> Result<i64> {
    match new_offset(clock, server_time, current)? {
        Some(measured) => step(access, Activity::Read, |v| v.set_time_offset(id, measured)).map(|()| measured),
        None => Ok(current),
    }
}

/// Runs `request` at the identity's corrected time; after a `stale` refusal, once more with the
/// offset the refusal's `server_time` gave.
fn with_clock<T>(access: &dyn VaultAccess, identity: &Identity, clock: &dyn Clock, mut request: impl FnMut(u64) -> Reply<T>) -> Result<T> {
    let mut offset = identity.time_offset_s;
    let mut attempt = 0;
    loop {
        let reply = request(corrected_now(clock, offset));
        offset = record_offset(access, &identity.id, offset, clock, reply.server_time)?;
        match reply.result {
            Err(Error::Refused { refusal: Refusal::Stale, .. }) if attempt == 0 && reply.server_time.is_some() => attempt += 1,
            other => return other,
        }
    }
}

/// Activates from an online activation link: fetches the activation, derives the seed, stores the
/// identity with its provider address, and sends the registration code itself (no typing). If the
/// provider does not take the code, the identity is removed again and the link can be retried.
pub fn activate_link(
    access: &dyn VaultAccess,
    transport: &dyn TransactionTransport,
    clock: &dyn Clock,
    link: &str,
    push_token: Option<&str>,
    name: Option<&str>,
) -> Result<Activated> {
    let link = OnlineActivationLink::parse(link)?;
    if let Some(t) = push_token {
        transaction::check_push_token(t)?;
    }
    let client = ProviderClient::new(&link.base_url, transport);
    let fetched = client.activation(&link.token);
    let online = fetched.result?;
    let rng = ring::rand::SystemRandom::new();
    let pending = PendingActivation::from_online(&online.serial, &online.activation_code, online.policy.as_deref(), online.digits, Some(&link.base_url), &rng)?;
    let registration_code = pending.registration_code.to_string();
    let mut identity = pending.into_identity(name, None, clock.unix_time(), &rng)?;
    identity.transaction_url = Some(link.base_url.clone());
    identity.push_token = push_token.map(str::to_string);
    identity.time_offset_s = new_offset(clock, fetched.server_time, 0)?.unwrap_or(0);
    let stored = step(access, Activity::Action, |v| v.add(identity).cloned())?;
    match client.complete_activation(&link.token, &registration_code, push_token).result {
        Ok(()) => Ok(Activated { identity: stored, registration_code }),
        Err(e) => match step(access, Activity::Read, |v| v.remove(&stored.id)) {
            Ok(_) => Err(e),
            Err(undo) => Err(Error::HalfActivated { error: Box::new(e), undo: Box::new(undo), name: stored.name }),
        },
    }
}

/// The pending transactions of one online identity, each tagged with that identity: an item is
/// always (identity, id), never an id alone, since ids are chosen by each provider.
fn fetch_for(access: &dyn VaultAccess, transport: &dyn TransactionTransport, clock: &dyn Clock, identity: &Identity, into: &mut Fetched) {
    let result = base_of(identity).and_then(|base| {
        let client = ProviderClient::new(base, transport);
        let serial = identity.transaction_serial();
        with_clock(access, identity, clock, |at| client.pending(serial, at, &transaction::fetch_mac(identity.seed.expose(), serial, at)))
    });
    match result {
        Ok(items) => {
            for item in items {
                match item {
                    Ok(transaction) => into.transactions.push(PendingTransaction {
                        identity_id: identity.id.clone(),
                        identity_name: identity.name.clone(),
                        transaction,
                        choices: Vec::new(),
                    }),
                    Err(e) => into.failures.push((identity.name.clone(), e)),
                }
            }
        }
        Err(e) => into.failures.push((identity.name.clone(), e)),
    }
}

/// The pending transactions of one identity: its provider's, or its push server's challenges.
fn fetch_any(access: &dyn VaultAccess, transport: &dyn TransactionTransport, clock: &dyn Clock, identity: &Identity, into: &mut Fetched) {
    if identity.push_link.is_some() {
        crate::privacyidea::fetch_for(transport, clock, identity, into);
    } else {
        fetch_for(access, transport, clock, identity, into);
    }
}

/// Fetches the pending transactions of every online identity and the sign-in requests of every
/// push token, in one list (a read: it does not keep the vault unlocked). A provider that cannot
/// be asked, or an item that is not a transaction, is reported in [`Fetched::failures`]; the
/// rest is still fetched.
pub fn fetch_pending(access: &dyn VaultAccess, transport: &dyn TransactionTransport, clock: &dyn Clock) -> Result<Fetched> {
    let online: Vec<Identity> =
        step(access, Activity::Read, |v| Ok(v.identities().iter().filter(|i| i.is_online() || i.push_link.is_some()).cloned().collect()))?;
    let mut fetched = Fetched::default();
    for identity in &online {
        fetch_any(access, transport, clock, identity, &mut fetched);
    }
    // Oldest first by the provider's time; ties (and equal ids at two providers) stay apart by
    // identity, which is part of every item's key.
    fetched.transactions.sort_by(|a, b| (a.transaction.created_at, &a.identity_id).cmp(&(b.transaction.created_at, &b.identity_id)));
    Ok(fetched)
}

/// Answers a pending transaction; returns its new state (approved, cancelled, denied).
/// A transaction is named by its identity and its id together: ids are chosen by each provider,
/// so two providers may list the same id, and a rogue one could copy another's. With `identity`
/// (a name or id) only that identity's provider is asked; without it, an id pending at more than
/// one identity is refused as ambiguous, with the choices. `number` is the two-digit number the
/// website shows; only Confirm carries it (Cancel and Suspicious need none). The transaction is
/// fetched again, so the MAC covers exactly what the provider stored, and what is signed is the
/// item the user chose. For a push token's sign-in request `picked` is the value the login
/// page shows (when the request asks for one), and the reply may carry a code to type there.
pub fn respond(
    access: &dyn VaultAccess,
    transport: &dyn TransactionTransport,
    clock: &dyn Clock,
    identity: Option<&str>,
    transaction_id: &str,
    response: Response,
    picked: Option<&str>,
) -> Result<crate::privacyidea::Answered> {
    let mut fetched = match identity {
        Some(key) => {
            let identity = step(access, Activity::Read, |v| v.find(key).cloned())?;
            if identity.push_link.is_some() {
                // Answering is the user's action (as below); its server is polled once, inside,
                // and only a challenge it lists now is answered.
                let identity = step(access, Activity::Action, |v| v.find(&identity.id).cloned())?;
                return crate::privacyidea::respond(transport, clock, &identity, transaction_id, response, picked);
            }
            base_of(&identity)?;
            let mut fetched = Fetched::default();
            fetch_for(access, transport, clock, &identity, &mut fetched);
            fetched
        }
        None => fetch_pending(access, transport, clock)?,
    };
    let matching: Vec<usize> = fetched.transactions.iter().enumerate().filter(|(_, p)| p.transaction.id == transaction_id).map(|(i, _)| i).collect();
    let index = match matching.as_slice() {
        [one] => *one,
        [] => {
            if let Some((name, e)) = fetched.failures.pop() {
                return Err(Error::NotFoundWhileUnreachable { id: transaction_id.into(), identity: name, cause: Box::new(e) });
            }
            return Err(Error::Refused {
                refusal: Refusal::NotFound,
                message: format!("no pending transaction {transaction_id} (already answered, expired, or unknown)"),
            });
        }
        several => {
            let identities = several.iter().map(|&i| fetched.transactions[i].identity_name.clone()).collect();
            return Err(Error::AmbiguousTransaction { id: transaction_id.into(), identities });
        }
    };
    let pending = fetched.transactions.swap_remove(index);
    let identity = step(access, Activity::Action, |v| v.find(&pending.identity_id).cloned())?;
    if identity.push_link.is_some() {
        return crate::privacyidea::respond(transport, clock, &identity, transaction_id, response, picked);
    }
    let tx = pending.transaction;
    let number = match (response, picked.map(str::trim)) {
        (Response::Confirm, Some(p)) => p.parse::<u8>().map_err(|_| {
            softtoken_core::Error::invalid(
                softtoken_core::Field::Transaction,
                format!("{:?} is not the two-digit number the website shows", softtoken_core::text::neutralise(p)),
            )
        })?,
        _ => 0,
    };
    transaction::check_answer_number(&tx, response, number)?;
    let client = ProviderClient::new(base_of(&identity)?, transport);
    let state = with_clock(access, &identity, clock, |at| {
        let answer = Answer { response, answered_at: at, number };
        match transaction::answer_mac(identity.seed.expose(), &tx, &answer) {
            Ok(mac) => client.answer(&tx.id, &answer, &mac),
            Err(e) => Reply { result: Err(e.into()), server_time: None },
        }
    })?;
    Ok(crate::privacyidea::Answered { state, display_code: None })
}

/// Removes an identity; an online one is unregistered at its provider first (its pending
/// transactions are cancelled there and its push token forgotten). The identity is removed even
/// when the provider cannot be reached; [`Removed::unregistered`] says so.
pub fn remove_identity(access: &dyn VaultAccess, transport: &dyn TransactionTransport, clock: &dyn Clock, name_or_id: &str) -> Result<Removed> {
    let identity = step(access, Activity::Action, |v| v.find(name_or_id).cloned())?;
    let unregistered = match identity.transaction_url.as_deref() {
        None => None,
        Some(base) => {
            let client = ProviderClient::new(base, transport);
            let serial = identity.transaction_serial();
            let seed = identity.seed.expose();
            let result = with_clock(access, &identity, clock, |at| {
                client.unregister(serial, at, &transaction::request_mac(seed, serial, IdentityRequest::Unregister, at))
            });
            Some(match result {
                // Forgotten already: the goal is reached.
                Err(Error::Refused { refusal: Refusal::NotFound | Refusal::Unregistered, .. }) => Ok(()),
                other => other,
            })
        }
    };
    // privacyIDEA has no request for a phone to unregister its token.
    let left_at_server = identity.push_link.as_ref().map(|l| {
        format!(
            "token {} stays enrolled at {} ({}): ask its administrator to delete it",
            l.serial,
            l.server.name(),
            softtoken_core::privacyidea::enrollment::host_of(&l.url)
        )
    });
    let removed = step(access, Activity::Action, |v| v.remove(&identity.id))?;
    Ok(Removed { id: removed.id.clone(), name: removed.name.clone(), unregistered, left_at_server })
}

/// Registers a new push token (FCM/APNs, or a Web Push subscription) at the provider of every
/// online identity that does not have it yet; returns each attempt (identity name, result).
pub fn register_push_token(
    access: &dyn VaultAccess,
    transport: &dyn TransactionTransport,
    clock: &dyn Clock,
    token: &str,
) -> Result<Vec<(String, Result<()>)>> {
    transaction::check_push_token(token)?;
    let stale: Vec<Identity> =
        step(access, Activity::Action, |v| Ok(v.identities().iter().filter(|i| i.is_online() && i.push_token.as_deref() != Some(token)).cloned().collect()))?;
    let mut report = Vec::new();
    for identity in &stale {
        let result = base_of(identity).and_then(|base| {
            let client = ProviderClient::new(base, transport);
            let serial = identity.transaction_serial();
            let seed = identity.seed.expose();
            with_clock(access, identity, clock, |at| {
                client.push_token(serial, token, at, &transaction::request_mac(seed, serial, IdentityRequest::PushToken(token), at))
            })
        });
        let result = result.and_then(|()| step(access, Activity::Read, |v| v.set_push_token(&identity.id, Some(token.to_string()))));
        report.push((identity.name.clone(), result));
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use softtoken_core::clock::FixedClock;

    #[test]
    fn an_unauthenticated_server_time_cannot_set_an_unbounded_offset() {
        // The attack: a reply (any reply, even a refusal) with server_time far off moved every
        // code of the identity by that much.
        let clock = FixedClock(1_800_000_000);
        assert_eq!(new_offset(&clock, Some(1_800_000_600), 0).unwrap(), Some(600));
        assert_eq!(new_offset(&clock, Some(1_800_000_001), 0).unwrap(), None, "within the tolerance");
        assert_eq!(new_offset(&clock, Some(1_800_000_000 + 86_401), 0).unwrap_err(), Error::ProviderClockOff { offset_s: 86_401, limit_s: MAX_OFFSET_S });
        assert!(matches!(new_offset(&clock, Some(0), 0), Err(Error::ProviderClockOff { .. })));
        assert!(matches!(new_offset(&clock, Some(u64::MAX), 0), Err(Error::ProviderClockOff { .. })));
    }
}
