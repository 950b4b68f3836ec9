//! The app's online flows against the real provider logic (`softtoken_provider::protocol::route`, the
//! function the HTTP server calls for every request), driven in process so the provider's clock can
//! be set apart from the app's: drift correction, stale retries, expiry, tampering on the way, and
//! failed activations. The same flows over real loopback HTTP are in cli/tests and the Kotlin and
//! Swift suites.

use softtoken_core::clock::{Clock, SystemClock};
use softtoken_core::protocol::{Refusal, TransactionState};
use softtoken_core::transaction::Response;
use softtoken_core::vault::KdfParams;
use softtoken_core::vault::{MemoryKeyStore, Vault, VaultOptions};
use softtoken_net::Error;
use softtoken_net::{HttpRequest, HttpResponse, Method, TransactionTransport};
use softtoken_provider::protocol::transactions::PushOptions;
use softtoken_provider::{IssueOptions, Provider};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

const BASE: &str = "http://127.0.0.1:9";

/// The provider in process, its clock `skew` seconds from this machine's.
struct InProcess {
    /// The address the app knows this provider by.
    base: &'static str,
    provider: Mutex<Provider>,
    skew: AtomicI64,
    /// Drop the reply to POST /v1/activation (the provider still handles it).
    lose_completion: AtomicBool,
    /// Change every summary in pending lists (a man in the middle).
    tamper: AtomicBool,
}

impl InProcess {
    fn new(dir: &std::path::Path) -> Arc<Self> {
        Self::at(dir, BASE, "provider.db")
    }

    fn at(dir: &std::path::Path, base: &'static str, file: &str) -> Arc<Self> {
        Arc::new(InProcess {
            base,
            provider: Mutex::new(Provider::open(&dir.join(file)).unwrap()),
            skew: AtomicI64::new(0),
            lose_completion: AtomicBool::new(false),
            tamper: AtomicBool::new(false),
        })
    }

    fn now(&self) -> u64 {
        (SystemClock.unix_time() as i64 + self.skew.load(Ordering::SeqCst)) as u64
    }

    fn link(&self) -> (String, String) {
        let opts = IssueOptions { online_base_url: Some(self.base.into()), ..Default::default() };
        let issued = self.provider.lock().unwrap().issue(&opts, self.now()).unwrap();
        (issued.link.clone().unwrap(), issued.serial.clone())
    }

    fn push(&self, serial: &str, lifetime_s: u64) -> String {
        let opts = PushOptions { summary: "Sign in to Example Bank".into(), details: vec![], lifetime_s, number_match: false, offline: false };
        self.provider.lock().unwrap().push(serial, &opts, self.now()).unwrap().transaction_id
    }
}

impl TransactionTransport for InProcess {
    fn send(&self, r: &HttpRequest) -> Result<HttpResponse, String> {
        let path = r.url.strip_prefix(self.base).ok_or("wrong host")?;
        let now = self.now();
        assert!(!path.contains("mac="), "MACs never travel in URLs: {path}");
        let authorization = r.headers.iter().find(|(k, _)| k == "Authorization").map(|(_, v)| v.as_str());
        let request = softtoken_provider::protocol::Request { method: r.method.as_str(), url: path, authorization, body: r.body.as_deref().unwrap_or("") };
        let (status, mut body) = softtoken_provider::protocol::route(&self.provider.lock().unwrap(), &request, now);
        if r.method == Method::Post && path.starts_with("/v1/activation/") && self.lose_completion.load(Ordering::SeqCst) {
            return Err("connection reset".into());
        }
        if self.tamper.load(Ordering::SeqCst) {
            if let Some(list) = body["transactions"].as_array_mut() {
                for t in list {
                    t["summary"] = "Sign in to Example Bank (harmless)".into();
                }
            }
        }
        body["server_time"] = now.into();
        Ok(HttpResponse { status, body: body.to_string() })
    }
}

fn vault(dir: &std::path::Path) -> Mutex<Vault> {
    Mutex::new(Vault::create(&dir.join("v.stv"), Arc::new(MemoryKeyStore::new()), None, VaultOptions { kdf: KdfParams::MINIMUM, max_attempts: 10 }).unwrap())
}

/// A provider in process and a vault holding one identity activated from its link (its serial).
fn activated(dir: &std::path::Path) -> (Arc<InProcess>, Mutex<Vault>, String) {
    let server = InProcess::new(dir);
    let v = vault(dir);
    let (link, serial) = server.link();
    softtoken_net::activate_link(&v, server.as_ref(), &SystemClock, &link, None, None).unwrap();
    (server, v, serial)
}

/// A rogue provider: it lists whatever `list` says as its pending transactions.
struct Rogue {
    inner: Arc<InProcess>,
    list: Mutex<serde_json::Value>,
}

impl TransactionTransport for Rogue {
    fn send(&self, r: &HttpRequest) -> Result<HttpResponse, String> {
        let mut reply = self.inner.send(r)?;
        if r.method == Method::Get && r.url.ends_with("/transactions") {
            let mut body: serde_json::Value = serde_json::from_str(&reply.body).unwrap();
            body["transactions"] = self.list.lock().unwrap().clone();
            reply.body = body.to_string();
        }
        Ok(reply)
    }
}

#[test]
fn a_rogue_provider_listing_another_providers_transaction_id_cannot_get_it_answered() {
    // The attack (issue 28, finding 1): the victim has identities at a bank and at a rogue
    // provider M. The attacker starts a number-matching sign-in at the bank (id T); M lists its
    // own "Claim your coupon" under the same id T with a later time. Answering "T" signed a
    // Confirm for the bank's T. Now an item is (identity, id): an id listed twice is refused
    // as ambiguous, and naming M's identity answers M only.
    let dir = tempfile::tempdir().unwrap();
    let bank = InProcess::at(dir.path(), "http://127.0.0.1:9", "bank.db");
    let rogue_provider = InProcess::at(dir.path(), "http://127.0.0.2:9", "rogue.db");
    let rogue = Arc::new(Rogue { inner: rogue_provider.clone(), list: Mutex::new(serde_json::json!([])) });
    struct Both(Arc<InProcess>, Arc<Rogue>);
    impl TransactionTransport for Both {
        fn send(&self, r: &HttpRequest) -> Result<HttpResponse, String> {
            if r.url.starts_with(self.0.base) {
                self.0.send(r)
            } else {
                self.1.send(r)
            }
        }
    }
    let net = Both(bank.clone(), rogue.clone());
    let v = vault(dir.path());
    let (link, bank_serial) = bank.link();
    softtoken_net::activate_link(&v, &net, &SystemClock, &link, None, Some("bank")).unwrap();
    let (link, _) = rogue_provider.link();
    softtoken_net::activate_link(&v, &net, &SystemClock, &link, None, Some("coupons")).unwrap();
    let opts = PushOptions { summary: "Sign in to Example Bank".into(), details: vec![], lifetime_s: 120, number_match: true, offline: false };
    let pushed = bank.provider.lock().unwrap().push(&bank_serial, &opts, bank.now()).unwrap();
    let t = pushed.transaction_id.clone();
    let number = pushed.number.unwrap();
    let now = bank.now();
    *rogue.list.lock().unwrap() = serde_json::json!([{
        "id": t, "summary": format!("Claim your coupon — type {number}"), "details": [],
        "created_at": now + 5, "expires_at": now + 120, "number_match": true,
    }]);
    let listed = softtoken_net::fetch_pending(&v, &net, &SystemClock).unwrap();
    assert_eq!(listed.transactions.len(), 2, "{:?}", listed.failures);
    assert!(listed.transactions.iter().all(|p| p.transaction.id == t));
    // The id alone names two items: refused, with both identities named, and nothing sent.
    let e = softtoken_net::respond(&v, &net, &SystemClock, None, &t, Response::Confirm, Some(format!("{number:02}").as_str())).unwrap_err();
    match &e {
        Error::AmbiguousTransaction { id, identities } => {
            assert_eq!(id, &t);
            assert_eq!(identities.len(), 2, "{identities:?}");
            assert!(identities.contains(&"bank".to_string()) && identities.contains(&"coupons".to_string()));
        }
        other => panic!("{other}"),
    }
    assert_eq!(bank.provider.lock().unwrap().status(&t, bank.now()).unwrap().as_str(), "pending");
    // The user confirms the coupon, named by its identity: only M is answered (and M's copy is
    // not the bank's, so the bank's sign-in stays pending and unapproved).
    let _ = softtoken_net::respond(&v, &net, &SystemClock, Some("coupons"), &t, Response::Confirm, Some(format!("{number:02}").as_str()));
    assert_eq!(bank.provider.lock().unwrap().status(&t, bank.now()).unwrap().as_str(), "pending");
    assert!(bank.provider.lock().unwrap().log().unwrap().is_empty(), "the bank logged no answer");
    // The reverse: a Suspicious meant for the bank reaches the bank, never M.
    assert_eq!(softtoken_net::respond(&v, &net, &SystemClock, Some("bank"), &t, Response::Suspicious, None).unwrap().state, TransactionState::Denied);
    assert_eq!(bank.provider.lock().unwrap().log().unwrap()[0].response, "suspicious");
}

#[test]
fn a_device_clock_ten_minutes_off_is_corrected() {
    let dir = tempfile::tempdir().unwrap();
    let server = InProcess::new(dir.path());
    server.skew.store(600, Ordering::SeqCst);
    let v = vault(dir.path());
    let (link, serial) = server.link();
    let done = softtoken_net::activate_link(&v, server.as_ref(), &SystemClock, &link, None, None).unwrap();
    let offset = v.lock().unwrap().find(&done.identity.id).unwrap().time_offset_s;
    assert!((598..=602).contains(&offset), "offset {offset}");
    // Codes follow the provider's clock.
    let code = v.lock().unwrap().find(&done.identity.id).unwrap().code_now(&SystemClock).unwrap().code;
    assert!(server.provider.lock().unwrap().verify(&serial, &code, server.now(), 0).unwrap().valid);
    // A lost offset: the first fetch is stale, the retry uses the offset the refusal reported.
    v.lock().unwrap().set_time_offset(&done.identity.id, 0).unwrap();
    let tx = server.push(&serial, 120);
    let fetched = softtoken_net::fetch_pending(&v, server.as_ref(), &SystemClock).unwrap();
    assert!(fetched.failures.is_empty(), "{:?}", fetched.failures);
    assert_eq!(fetched.transactions[0].transaction.id, tx);
    assert!((598..=602).contains(&v.lock().unwrap().find(&done.identity.id).unwrap().time_offset_s));
    assert_eq!(softtoken_net::respond(&v, server.as_ref(), &SystemClock, None, &tx, Response::Confirm, None).unwrap().state, TransactionState::Approved);
}

#[test]
fn an_expired_transaction_cannot_be_approved() {
    let dir = tempfile::tempdir().unwrap();
    let (server, v, serial) = activated(dir.path());
    let tx = server.push(&serial, 30);
    assert_eq!(softtoken_net::fetch_pending(&v, server.as_ref(), &SystemClock).unwrap().transactions.len(), 1);
    server.skew.store(31, Ordering::SeqCst); // the provider's clock passes the expiry
    let e = softtoken_net::respond(&v, server.as_ref(), &SystemClock, None, &tx, Response::Confirm, None).unwrap_err();
    assert!(matches!(&e, Error::Refused { refusal: Refusal::NotFound, .. }), "{e}");
    assert_eq!(server.provider.lock().unwrap().status(&tx, server.now()).unwrap().as_str(), "expired");
    assert!(server.provider.lock().unwrap().log().unwrap().is_empty());
}

#[test]
fn a_summary_changed_on_the_way_is_not_approved() {
    let dir = tempfile::tempdir().unwrap();
    let (server, v, serial) = activated(dir.path());
    let tx = server.push(&serial, 120);
    server.tamper.store(true, Ordering::SeqCst);
    let shown = softtoken_net::fetch_pending(&v, server.as_ref(), &SystemClock).unwrap();
    assert!(shown.transactions[0].transaction.summary.ends_with("(harmless)"));
    // The user approved what they were shown; the MAC covers it, so the provider refuses.
    let e = softtoken_net::respond(&v, server.as_ref(), &SystemClock, None, &tx, Response::Confirm, None).unwrap_err();
    assert!(matches!(&e, Error::Refused { refusal: Refusal::BadMac, .. }), "{e}");
    assert_eq!(server.provider.lock().unwrap().status(&tx, server.now()).unwrap().as_str(), "pending");
}

#[test]
fn a_failed_activation_leaves_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let server = InProcess::new(dir.path());
    let store = Arc::new(MemoryKeyStore::new());
    let v = Mutex::new(Vault::create(&dir.path().join("v.stv"), store.clone(), None, VaultOptions { kdf: KdfParams::MINIMUM, max_attempts: 10 }).unwrap());
    let (link, _) = server.link();
    // A refused registration code (the link's token is wrong) stores nothing.
    let forged = format!("{}ffff", &link[..link.len() - 4]);
    assert!(matches!(softtoken_net::activate_link(&v, server.as_ref(), &SystemClock, &forged, None, None), Err(Error::Refused { .. })));
    assert!(v.lock().unwrap().identities().is_empty());
    // A reply lost after the provider took the code: the identity is removed again, and the used
    // link says so on retry.
    server.lose_completion.store(true, Ordering::SeqCst);
    assert!(matches!(softtoken_net::activate_link(&v, server.as_ref(), &SystemClock, &link, None, None), Err(Error::Unreachable(_) | Error::NotProtocol(_))));
    assert!(v.lock().unwrap().identities().is_empty());
    server.lose_completion.store(false, Ordering::SeqCst);
    let e = softtoken_net::activate_link(&v, server.as_ref(), &SystemClock, &link, None, None).unwrap_err();
    assert!(matches!(&e, Error::Refused { refusal: Refusal::NotFound, .. }), "{e}");
    // A fresh link works, and the vault file on disk holds the identity with its provider address.
    let (link, serial) = server.link();
    softtoken_net::activate_link(&v, server.as_ref(), &SystemClock, &link, Some("fcm:t1"), Some("bank")).unwrap();
    let reopened = Vault::open(&dir.path().join("v.stv"), store, None, SystemClock.unix_time()).unwrap();
    let bank = reopened.find("bank").unwrap();
    assert_eq!(bank.transaction_url.as_deref(), Some(BASE));
    assert_eq!(bank.push_token.as_deref(), Some("fcm:t1"));
    assert_eq!(server.provider.lock().unwrap().push_token_of(&serial).unwrap().as_deref(), Some("fcm:t1"));
}

#[test]
fn push_tokens_are_registered_once_per_identity() {
    let dir = tempfile::tempdir().unwrap();
    let server = InProcess::new(dir.path());
    let v = vault(dir.path());
    let mut serials = Vec::new();
    for name in ["a", "b"] {
        let (link, serial) = server.link();
        softtoken_net::activate_link(&v, server.as_ref(), &SystemClock, &link, Some("fcm:old"), Some(name)).unwrap();
        serials.push(serial);
    }
    let report = softtoken_net::register_push_token(&v, server.as_ref(), &SystemClock, "fcm:new").unwrap();
    assert_eq!(report.len(), 2);
    assert!(report.iter().all(|(_, r)| r.is_ok()));
    for s in &serials {
        assert_eq!(server.provider.lock().unwrap().push_token_of(s).unwrap().as_deref(), Some("fcm:new"));
    }
    assert!(softtoken_net::register_push_token(&v, server.as_ref(), &SystemClock, "fcm:new").unwrap().is_empty(), "nothing to resend");
    assert!(softtoken_net::register_push_token(&v, server.as_ref(), &SystemClock, "").is_err());
}

#[test]
fn one_offline_transaction_does_not_block_push_approvals() {
    // The attack (finding 7): after one `push --offline` (a 10-digit id) the pending list held an
    // item the app rejected, and the whole list failed: no push could be approved.
    let dir = tempfile::tempdir().unwrap();
    let (server, v, serial) = activated(dir.path());
    let offline = PushOptions { summary: "Pay 10 EUR".into(), details: vec![], lifetime_s: 120, number_match: false, offline: true };
    server.provider.lock().unwrap().push(&serial, &offline, server.now()).unwrap();
    let tx = server.push(&serial, 120);
    let fetched = softtoken_net::fetch_pending(&v, server.as_ref(), &SystemClock).unwrap();
    assert!(fetched.failures.is_empty(), "{:?}", fetched.failures);
    assert_eq!(fetched.transactions.len(), 1, "offline transactions are not listed");
    assert_eq!(softtoken_net::respond(&v, server.as_ref(), &SystemClock, None, &tx, Response::Confirm, None).unwrap().state, TransactionState::Approved);
}

#[test]
fn a_malformed_item_in_the_pending_list_is_reported_and_the_rest_kept() {
    struct OneBadItem(Arc<InProcess>);
    impl TransactionTransport for OneBadItem {
        fn send(&self, r: &HttpRequest) -> Result<HttpResponse, String> {
            let mut reply = self.0.send(r)?;
            let mut body: serde_json::Value = serde_json::from_str(&reply.body).unwrap();
            if let Some(list) = body["transactions"].as_array_mut() {
                list.insert(0, serde_json::json!({"id": "0123456789", "summary": "?", "details": [], "created_at": 1, "expires_at": 2}));
            }
            reply.body = body.to_string();
            Ok(reply)
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let (server, v, serial) = activated(dir.path());
    let tx = server.push(&serial, 120);
    let bad = OneBadItem(server.clone());
    let fetched = softtoken_net::fetch_pending(&v, &bad, &SystemClock).unwrap();
    assert_eq!(fetched.transactions.len(), 1);
    assert_eq!(fetched.transactions[0].transaction.id, tx);
    assert_eq!(fetched.failures.len(), 1);
}

#[test]
fn suspicious_on_a_number_matching_push_needs_no_number_and_is_logged() {
    // The attack on the fraud signal (finding 8): the user who gets a push they did not start
    // never sees its number; Suspicious was refused without one and logged as wrong_number with one.
    let dir = tempfile::tempdir().unwrap();
    let (server, v, serial) = activated(dir.path());
    let opts = PushOptions { summary: "Sign in".into(), details: vec![], lifetime_s: 120, number_match: true, offline: false };
    let pushed = server.provider.lock().unwrap().push(&serial, &opts, server.now()).unwrap();
    assert_eq!(
        softtoken_net::respond(&v, server.as_ref(), &SystemClock, None, &pushed.transaction_id, Response::Suspicious, None).unwrap().state,
        TransactionState::Denied
    );
    let log = server.provider.lock().unwrap().log().unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].response, "suspicious");
    // A number typed anyway is not sent with Suspicious (it could only be a guess).
    let pushed = server.provider.lock().unwrap().push(&serial, &opts, server.now()).unwrap();
    assert_eq!(
        softtoken_net::respond(&v, server.as_ref(), &SystemClock, None, &pushed.transaction_id, Response::Suspicious, Some("42")).unwrap().state,
        TransactionState::Denied
    );
    assert_eq!(server.provider.lock().unwrap().log().unwrap()[1].response, "suspicious");
    // Cancel needs none either; Confirm still does.
    let pushed = server.provider.lock().unwrap().push(&serial, &opts, server.now()).unwrap();
    assert!(softtoken_net::respond(&v, server.as_ref(), &SystemClock, None, &pushed.transaction_id, Response::Confirm, None).is_err());
    assert_eq!(
        softtoken_net::respond(&v, server.as_ref(), &SystemClock, None, &pushed.transaction_id, Response::Cancel, None).unwrap().state,
        TransactionState::Cancelled
    );
}

#[test]
fn the_vault_is_not_held_while_a_provider_answers() {
    // The attack (finding 9): a slow provider kept the session lock, so the app could not lock.
    struct Slow(Arc<InProcess>, Arc<Mutex<Vault>>, AtomicBool);
    impl TransactionTransport for Slow {
        fn send(&self, r: &HttpRequest) -> Result<HttpResponse, String> {
            if self.1.try_lock().is_err() {
                self.2.store(true, Ordering::SeqCst);
            }
            self.0.send(r)
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let (server, v, serial) = activated(dir.path());
    let v = Arc::new(v);
    server.push(&serial, 120);
    let slow = Slow(server.clone(), v.clone(), AtomicBool::new(false));
    let fetched = softtoken_net::fetch_pending(v.as_ref(), &slow, &SystemClock).unwrap();
    let tx = fetched.transactions[0].transaction.id.clone();
    softtoken_net::respond(v.as_ref(), &slow, &SystemClock, None, &tx, Response::Confirm, None).unwrap();
    assert!(!slow.2.load(Ordering::SeqCst), "the vault was held during a request");
}

#[test]
fn identity_requests_do_not_tell_an_unknown_serial_from_a_bad_mac() {
    let dir = tempfile::tempdir().unwrap();
    let (server, _v, serial) = activated(dir.path());
    let p = server.provider.lock().unwrap();
    let now = server.now();
    let auth = format!("Softtoken-MAC at={now}, mac=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    let ask = |serial: &str| {
        let url = format!("/v1/identities/{serial}/transactions");
        let (status, body) = softtoken_provider::protocol::route(
            &p,
            &softtoken_provider::protocol::Request { method: "GET", url: &url, authorization: Some(&auth), body: "" },
            now,
        );
        (status, body["error"].clone(), body["message"].as_str().unwrap_or_default().replace(serial, "S"))
    };
    assert_eq!(ask(&serial), ask("99999-99999"));
    assert_eq!(ask(&serial).0, 401);
    let (status, body) = softtoken_provider::protocol::route(
        &p,
        &softtoken_provider::protocol::Request {
            method: "GET",
            url: &format!("/v1/identities/{serial}/transactions?at={now}&mac=x"),
            authorization: None,
            body: "",
        },
        now,
    );
    assert_eq!((status, body["error"].as_str()), (401, Some("bad_mac")), "a MAC in the URL is not accepted");
}
