//! `/validate/check` under load: C clients (one keep-alive connection each, one user each with an
//! HOTP token) send a correct code as fast as the server answers for S seconds, and every reply is
//! checked to be ACCEPT; then wrk (the peer load generator) measures `/v1/time` on the same server
//! with the same connections for the same time. On SQLite (a temporary file) or on the PostgreSQL
//! server `--postgres URL` names (a new database on it).
//!
//! Why HOTP: a code is accepted once (replays are refused), so a correct TOTP code is good once
//! per 30 s per token; a load of correct codes walks each token's counter instead. The check is
//! the same work: a write transaction, one unsealed seed, one HMAC per counter tried.
//!
//! Usage: validate_load PROVIDER_BINARY [--seconds S] [--connections C] [--postgres URL] [--json]
//! Prints requests/s, p50/p99 latency and wrong decisions; exits 1 when a decision was wrong.

use serde_json::json;
use softtoken_core::otp::Hotp;
use softtoken_core::uri::otpauth::OtpAuth;
use softtoken_provider::tokens::oath::{OathKind, OathOptions};
use softtoken_provider::{Database, Provider};
use std::time::{Duration, Instant};

#[path = "support/http.rs"]
mod http;
use http::{percentile, wrk, Connection};

fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

/// One client's run: its latencies and the replies that were not ACCEPT.
struct Run {
    latencies_us: Vec<u64>,
    wrong: Vec<String>,
    errors: u64,
}

fn client(port: u16, user: &str, hotp: &Hotp, deadline: Instant) -> Run {
    let mut conn = Connection::new(port, "application/x-www-form-urlencoded");
    let mut run = Run { latencies_us: Vec::new(), wrong: Vec::new(), errors: 0 };
    let mut counter = 0u64;
    while Instant::now() < deadline {
        let body = format!("user={user}&pass={}", hotp.code(counter));
        let t0 = Instant::now();
        match conn.request("POST", "/validate/check", None, &body) {
            Ok((200, reply)) if reply["result"]["authentication"] == "ACCEPT" => {
                run.latencies_us.push(t0.elapsed().as_micros() as u64);
                counter += 1;
            }
            Ok((status, reply)) => {
                run.wrong.push(format!("{status} {reply}"));
                counter += 1;
            }
            Err(_) => run.errors += 1,
        }
    }
    run
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let binary = args.get(1).expect("usage: validate_load PROVIDER_BINARY [--seconds S] [--connections C] [--postgres URL] [--json]").clone();
    let value = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
    let seconds: u64 = value("--seconds").and_then(|v| v.parse().ok()).unwrap_or(30);
    let connections: usize = value("--connections").and_then(|v| v.parse().ok()).unwrap_or(64);
    let as_json = args.iter().any(|a| a == "--json");

    let dir = tempfile::tempdir().unwrap();
    let kek = dir.path().join("state.kek");
    let (database, store) = match value("--postgres") {
        None => (dir.path().join("state.db").display().to_string(), "SQLite"),
        Some(server) => {
            let name = format!("bench_{}", std::process::id());
            postgres::Client::connect(&server, postgres::NoTls).unwrap().batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
            (format!("{}/{name}", server.rsplit_once('/').unwrap().0), "PostgreSQL")
        }
    };
    let p = Provider::open_database(&Database::parse(&database), &kek).unwrap();
    // Users are made with the library: a user's password hash costs tens of milliseconds.
    let users: Vec<(String, Hotp)> = (0..connections)
        .map(|i| {
            let name = format!("load{i}");
            p.add_user(&name, "a-long-password-1", false, None, now()).unwrap();
            let issued = p.issue_oath(&name, &OathOptions::new(OathKind::Hotp), now()).unwrap();
            (name, OtpAuth::parse(&issued.uri).unwrap().hotp().unwrap())
        })
        .collect();
    drop(p);
    let (mut child, port) =
        http::serve(std::path::Path::new(&binary), &["--database".into(), database.clone(), "--kek-file".into(), kek.display().to_string()], 0);

    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    let runs: Vec<Run> = std::thread::scope(|s| {
        let handles: Vec<_> = users.iter().map(|(name, hotp)| s.spawn(move || client(port, name, hotp, deadline))).collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let elapsed = started.elapsed().as_secs_f64();
    let peer = wrk(&format!("http://127.0.0.1:{port}/v1/time"), connections, seconds, None);
    child.kill().ok();
    child.wait().ok();

    let mut latencies: Vec<u64> = runs.iter().flat_map(|r| r.latencies_us.iter().copied()).collect();
    latencies.sort_unstable();
    let wrong: Vec<&String> = runs.iter().flat_map(|r| r.wrong.iter()).collect();
    let accepted = latencies.len() as u64;
    let rps = accepted as f64 / elapsed;
    let ratio = peer["requests_per_s"].as_f64().map(|w| rps / w);
    let report = json!({
        "store": store,
        "seconds": elapsed,
        "connections": connections,
        "accepted": accepted,
        "requests_per_s": rps,
        "p50_ms": percentile(&latencies, 0.50),
        "p99_ms": percentile(&latencies, 0.99),
        "wrong_decisions": wrong.len(),
        "connection_errors": runs.iter().map(|r| r.errors).sum::<u64>(),
        "wrk_time": peer,
        "ratio_to_wrk_time": ratio,
    });
    if as_json {
        println!("{report}");
    } else {
        println!(
            "validate-load: {store}, {connections} connections, {elapsed:.0} s: /validate/check with a correct code {rps:.0} requests/s, p50 {:.2} ms, p99 {:.2} ms, {} wrong decisions, {} connection errors",
            report["p50_ms"].as_f64().unwrap_or(f64::NAN),
            report["p99_ms"].as_f64().unwrap_or(f64::NAN),
            wrong.len(),
            report["connection_errors"]
        );
        println!(
            "validate-load: wrk on /v1/time, same server and connections: {:.0} requests/s, p50 {:.2} ms, p99 {:.2} ms; ratio /validate/check : /v1/time = {:.2}",
            peer["requests_per_s"].as_f64().unwrap_or(f64::NAN),
            peer["p50_ms"].as_f64().unwrap_or(f64::NAN),
            peer["p99_ms"].as_f64().unwrap_or(f64::NAN),
            ratio.unwrap_or(f64::NAN)
        );
        for w in wrong.iter().take(3) {
            println!("validate-load: a wrong decision: {w}");
        }
    }
    if !wrong.is_empty() || accepted == 0 {
        std::process::exit(1);
    }
}
