//! Load and kill: C client connections fetch their identity's pending transactions and answer
//! them over loopback HTTP for S seconds while the company's side keeps pushing, and the server is
//! killed (SIGKILL) and restarted K times. Afterwards every transaction is checked against the
//! database: each answered one has exactly one final state and one log entry (Confirm, Cancel
//! and Suspicious), every answer the server acknowledged is the stored one, none
//! is lost or doubled, and the SQLite file passes `PRAGMA integrity_check`.
//!
//! With `--wrk`, `wrk` (the peer load generator) first measures the same server, undisturbed, on the
//! authenticated pending list and on `/v1/time` for 10 s each with the same number of connections.
//!
//! Usage: load PROVIDER_BINARY [--seconds S] [--connections C] [--kills K] [--wrk] [--json]
//! Prints requests/s, p50/p99 latency and errors; exits 1 when a check fails.

use ring::rand::SystemRandom;
use serde_json::json;
use softtoken_core::activation::PendingActivation;
use softtoken_core::transaction::{self, Answer, Response, Transaction};
use softtoken_provider::protocol::transactions::PushOptions;
use softtoken_provider::{IssueOptions, Provider};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Child;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[path = "support/http.rs"]
mod http;
use http::{percentile, wrk, Connection};

fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

/// The server process, restarted on the same port after each kill.
struct Server {
    binary: PathBuf,
    state: PathBuf,
    port: u16,
    child: Option<Child>,
}

impl Server {
    fn start(&mut self) {
        let (child, port) = http::serve(&self.binary, &["--state".into(), self.state.display().to_string()], self.port);
        self.port = port;
        self.child = Some(child);
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().unwrap(); // SIGKILL
            child.wait().unwrap();
        }
    }
}

/// What one client saw, for the checks afterwards.
#[derive(Default)]
struct Seen {
    /// Answers acknowledged by the server: id → (response sent, state returned or "already").
    acknowledged: HashMap<String, (Response, String)>,
    latencies_us: Vec<u64>,
    fetches: u64,
    answers: u64,
    connection_errors: u64,
    unexpected: Vec<String>,
}

struct Identity {
    serial: String,
    seed: Vec<u8>,
}

/// The response a client gives to a transaction: fixed by its id, so a retry sends the same one.
fn response_for(id: &str) -> Response {
    match id.bytes().fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b))) % 4 {
        0 => Response::Suspicious,
        1 => Response::Cancel,
        _ => Response::Confirm,
    }
}

fn client(port: u16, identity: &Identity, deadline: Instant, stop: &AtomicBool) -> Seen {
    let mut seen = Seen::default();
    let mut conn = Connection::new(port, "application/json");
    let path = format!("/v1/identities/{}/transactions", identity.serial);
    // Answers sent whose reply was lost (the server died): sent again, a 409 then confirms them.
    let mut in_doubt: HashMap<String, Response> = HashMap::new();
    while Instant::now() < deadline && !stop.load(Ordering::Relaxed) {
        let at = now();
        let auth = format!("Softtoken-MAC at={at}, mac={}", transaction::fetch_mac(&identity.seed, &identity.serial, at));
        let started = Instant::now();
        let list = match conn.request("GET", &path, Some(&auth), "") {
            Ok((200, list)) => list,
            Ok((status, v)) => {
                seen.unexpected.push(format!("fetch: {status} {v}"));
                continue;
            }
            Err(_) => {
                seen.connection_errors += 1;
                std::thread::sleep(Duration::from_millis(20));
                continue;
            }
        };
        seen.latencies_us.push(started.elapsed().as_micros() as u64);
        seen.fetches += 1;
        let txs = list["transactions"].as_array().cloned().unwrap_or_default();
        if txs.is_empty() {
            std::thread::sleep(Duration::from_millis(5));
        }
        for t in txs {
            let tx = Transaction {
                id: t["id"].as_str().unwrap_or_default().into(),
                serial: identity.serial.clone(),
                summary: t["summary"].as_str().unwrap_or_default().into(),
                details: serde_json::from_value(t["details"].clone()).unwrap_or_default(),
                created_at: t["created_at"].as_u64().unwrap_or(0),
                expires_at: t["expires_at"].as_u64().unwrap_or(0),
                number_match: false,
            };
            let response = response_for(&tx.id);
            let answer = Answer { response, answered_at: now(), number: 0 };
            let Ok(mac) = transaction::answer_mac(&identity.seed, &tx, &answer) else {
                seen.unexpected.push(format!("answer_mac failed for {}", tx.id));
                continue;
            };
            let body = json!({"response": response.as_str(), "answered_at": answer.answered_at, "number": 0, "mac": mac}).to_string();
            let started = Instant::now();
            match conn.request("POST", &format!("/v1/transactions/{}/answer", tx.id), None, &body) {
                Ok((200, v)) => {
                    seen.latencies_us.push(started.elapsed().as_micros() as u64);
                    seen.answers += 1;
                    in_doubt.remove(&tx.id);
                    seen.acknowledged.insert(tx.id.clone(), (response, v["state"].as_str().unwrap_or("?").into()));
                }
                Ok((409, v)) if v["error"] == "already_answered" && in_doubt.contains_key(&tx.id) => {
                    seen.latencies_us.push(started.elapsed().as_micros() as u64);
                    in_doubt.remove(&tx.id);
                    seen.acknowledged.insert(tx.id.clone(), (response, "already".into()));
                }
                Ok((status, v)) => seen.unexpected.push(format!("answer {}: {status} {v}", tx.id)),
                Err(_) => {
                    // Lost in a kill: the list fetched next still shows it if it was not applied.
                    seen.connection_errors += 1;
                    in_doubt.insert(tx.id.clone(), response);
                    break;
                }
            }
        }
    }
    seen
}

fn activate(p: &Provider, rng: &SystemRandom) -> Identity {
    let issued = p.issue(&IssueOptions::default(), now()).unwrap();
    let pending = PendingActivation::from_uri(&issued.uri, &issued.password, None, rng).unwrap();
    let rc = pending.registration_code.to_string();
    let identity = pending.into_identity(None, None, now(), rng).unwrap();
    p.complete(&issued.serial, &rc, now()).unwrap();
    Identity { serial: issued.serial.clone(), seed: identity.seed.expose().to_vec() }
}

/// Compares the database with what the clients were told; returns the failures.
fn check(state: &Path, seen: &[Seen], identities: &[Identity]) -> (Vec<String>, u64, u64) {
    let mut failures = Vec::new();
    let db = rusqlite::Connection::open(state).unwrap();
    let integrity: String = db.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    if integrity != "ok" {
        failures.push(format!("integrity_check: {integrity}"));
    }
    let serials: std::collections::HashSet<&str> = identities.iter().map(|i| i.serial.as_str()).collect();
    let mut logged: HashMap<String, (u32, String)> = HashMap::new();
    let mut stmt = db.prepare("SELECT transaction_id, response FROM events").unwrap();
    for row in stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))).unwrap() {
        let (id, response) = row.unwrap();
        let e = logged.entry(id).or_insert((0, response));
        e.0 += 1;
    }
    let mut stmt = db.prepare("SELECT id, serial, state FROM transactions").unwrap();
    let rows: Vec<(String, String, String)> = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).unwrap().map(Result::unwrap).collect();
    let (mut total, mut answered) = (0u64, 0u64);
    for (id, serial, state) in &rows {
        if !serials.contains(serial.as_str()) {
            continue;
        }
        total += 1;
        let logs = logged.get(id).map_or(0, |l| l.0);
        let expected_logs = match state.as_str() {
            "approved" | "denied" | "cancelled" => 1,
            _ => 0,
        };
        if state != "pending" && state != "expired" {
            answered += 1;
        }
        if logs != expected_logs {
            failures.push(format!("transaction {id} is {state} with {logs} log entries"));
        }
        if let Some(&(n, ref response)) = logged.get(id) {
            let want = match state.as_str() {
                "approved" => "confirm",
                "denied" => "suspicious",
                "cancelled" => "cancel",
                _ => "",
            };
            if n == 1 && response != want {
                failures.push(format!("transaction {id} is {state} but logged {response}"));
            }
        }
    }
    let states: HashMap<&str, &str> = rows.iter().map(|(id, _, s)| (id.as_str(), s.as_str())).collect();
    for s in seen {
        for (id, (response, told)) in &s.acknowledged {
            let want = match response {
                Response::Confirm => "approved",
                Response::Cancel => "cancelled",
                Response::Suspicious => "denied",
            };
            let stored = states.get(id.as_str()).copied().unwrap_or("missing");
            if stored != want || (told != "already" && told != want) {
                failures.push(format!("transaction {id}: answered {response:?}, told {told}, stored {stored}"));
            }
        }
    }
    (failures, total, answered)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let binary = PathBuf::from(args.get(1).expect("usage: load PROVIDER_BINARY [--seconds S] [--connections C] [--kills K] [--json]"));
    let flag =
        |name: &str, default: u64| -> u64 { args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).and_then(|v| v.parse().ok()).unwrap_or(default) };
    let (seconds, connections, kills) = (flag("--seconds", 60), flag("--connections", 64) as usize, flag("--kills", 5));
    let as_json = args.iter().any(|a| a == "--json");
    let with_wrk = args.iter().any(|a| a == "--wrk");

    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("provider.db");
    let rng = SystemRandom::new();
    let p = Provider::open(&state).unwrap();
    let identities: Arc<Vec<Identity>> = Arc::new((0..connections).map(|_| activate(&p, &rng)).collect());
    let mut server = Server { binary, state: state.clone(), port: 0, child: None };
    server.start();
    let port = server.port;
    let peer = with_wrk.then(|| {
        let id = &identities[0];
        // A fetch MAC is good for 300 s: one header serves the whole 10 s.
        let at = now();
        let header = format!("Authorization: Softtoken-MAC at={at}, mac={}", transaction::fetch_mac(&id.seed, &id.serial, at));
        let base = format!("http://127.0.0.1:{port}");
        json!({
            "pending_list": wrk(&format!("{base}/v1/identities/{}/transactions", id.serial), connections, 10, Some(&header)),
            "time": wrk(&format!("{base}/v1/time"), connections, 10, None),
        })
    });

    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    let stop = Arc::new(AtomicBool::new(false));
    // The company's side: keeps every identity at its limit of pending transactions.
    let pushed = Arc::new(AtomicU64::new(0));
    let pusher = {
        let (identities, stop, pushed, state) = (identities.clone(), stop.clone(), pushed.clone(), state.clone());
        std::thread::spawn(move || {
            let p = Provider::open(&state).unwrap();
            let opts = PushOptions {
                summary: "Sign in".into(),
                details: vec![("IP".into(), "192.0.2.1".into())],
                lifetime_s: 600,
                number_match: false,
                offline: false,
            };
            while Instant::now() < deadline && !stop.load(Ordering::Relaxed) {
                let mut any = false;
                for id in identities.iter() {
                    if p.push(&id.serial, &opts, now()).is_ok() {
                        pushed.fetch_add(1, Ordering::Relaxed);
                        any = true;
                    }
                }
                if !any {
                    std::thread::sleep(Duration::from_millis(2));
                }
            }
        })
    };
    let clients: Vec<_> = (0..connections)
        .map(|i| {
            let (identities, stop) = (identities.clone(), stop.clone());
            std::thread::spawn(move || client(port, &identities[i], deadline, &stop))
        })
        .collect();
    // The kills, evenly spread over the run.
    let server = Arc::new(Mutex::new(server));
    for k in 1..=kills {
        let at = started + Duration::from_secs(seconds) * (k as u32) / (kills as u32 + 1);
        std::thread::sleep(at.saturating_duration_since(Instant::now()));
        let mut s = server.lock().unwrap();
        s.kill();
        std::thread::sleep(Duration::from_millis(200));
        s.start();
    }
    let seen: Vec<Seen> = clients.into_iter().map(|c| c.join().unwrap()).collect();
    stop.store(true, Ordering::Relaxed);
    pusher.join().unwrap();
    let elapsed = started.elapsed().as_secs_f64();
    server.lock().unwrap().kill();

    let (failures, total, answered) = check(&state, &seen, &identities);
    let mut latencies: Vec<u64> = seen.iter().flat_map(|s| s.latencies_us.iter().copied()).collect();
    latencies.sort_unstable();
    let requests = latencies.len() as u64;
    let unexpected: Vec<&String> = seen.iter().flat_map(|s| s.unexpected.iter()).collect();
    let report = json!({
        "seconds": elapsed,
        "connections": connections,
        "kills": kills,
        "requests": requests,
        "requests_per_s": requests as f64 / elapsed,
        "fetches": seen.iter().map(|s| s.fetches).sum::<u64>(),
        "answers": seen.iter().map(|s| s.answers).sum::<u64>(),
        "p50_ms": percentile(&latencies, 0.50),
        "p99_ms": percentile(&latencies, 0.99),
        "connection_errors": seen.iter().map(|s| s.connection_errors).sum::<u64>(),
        "unexpected_replies": unexpected.len(),
        "pushed": pushed.load(Ordering::Relaxed),
        "transactions": total,
        "answered_in_database": answered,
        "acknowledged": seen.iter().map(|s| s.acknowledged.len()).sum::<usize>(),
        "failures": failures,
        "wrk": peer,
    });
    if as_json {
        println!("{report}");
    } else {
        if let Some(peer) = &report["wrk"].as_object() {
            for (name, w) in peer.iter() {
                println!(
                    "load: wrk, {connections} connections, 10 s, {name}: {:.0} requests/s, p50 {:.2} ms, p99 {:.2} ms, {} errors",
                    w["requests_per_s"].as_f64().unwrap_or(f64::NAN),
                    w["p50_ms"].as_f64().unwrap_or(f64::NAN),
                    w["p99_ms"].as_f64().unwrap_or(f64::NAN),
                    w["errors"]
                );
            }
        }
        println!(
            "load: {connections} connections, {elapsed:.0} s, {kills} SIGKILLs: {requests} requests ({:.0}/s), p50 {:.2} ms, p99 {:.2} ms, {} connection errors (kills), {} unexpected replies",
            report["requests_per_s"].as_f64().unwrap(),
            report["p50_ms"].as_f64().unwrap(),
            report["p99_ms"].as_f64().unwrap(),
            report["connection_errors"],
            unexpected.len()
        );
        println!(
            "load: {total} transactions, {answered} answered in the database, {} acknowledged to clients; integrity and log checks: {}",
            report["acknowledged"],
            if failures.is_empty() { "ok".to_string() } else { format!("{} FAILED", failures.len()) }
        );
    }
    for f in failures.iter().take(20) {
        eprintln!("load: {f}");
    }
    for u in unexpected.iter().take(10) {
        eprintln!("load: unexpected reply: {u}");
    }
    if !failures.is_empty() || !unexpected.is_empty() {
        std::process::exit(1);
    }
}
