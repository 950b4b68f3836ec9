//! Push transactions on the provider's side (`docs/protocol.md` §3, §4, §7): create, answer (with
//! the first answer final), offline confirmation codes, expiry, the pending limit and the event log.
//!
//! Every state change runs in one write transaction (SQLite's `BEGIN IMMEDIATE`, or PostgreSQL's
//! advisory lock: [`crate::database`]), so concurrent answers — from one server or several sharing
//! a database — are serialised and no answer is lost or counted twice. [`crate::protocol::route`]
//! applies these rules to the apps' requests; the portal and the CLI call them directly.

use crate::database::{params, Db, OptionalRow};
use crate::sealed::Sealed;
use crate::{random, Provider, ProviderError, Result};
use softtoken_core::transaction::{self, Answer, Response, Transaction, MAX_ANSWER_SKEW_S};
use zeroize::Zeroizing;

/// Pending transactions allowed per identity (against push fatigue).
pub const MAX_PENDING: u32 = 5;
/// Wrong offline confirmation codes before the transaction is denied.
pub const MAX_WRONG_CODES: u32 = 5;
/// Default transaction lifetime in seconds.
pub const DEFAULT_TRANSACTION_LIFETIME_S: u64 = 120;

/// A transaction's state (the protocol's type).
pub use softtoken_core::protocol::TransactionState as State;

fn state_of(word: &str) -> State {
    State::parse(word).unwrap_or(State::Pending)
}

/// What to push.
#[derive(Debug, Clone)]
pub struct PushOptions {
    /// What the user is asked to approve.
    pub summary: String,
    /// Key/value details shown under it, in order.
    pub details: Vec<(String, String)>,
    /// Seconds until it expires.
    pub lifetime_s: u64,
    /// The website shows a two-digit number the user must type in the app.
    pub number_match: bool,
    /// An offline ("classic") transaction: a 10-digit id the user types, answered by a code.
    pub offline: bool,
}

/// A created transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pushed {
    /// Its id (32 hex digits, or 10 digits offline).
    pub transaction_id: String,
    /// The number the website shows when number matching is on.
    pub number: Option<u8>,
    /// The push token a content-free wake-up goes to (`docs/protocol.md` §7); none when the app
    /// registered none. [`Provider::wake`] sends it when it is a Web Push subscription; sending
    /// through FCM/APNs needs the operator's credentials: not built.
    pub push_token: Option<String>,
}

/// One logged answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// The transaction.
    pub transaction_id: String,
    /// The identity.
    pub serial: String,
    /// "confirm", "suspicious", or "wrong_number" / "wrong_codes" for denials.
    pub response: String,
    /// Unix seconds, provider clock.
    pub at: u64,
}

/// What an identity request's MAC is checked with ([`Provider::request_seed`]).
pub struct RequestKey {
    /// The identity's seed (or the decoy's).
    pub seed: Zeroizing<Vec<u8>>,
    /// The identity was unregistered by its app.
    pub unregistered: bool,
    /// False for the decoy: no MAC is accepted, whatever it checks against.
    pub known: bool,
}

struct Row {
    tx: Transaction,
    number: Option<u8>,
    state: State,
    wrong_codes: u32,
    seed: Zeroizing<Vec<u8>>,
    /// Created offline (answered by a typed confirmation code, never listed to the app).
    offline: bool,
}

impl Provider {
    /// Creates a transaction for a completed identity.
    pub fn push(&self, serial: &str, opts: &PushOptions, now: u64) -> Result<Pushed> {
        if opts.summary.trim().is_empty() {
            return Err(ProviderError::Invalid("a transaction needs a summary".into()));
        }
        if opts.lifetime_s == 0 {
            return Err(ProviderError::Invalid("the lifetime must be at least 1 s".into()));
        }
        let db = crate::database::begin_write(&self.db)?;
        let token: Option<(Option<i64>, Option<i64>, Option<String>, String)> = db
            .query_row("SELECT completed_at, unregistered_at, push_token, kind FROM tokens WHERE serial = ?1", params![serial], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })
            .optional()?;
        let push_token = match token {
            None => return Err(ProviderError::UnknownSerial(serial.into())),
            Some((_, _, _, kind)) if kind != "entrust" => {
                return Err(ProviderError::Refused(format!("{serial} is a {kind} token: its app has no transactions (only Entrust-style tokens do)")))
            }
            Some((None, _, _, _)) => return Err(ProviderError::NotCompleted(serial.into())),
            Some((_, Some(_), _, _)) => return Err(ProviderError::Unregistered(serial.into())),
            Some((Some(_), None, push_token, _)) => push_token,
        };
        db.execute("UPDATE transactions SET state = 'expired' WHERE state = 'pending' AND expires_at < ?1", params![now as i64])?;
        let pending: u32 = db.query_row("SELECT COUNT(*) FROM transactions WHERE serial = ?1 AND state = 'pending'", params![serial], |r| r.get(0))?;
        if pending >= MAX_PENDING {
            return Err(ProviderError::TooManyPending(pending));
        }
        let id = if opts.offline { random::digits(&self.rng, 10)?.iter().map(|d| char::from(b'0' + d)).collect() } else { random::hex(&self.rng, 16)? };
        // Uniform over 10..=99 (the old first-digit draw made 10–19 twice as likely).
        let number = if opts.number_match { Some(random::uniform(&self.rng, 10..=99)?) } else { None };
        let details = serde_json::to_string(&opts.details).expect("pairs of strings serialise");
        db.execute(
            // `seq` numbers pushes in order (one writer at a time: the write lock is held).
            "INSERT INTO transactions (id, serial, summary, details, created_at, expires_at, number, state, offline, seq)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'pending', ?8, (SELECT COALESCE(MAX(seq), 0) + 1 FROM transactions))",
            params![id, serial, opts.summary, details, now as i64, now.saturating_add(opts.lifetime_s) as i64, number, opts.offline],
        )?;
        db.commit()?;
        Ok(Pushed { transaction_id: id, number, push_token })
    }

    fn row(db: &Db, kek: &crate::sealed::Kek, id: &str) -> Result<Row> {
        let row = db
            .query_row(
                "SELECT t.serial, t.summary, t.details, t.created_at, t.expires_at, t.number, t.state, t.wrong_codes, k.seed, t.offline
                 FROM transactions t JOIN tokens k ON k.serial = t.serial WHERE t.id = ?1",
                params![id],
                |r| {
                    Ok((
                        r.get::<String>(0)?,
                        r.get::<String>(1)?,
                        r.get::<String>(2)?,
                        r.get::<i64>(3)?,
                        r.get::<i64>(4)?,
                        r.get::<Option<u8>>(5)?,
                        r.get::<String>(6)?,
                        r.get::<u32>(7)?,
                        r.get::<Vec<u8>>(8)?,
                        r.get::<bool>(9)?,
                    ))
                },
            )
            .optional()?
            .ok_or_else(|| ProviderError::UnknownTransaction(id.into()))?;
        let (serial, summary, details, created_at, expires_at, number, state, wrong_codes, seed, offline) = row;
        let seed = kek.open(Sealed::Seed, &serial, &seed)?;
        let details: Vec<(String, String)> = serde_json::from_str(&details).map_err(|e| ProviderError::Fault(format!("stored details: {e}")))?;
        let tx = Transaction {
            id: id.into(),
            serial,
            summary,
            details,
            created_at: created_at as u64,
            expires_at: expires_at as u64,
            number_match: number.is_some(),
        };
        Ok(Row { tx, number, state: state_of(&state), wrong_codes, seed, offline })
    }

    /// The transaction as the app sees it, with its state now.
    pub fn transaction(&self, id: &str, now: u64) -> Result<(Transaction, State)> {
        let r = Self::row(&self.db, &self.kek, id)?;
        let state = if r.state == State::Pending && now > r.tx.expires_at { State::Expired } else { r.state };
        Ok((r.tx, state))
    }

    /// Pending, unexpired online transactions of an identity, oldest first. Offline ones (answered
    /// by a typed confirmation code) are never listed: the app could not answer them online.
    pub fn pending(&self, serial: &str, now: u64) -> Result<Vec<Transaction>> {
        let ids: Vec<String> = self.db.query_map(
            "SELECT id FROM transactions WHERE serial = ?1 AND state = 'pending' AND offline = 0 AND expires_at >= ?2 ORDER BY created_at, seq",
            params![serial, now as i64],
            |r| r.get(0),
        )?;
        ids.iter().map(|id| Ok(Self::row(&self.db, &self.kek, id)?.tx)).collect()
    }

    /// The serial a transaction was sent to, if the id is known.
    pub fn serial_of_transaction(&self, id: &str) -> Result<Option<String>> {
        self.db.query_row("SELECT serial FROM transactions WHERE id = ?1", params![id], |r| r.get(0)).optional()
    }

    /// The serial of the identity whose app made this answer, when its MAC verifies against the
    /// stored transaction (a read: nothing changes). Rate limits charge an identity only for
    /// answers that are really its own.
    pub fn authentic_answerer(&self, id: &str, answer: &Answer, mac: &str) -> Option<String> {
        let r = Self::row(&self.db, &self.kek, id).ok()?;
        transaction::verify_answer_mac(&r.seed, &r.tx, answer, mac).then_some(r.tx.serial)
    }

    /// The key an identity request's MAC is checked with: the seed of a completed identity,
    /// unregistered or not (the server checks request MACs before saying anything about the
    /// identity's state). For a serial that is unknown or not completed it is a decoy, unsealed
    /// the same way, that no MAC is accepted with: both paths do the same work, so the time of a
    /// `bad_mac` does not tell which serials exist.
    pub fn request_seed(&self, serial: &str) -> Result<RequestKey> {
        let row: Option<(Option<Vec<u8>>, Option<i64>)> =
            self.db.query_row("SELECT seed, unregistered_at FROM tokens WHERE serial = ?1", params![serial], |r| Ok((r.get(0)?, r.get(1)?))).optional()?;
        match row {
            Some((Some(seed), unregistered)) => {
                Ok(RequestKey { seed: self.kek.open(Sealed::Seed, serial, &seed)?, unregistered: unregistered.is_some(), known: true })
            }
            _ => Ok(RequestKey { seed: self.kek.open(Sealed::Seed, crate::sealed::DECOY_SERIAL, &self.decoy_seed)?, unregistered: false, known: false }),
        }
    }

    /// The seed of a completed identity (the server checks fetch MACs with it).
    pub fn seed_of(&self, serial: &str) -> Result<Zeroizing<Vec<u8>>> {
        let row: Option<(Option<Vec<u8>>, Option<i64>)> =
            self.db.query_row("SELECT seed, unregistered_at FROM tokens WHERE serial = ?1", params![serial], |r| Ok((r.get(0)?, r.get(1)?))).optional()?;
        match row {
            None => Err(ProviderError::UnknownSerial(serial.into())),
            Some((_, Some(_))) => Err(ProviderError::Unregistered(serial.into())),
            Some((None, None)) => Err(ProviderError::NotCompleted(serial.into())),
            Some((Some(s), None)) => self.kek.open(Sealed::Seed, serial, &s),
        }
    }

    /// A transaction's state now.
    pub fn status(&self, id: &str, now: u64) -> Result<State> {
        Ok(self.transaction(id, now)?.1)
    }

    /// Opens the write transaction in which transaction `id` is answered: refuses one already
    /// answered, and records and refuses one past its expiry (the first answer is final).
    fn begin_answer(&self, id: &str, now: u64) -> Result<(crate::database::Tx<'_>, Row)> {
        // Looked up before the write lock: requests for unknown ids (a flood of guesses) never
        // queue behind, or block, the real answers.
        Self::row(&self.db, &self.kek, id)?;
        let db = crate::database::begin_write(&self.db)?;
        let r = Self::row(&db, &self.kek, id)?;
        if r.state != State::Pending {
            return Err(if r.state == State::Expired { ProviderError::TransactionExpired(id.into()) } else { ProviderError::AlreadyAnswered(id.into()) });
        }
        if now > r.tx.expires_at {
            db.execute("UPDATE transactions SET state = 'expired' WHERE id = ?1", params![id])?;
            db.commit()?;
            return Err(ProviderError::TransactionExpired(id.into()));
        }
        Ok((db, r))
    }

    /// Applies an authenticated answer (`docs/protocol.md` §3); the first answer is final.
    pub fn answer(&self, id: &str, answer: &Answer, mac: &str, now: u64) -> Result<State> {
        let (db, r) = self.begin_answer(id, now)?;
        if !transaction::verify_answer_mac(&r.seed, &r.tx, answer, mac) {
            return Err(ProviderError::NotAuthentic);
        }
        if answer.answered_at.abs_diff(now) > MAX_ANSWER_SKEW_S {
            return Err(ProviderError::Stale(MAX_ANSWER_SKEW_S));
        }
        // Only Confirm carries the number: Suspicious is the fraud signal of a user who never saw
        // it, and is logged as such.
        let wrong_number = answer.response == Response::Confirm && r.number.is_some_and(|n| n != answer.number);
        let (state, logged) = match answer.response {
            _ if wrong_number => (State::Denied, Some("wrong_number")),
            Response::Confirm => (State::Approved, Some("confirm")),
            Response::Cancel => (State::Cancelled, Some("cancel")),
            Response::Suspicious => (State::Denied, Some("suspicious")),
        };
        db.execute("UPDATE transactions SET state = ?1 WHERE id = ?2", params![state.as_str(), id])?;
        if let Some(response) = logged {
            db.execute("INSERT INTO events (transaction_id, serial, response, at) VALUES (?1, ?2, ?3, ?4)", params![id, r.tx.serial, response, now as i64])?;
        }
        db.commit()?;
        if wrong_number {
            return Err(ProviderError::WrongNumber);
        }
        Ok(state)
    }

    /// Checks an offline confirmation code (`docs/protocol.md` §4): approves on the right code;
    /// after [`MAX_WRONG_CODES`] wrong ones the transaction is denied. Only a transaction created
    /// offline takes a code: an online one (with number matching, say) is answered in the app,
    /// and a code would approve it without the number.
    pub fn check_confirmation(&self, id: &str, code: &str, now: u64) -> Result<State> {
        let id: String = id.chars().filter(|c| !matches!(c, '-' | ' ')).collect();
        let (db, r) = self.begin_answer(&id, now)?;
        if !r.offline {
            return Err(ProviderError::NotOffline(id));
        }
        if transaction::verify_confirmation_code(&r.seed, &r.tx.serial, &id, code) {
            db.execute("UPDATE transactions SET state = 'approved' WHERE id = ?1", params![id])?;
            db.execute("INSERT INTO events (transaction_id, serial, response, at) VALUES (?1, ?2, 'confirm', ?3)", params![id, r.tx.serial, now as i64])?;
            db.commit()?;
            return Ok(State::Approved);
        }
        let wrong = r.wrong_codes + 1;
        if wrong >= MAX_WRONG_CODES {
            db.execute("UPDATE transactions SET state = 'denied', wrong_codes = ?1 WHERE id = ?2", params![wrong, id])?;
            db.execute("INSERT INTO events (transaction_id, serial, response, at) VALUES (?1, ?2, 'wrong_codes', ?3)", params![id, r.tx.serial, now as i64])?;
        } else {
            db.execute("UPDATE transactions SET wrong_codes = ?1 WHERE id = ?2", params![wrong, id])?;
        }
        db.commit()?;
        Err(ProviderError::NotAuthentic)
    }

    /// Every logged answer, oldest first (Confirm, Cancel, Suspicious, and denials for a wrong
    /// number or wrong confirmation codes).
    pub fn log(&self) -> Result<Vec<Event>> {
        self.db.query_map("SELECT transaction_id, serial, response, at FROM events ORDER BY seq", params![], |r| {
            Ok(Event { transaction_id: r.get(0)?, serial: r.get(1)?, response: r.get(2)?, at: r.get::<i64>(3)? as u64 })
        })
    }
}
