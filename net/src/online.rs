//! The app's online flows over an unlocked vault: activation by link, pending transactions,
//! answers, unregistering on removal, push tokens. Every reply's `server_time` keeps the
//! identity's clock offset up to date (`docs/protocol.md` §5); a `stale` refusal is retried once
//! with the corrected clock.

use crate::client::{ProviderClient, Reply};
use crate::transport::TransactionTransport;
use softtoken_core::activation::PendingActivation;
use softtoken_core::identity::Identity;
use softtoken_core::link::OnlineActivationLink;
use softtoken_core::otp::Clock;
use softtoken_core::transaction::{self, Answer, IdentityRequest, Response, Transaction};
use softtoken_core::vault::Vault;
use softtoken_core::{Error, Result};

/// A stored offset is rewritten only when the provider's clock says it is off by more than this.
const OFFSET_TOLERANCE_S: i64 = 2;

/// A transaction waiting for the user, with the identity it is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingTransaction {
    /// The identity's id in the vault.
    pub identity_id: String,
    /// The identity's name.
    pub identity_name: String,
    /// The transaction as the provider sent it.
    pub transaction: Transaction,
}

/// What a fetch found.
#[derive(Debug, Default)]
pub struct Fetched {
    /// Pending transactions of every online identity, oldest first.
    pub transactions: Vec<PendingTransaction>,
    /// Identities whose provider could not be asked (name, why); the others were still fetched.
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
}

fn base_of(identity: &Identity) -> Result<&str> {
    identity.transaction_url.as_deref().ok_or_else(|| Error::State(format!("{} was not activated online: it has no provider to ask", identity.name)))
}

/// This device's time corrected by the identity's offset.
fn corrected_now(clock: &dyn Clock, offset_s: i64) -> u64 {
    (clock.unix_time() as i64).saturating_add(offset_s).max(0) as u64
}

/// The offset the provider's `server_time` calls for, when it differs from `current` by more than
/// the tolerance (else `None`: keep `current`).
fn new_offset(clock: &dyn Clock, server_time: Option<u64>, current: i64) -> Option<i64> {
    let measured = server_time? as i64 - clock.unix_time() as i64;
    ((measured - current).abs() > OFFSET_TOLERANCE_S).then_some(measured)
}

/// Keeps the identity's offset in step with the provider's clock; returns the offset in force.
fn record_offset(vault: &mut Vault, id: &str, clock: &dyn Clock, server_time: Option<u64>) -> Result<i64> {
    let current = vault.find(id)?.time_offset_s;
    match new_offset(clock, server_time, current) {
        Some(measured) => vault.set_time_offset(id, measured).map(|()| measured),
        None => Ok(current),
    }
}

/// Runs `request` at the identity's corrected time; after a `stale` refusal, once more with the
/// offset the refusal's `server_time` gave.
fn with_clock<T>(vault: &mut Vault, identity: &Identity, clock: &dyn Clock, mut request: impl FnMut(u64) -> Reply<T>) -> Result<T> {
    let mut offset = identity.time_offset_s;
    for attempt in 0..2 {
        let reply = request(corrected_now(clock, offset));
        offset = record_offset(vault, &identity.id, clock, reply.server_time)?;
        match reply.result {
            Err(Error::Refused { code, .. }) if code == "stale" && attempt == 0 && reply.server_time.is_some() => continue,
            other => return other,
        }
    }
    unreachable!("the loop returns on its second attempt")
}

/// Activates from an online activation link: fetches the activation, derives the seed, stores the
/// identity with its provider address, and sends the registration code itself (no typing). If the
/// provider does not take the code, the identity is removed again and the link can be retried.
pub fn activate_link(
    vault: &mut Vault,
    transport: &dyn TransactionTransport,
    clock: &dyn Clock,
    link: &str,
    push_token: Option<&str>,
    name: Option<&str>,
) -> Result<Activated> {
    let link = OnlineActivationLink::parse(link)?;
    let client = ProviderClient::new(&link.base_url, transport);
    let fetched = client.activation(&link.token);
    let online = fetched.result?;
    let rng = ring::rand::SystemRandom::new();
    let pending = PendingActivation::from_online(&online.serial, &online.activation_code, online.policy.as_deref(), online.digits, Some(&link.base_url), &rng)?;
    let registration_code = pending.registration_code.to_string();
    let mut identity = pending.into_identity(name, None, clock.unix_time(), &rng)?;
    identity.transaction_url = Some(link.base_url.clone());
    identity.push_token = push_token.map(str::to_string);
    identity.time_offset_s = new_offset(clock, fetched.server_time, 0).unwrap_or(0);
    let stored = vault.add(identity)?.clone();
    match client.complete_activation(&link.token, &registration_code, push_token).result {
        Ok(()) => Ok(Activated { identity: stored, registration_code }),
        Err(e) => match vault.remove(&stored.id) {
            Ok(_) => Err(e),
            Err(undo) => Err(Error::State(format!("{e}; and the half-activated identity {:?} could not be removed: {undo}", stored.name))),
        },
    }
}

/// Fetches the pending transactions of every online identity.
pub fn fetch_pending(vault: &mut Vault, transport: &dyn TransactionTransport, clock: &dyn Clock) -> Result<Fetched> {
    let online: Vec<Identity> = vault.identities().iter().filter(|i| i.is_online()).cloned().collect();
    let mut fetched = Fetched::default();
    for identity in &online {
        let base = base_of(identity)?;
        let client = ProviderClient::new(base, transport);
        let serial = identity.transaction_serial();
        let result = with_clock(vault, identity, clock, |at| client.pending(serial, at, &transaction::fetch_mac(identity.seed.expose(), serial, at)));
        match result {
            Ok(list) => fetched.transactions.extend(list.into_iter().map(|transaction| PendingTransaction {
                identity_id: identity.id.clone(),
                identity_name: identity.name.clone(),
                transaction,
            })),
            Err(e) => fetched.failures.push((identity.name.clone(), e)),
        }
    }
    fetched.transactions.sort_by_key(|p| p.transaction.created_at);
    Ok(fetched)
}

/// Answers a pending transaction; returns its new state (`approved`, `cancelled`, `denied`).
/// `number` is the two-digit number the website shows, when the transaction asks for one. The
/// transaction is fetched again, so the MAC covers exactly what the provider stored.
pub fn respond(
    vault: &mut Vault,
    transport: &dyn TransactionTransport,
    clock: &dyn Clock,
    transaction_id: &str,
    response: Response,
    number: Option<u8>,
) -> Result<String> {
    let mut fetched = fetch_pending(vault, transport, clock)?;
    let Some(index) = fetched.transactions.iter().position(|p| p.transaction.id == transaction_id) else {
        if let Some((name, e)) = fetched.failures.pop() {
            return Err(Error::Network(format!("transaction {transaction_id} not found; the provider of {name} could not be asked: {e}")));
        }
        return Err(Error::Refused {
            code: "not_found".into(),
            message: format!("no pending transaction {transaction_id} (already answered, expired, or unknown)"),
        });
    };
    let pending = fetched.transactions.swap_remove(index);
    let identity = vault.find(&pending.identity_id)?.clone();
    let tx = pending.transaction;
    let number = number.unwrap_or(0);
    if response != Response::Cancel {
        tx.check_number(number)?;
    }
    let client = ProviderClient::new(base_of(&identity)?, transport);
    with_clock(vault, &identity, clock, |at| {
        let answer = Answer { response, answered_at: at, number: if response == Response::Cancel { 0 } else { number } };
        match transaction::answer_mac(identity.seed.expose(), &tx, &answer) {
            Ok(mac) => client.answer(&tx.id, &answer, &mac),
            Err(e) => Reply { result: Err(e), server_time: None },
        }
    })
}

/// Removes an identity; an online one is unregistered at its provider first (its pending
/// transactions are cancelled there and its push token forgotten). The identity is removed even
/// when the provider cannot be reached; [`Removed::unregistered`] says so.
pub fn remove_identity(vault: &mut Vault, transport: &dyn TransactionTransport, clock: &dyn Clock, name_or_id: &str) -> Result<Removed> {
    let identity = vault.find(name_or_id)?.clone();
    let unregistered = match identity.transaction_url.as_deref() {
        None => None,
        Some(base) => {
            let client = ProviderClient::new(base, transport);
            let serial = identity.transaction_serial();
            let seed = identity.seed.expose();
            let result = with_clock(vault, &identity, clock, |at| client.unregister(serial, at, &transaction::request_mac(seed, serial, IdentityRequest::Unregister, at)));
            Some(match result {
                // Forgotten already: the goal is reached.
                Err(Error::Refused { code, .. }) if code == "not_found" || code == "unregistered" => Ok(()),
                other => other,
            })
        }
    };
    let removed = vault.remove(&identity.id)?;
    Ok(Removed { id: removed.id.clone(), name: removed.name.clone(), unregistered })
}

/// Registers a new push token (FCM/APNs) at the provider of every online identity that does not
/// have it yet; returns each attempt (identity name, result).
pub fn register_push_token(vault: &mut Vault, transport: &dyn TransactionTransport, clock: &dyn Clock, token: &str) -> Result<Vec<(String, Result<()>)>> {
    transaction::check_push_token(token)?;
    let stale: Vec<Identity> = vault.identities().iter().filter(|i| i.is_online() && i.push_token.as_deref() != Some(token)).cloned().collect();
    let mut report = Vec::new();
    for identity in &stale {
        let client = ProviderClient::new(base_of(identity)?, transport);
        let serial = identity.transaction_serial();
        let seed = identity.seed.expose();
        let result = with_clock(vault, identity, clock, |at| client.push_token(serial, token, at, &transaction::request_mac(seed, serial, IdentityRequest::PushToken(token), at)))
            .and_then(|()| vault.set_push_token(&identity.id, Some(token.to_string())));
        report.push((identity.name.clone(), result));
    }
    Ok(report)
}
