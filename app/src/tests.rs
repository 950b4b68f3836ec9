//! The façade's rules: the idle lock, activity, HOTP only on request, PIN-confirmed exports.

use super::*;
use softtoken_core::entrust::ObservedOtp;
use softtoken_core::vault::{KdfParams, MemoryKeyStore};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

struct TestClock(AtomicU64);
impl Clock for TestClock {
    fn unix_time(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}
impl TestClock {
    fn set(&self, t: u64) {
        self.0.store(t, Ordering::SeqCst)
    }
}

const SEED: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

fn options() -> VaultOptions {
    VaultOptions { kdf: KdfParams::MINIMUM, max_attempts: 10 }
}

fn with_clock(dir: &tempfile::TempDir, t: u64) -> (Authenticator, Arc<TestClock>) {
    let clock = Arc::new(TestClock(AtomicU64::new(t)));
    (Authenticator::new(dir.path().join("v"), Arc::new(MemoryKeyStore::new()), clock.clone()), clock)
}

#[test]
fn auto_lock_after_idle_time() {
    let dir = tempfile::tempdir().unwrap();
    let (a, clock) = with_clock(&dir, 1_000);
    a.create(Some("1234"), options()).unwrap();
    a.set_auto_lock(60);
    a.add_otpauth(&format!("otpauth://totp/a?secret={SEED}"), None).unwrap();
    clock.set(1_059);
    assert!(a.is_unlocked());
    assert_eq!(a.code_at("a", 59).unwrap(), ShownCode { code: "287082".into(), remaining_s: Some(1) });
    clock.set(1_200);
    assert!(!a.is_unlocked());
    assert_eq!(a.code("a").unwrap_err(), Error::VaultLocked);
    assert_eq!(a.identities().unwrap_err(), Error::VaultLocked);
    a.unlock(Some("1234")).unwrap();
    assert_eq!(a.identities().unwrap().len(), 1);
}

#[test]
fn a_code_screen_refreshing_every_second_does_not_keep_the_vault_unlocked() {
    // The attack: every code read restarted the idle timer, so a phone left on its code screen
    // never locked; for HOTP each read also advanced the counter.
    let dir = tempfile::tempdir().unwrap();
    let (a, clock) = with_clock(&dir, 1_000);
    a.create(None, options()).unwrap();
    a.set_auto_lock(60);
    a.add_otpauth(&format!("otpauth://totp/t?secret={SEED}"), None).unwrap();
    a.add_otpauth(&format!("otpauth://hotp/h?secret={SEED}&counter=0"), None).unwrap();
    for t in 1_001..1_060 {
        clock.set(t);
        a.code("t").unwrap();
        a.identities().unwrap();
        a.info().unwrap();
        assert_eq!(a.code("h").unwrap_err(), Error::HotpNeedsRequest("h".into()), "a read never advances HOTP");
    }
    clock.set(1_060);
    assert!(!a.is_unlocked(), "locked 60 s after the last user action despite a code read every second");
    a.unlock(None).unwrap();
    assert_eq!(a.next_hotp("h").unwrap().code, "755224");
    assert_eq!(a.identity("h").unwrap().counter, 1);
}

#[test]
fn an_online_read_while_idle_does_not_keep_the_vault_unlocked() {
    // The attack: the online flows were fed the vault from outside the session, so a phone polling
    // for pushes kept an idle vault open. Through the façade, fetching is a read.
    let dir = tempfile::tempdir().unwrap();
    let (a, clock) = with_clock(&dir, 1_000);
    a.create(None, options()).unwrap();
    a.set_auto_lock(60);
    for t in (1_010..1_060).step_by(10) {
        clock.set(t);
        assert!(a.pending_transactions().unwrap().transactions.is_empty());
    }
    clock.set(1_060);
    assert!(matches!(a.pending_transactions(), Err(OnlineError::Core(Error::VaultLocked))));
}

#[test]
fn exports_need_the_pin_again() {
    let dir = tempfile::tempdir().unwrap();
    let (a, _) = with_clock(&dir, 5);
    a.create(Some("1234"), options()).unwrap();
    a.add_otpauth(&format!("otpauth://totp/x?secret={SEED}"), None).unwrap();
    assert!(matches!(a.export_backup(Some("9999"), "long password", KdfParams::MINIMUM), Err(Error::WrongPin { .. })));
    assert_eq!(a.export_backup(None, "long password", KdfParams::MINIMUM).unwrap_err(), Error::PinRequired);
    assert!(matches!(a.export_otpauth(Some("9999")), Err(Error::WrongPin { .. })));
    assert!(matches!(a.export_migration(None, 10), Err(Error::PinRequired)));
    assert!(matches!(a.change_pin(Some("9999"), Some("4321"), None), Err(Error::WrongPin { .. })));
    assert!(matches!(a.set_biometric(Some("9999"), true), Err(Error::WrongPin { .. })));
    let b = a.export_backup(Some("1234"), "long password", KdfParams::MINIMUM).unwrap();
    assert!(b.starts_with(b"STBACKUP"));
    let (text, n) = a.export_otpauth(Some("1234")).unwrap();
    assert_eq!(n, 1);
    assert!(text.contains(SEED), "{}", text.as_str());
    let m = a.export_migration(Some("1234"), 10).unwrap();
    assert_eq!((m.uris.len(), m.exported), (1, 1));
    // What was exported comes back in.
    let dir2 = tempfile::tempdir().unwrap();
    let (b2, _) = with_clock(&dir2, 5);
    b2.create(None, options()).unwrap();
    assert_eq!(b2.import_backup(&b, "long password").unwrap().imported, vec!["x".to_string()]);
    assert!(b2.import_uris(&m.uris[0]).unwrap().skipped[0].1.contains("already"));
}

#[test]
fn activation_preview_commit_and_moving_a_token() {
    let dir = tempfile::tempdir().unwrap();
    let (a, _) = with_clock(&dir, 1_570_434_609);
    a.create(None, options()).unwrap();
    let otps = [ObservedOtp { code: "043700".into(), unix_time: 1_570_434_609 }];
    let token = MovedToken { serial: "48244-13456", activation_code: "1745-7712-6942-8698", policy: None, registration_code: None, otps: &otps, digits: None };
    let moved = a.import_existing(&token, Some("moved")).unwrap();
    assert_eq!(a.code(&moved.id).unwrap().code, "043700");
    let p = a.begin_manual_activation("48244-13456", "1745-7712-6942-8698", Some(8)).unwrap();
    let new = a.commit_activation(p, Some("new"), None).unwrap();
    assert_eq!(new.digits, 8);
    assert_eq!(a.identities().unwrap().len(), 2);
}

/// A key store that, once armed, stops the first `open` until the test lets it go: an unlock
/// held in the middle, after it began and before its Argon2.
struct GatedStore {
    inner: MemoryKeyStore,
    armed: std::sync::atomic::AtomicBool,
    reached: std::sync::mpsc::SyncSender<()>,
    go: Mutex<std::sync::mpsc::Receiver<()>>,
}

impl DeviceKeyStore for GatedStore {
    fn kind(&self) -> String {
        self.inner.kind()
    }
    fn seal(&self, label: &str, plaintext: &[u8]) -> std::result::Result<Vec<u8>, softtoken_core::vault::KeyStoreError> {
        self.inner.seal(label, plaintext)
    }
    fn open(&self, label: &str, sealed: &[u8]) -> std::result::Result<Vec<u8>, softtoken_core::vault::KeyStoreError> {
        if self.armed.swap(false, Ordering::SeqCst) {
            self.reached.send(()).unwrap();
            guard(&self.go).recv().unwrap();
        }
        self.inner.open(label, sealed)
    }
    fn load(&self, label: &str) -> std::result::Result<Option<Vec<u8>>, softtoken_core::vault::KeyStoreError> {
        self.inner.load(label)
    }
    fn store(&self, label: &str, bytes: &[u8]) -> std::result::Result<(), softtoken_core::vault::KeyStoreError> {
        self.inner.store(label, bytes)
    }
}

#[test]
fn lock_answers_while_an_unlock_runs_and_wins_over_it() {
    // Unlocking holds no lock of the authenticator while it works: `is_unlocked` and `lock` answer
    // while an unlock is in the middle, and a lock given meanwhile (the user pressed "lock", or a
    // cancelled task locks) wins: the unlock does not put its vault in use.
    let dir = tempfile::tempdir().unwrap();
    let (reached_tx, reached) = std::sync::mpsc::sync_channel(1);
    let (go, go_rx) = std::sync::mpsc::sync_channel(1);
    let store = Arc::new(GatedStore { inner: MemoryKeyStore::new(), armed: false.into(), reached: reached_tx, go: Mutex::new(go_rx) });
    let a = Arc::new(Authenticator::new(dir.path().join("v"), store.clone(), Arc::new(TestClock(AtomicU64::new(5)))));
    a.create(Some("1234"), options()).unwrap();
    a.lock();
    store.armed.store(true, Ordering::SeqCst);
    let unlocking = {
        let a = a.clone();
        std::thread::spawn(move || a.unlock(Some("1234")))
    };
    reached.recv().unwrap();
    assert!(!a.is_unlocked());
    a.lock();
    go.send(()).unwrap();
    assert_eq!(unlocking.join().unwrap().unwrap_err(), Error::VaultLocked);
    assert!(!a.is_unlocked(), "the unlock that began before the lock did not put its vault in use");
    a.unlock(Some("1234")).unwrap();
    assert!(a.is_unlocked());
}

#[test]
fn a_push_token_that_arrives_while_locked_is_kept_for_the_next_unlock() {
    // The trap: apps are told to register tokens from onNewToken, when the vault is normally
    // locked; the registration failed and the token was lost until the platform rotated it again.
    let dir = tempfile::tempdir().unwrap();
    let (a, _) = with_clock(&dir, 5);
    a.create(None, options()).unwrap();
    a.lock();
    assert!(matches!(a.register_push_token("bad token\n"), Err(OnlineError::Core(Error::Invalid { .. }))), "checked even while locked");
    assert!(a.register_push_token("fcm:first").unwrap().kept_until_unlock);
    assert!(a.register_push_token("fcm:newest").unwrap().kept_until_unlock);
    assert!(a.register_kept_push_token().unwrap().unwrap().kept_until_unlock, "still locked: still kept");
    a.unlock(None).unwrap();
    let report = a.register_kept_push_token().unwrap().expect("the kept token is registered after the unlock");
    assert!(!report.kept_until_unlock);
    assert!(a.register_kept_push_token().unwrap().is_none(), "registered once, then forgotten");
}

#[test]
fn an_unlock_registers_the_kept_push_token_by_itself_without_waiting_for_it() {
    // Issue 31: the phone shells' FFI decided to register the kept token after an unlock; the
    // façade does it now, on a thread of its own.
    let dir = tempfile::tempdir().unwrap();
    let (a, _) = with_clock(&dir, 5);
    let a = Arc::new(a);
    a.create(None, options()).unwrap();
    a.lock();
    assert!(a.register_push_token("fcm:kept").unwrap().kept_until_unlock);
    assert!(a.has_kept_push_token());
    let unlocked = a.unlocking(None).unwrap();
    a.install_and_register_kept(unlocked).unwrap();
    assert!(a.is_unlocked());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while a.has_kept_push_token() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert!(!a.has_kept_push_token(), "registered (no online identity takes it here) and forgotten");
}

#[test]
fn the_code_ticker_wakes_at_the_period_edge_and_ends_when_the_vault_locks() {
    let dir = tempfile::tempdir().unwrap();
    let (a, clock) = with_clock(&dir, 1_000_020);
    a.create(None, options()).unwrap();
    a.set_auto_lock(60);
    a.add_otpauth(&format!("otpauth://totp/t?secret={SEED}"), None).unwrap();
    a.add_otpauth(&format!("otpauth://hotp/h?secret={SEED}&counter=0"), None).unwrap();
    let a = Arc::new(a);
    let never = std::sync::atomic::AtomicBool::new(false);
    assert!(matches!(a.next_code("h", &never), Err(Error::HotpNeedsRequest(_))), "HOTP never ticks");
    // The edge of the step holding 1 000 020 is 1 000 050: the ticker returns that step's code.
    let ticker = {
        let a = a.clone();
        std::thread::spawn(move || a.next_code("t", &std::sync::atomic::AtomicBool::new(false)))
    };
    std::thread::sleep(std::time::Duration::from_millis(300));
    clock.set(1_000_049);
    std::thread::sleep(std::time::Duration::from_millis(1200));
    assert!(!ticker.is_finished(), "no code before the edge");
    clock.set(1_000_050);
    let code = ticker.join().unwrap().unwrap().unwrap();
    assert_eq!(code, a.code_at("t", 1_000_050).unwrap());
    assert_eq!(code.remaining_s, Some(30));
    // Waiting is a read: the idle lock still comes (last action at 1 000 020), and ends the wait.
    let ticker = {
        let a = a.clone();
        std::thread::spawn(move || a.next_code("t", &std::sync::atomic::AtomicBool::new(false)))
    };
    clock.set(1_000_079);
    std::thread::sleep(std::time::Duration::from_millis(300));
    clock.set(1_000_081);
    assert_eq!(ticker.join().unwrap().unwrap_err(), Error::VaultLocked);
    // A cancelled wait ends within a second.
    a.unlock(None).unwrap();
    let cancelled = std::sync::atomic::AtomicBool::new(true);
    assert_eq!(a.next_code("t", &cancelled).unwrap(), None);
}
