//! The provider's HTTP server over loopback, with the app's side played by the core: fetching
//! pending transactions with an authenticated request, answering, replay rejection, and a SIGKILL
//! of the server mid-flow losing nothing.

use ring::rand::SystemRandom;
use serde_json::Value;
use softtoken_core::activation::PendingActivation;
use softtoken_core::transaction::{self, Answer, Response};
use softtoken_provider::transactions::PushOptions;
use softtoken_provider::{IssueOptions, Provider};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};

fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

struct Server {
    child: Child,
    addr: String,
}

impl Server {
    fn start(state: &Path) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_softtoken-provider"))
            .arg("--state")
            .arg(state)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let addr = line.trim().strip_prefix("listening on http://").unwrap_or_else(|| panic!("first line: {line:?}")).to_string();
        Server { child, addr }
    }

    /// One HTTP/1.1 request; returns (status, JSON body).
    fn request(&self, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
        self.request_with(method, path, "", body)
    }

    /// One HTTP/1.1 request with extra header lines (each ending in CRLF).
    fn request_with(&self, method: &str, path: &str, headers: &str, body: Option<&Value>) -> (u16, Value) {
        let mut s = TcpStream::connect(&self.addr).unwrap();
        s.set_read_timeout(Some(std::time::Duration::from_secs(10))).unwrap();
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        write!(s, "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n{headers}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}", self.addr, body.len()).unwrap();
        let mut raw = String::new();
        s.read_to_string(&mut raw).unwrap();
        let status: u16 = raw.split(' ').nth(1).unwrap().parse().unwrap();
        let json = raw.split_once("\r\n\r\n").unwrap().1;
        (status, serde_json::from_str(json).unwrap())
    }

    fn kill(mut self) {
        self.child.kill().unwrap(); // SIGKILL
        self.child.wait().unwrap();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn activate(p: &Provider) -> (String, Vec<u8>) {
    let rng = SystemRandom::new();
    let issued = p.issue(&IssueOptions::default(), now()).unwrap();
    let pending = PendingActivation::from_uri(&issued.uri, &issued.password, None, &rng).unwrap();
    let rc = pending.registration_code.to_string();
    let identity = pending.into_identity(None, None, now(), &rng).unwrap();
    p.complete(&issued.serial, &rc, now()).unwrap();
    (issued.serial, identity.seed.expose().to_vec())
}

fn fetch(server: &Server, serial: &str, seed: &[u8]) -> (u16, Value) {
    let at = now();
    let mac = transaction::fetch_mac(seed, serial, at);
    server.request_with("GET", &format!("/v1/identities/{serial}/transactions"), &format!("Authorization: Softtoken-MAC at={at}, mac={mac}\r\n"), None)
}

#[test]
fn fetch_and_answer_over_loopback_survive_a_killed_server() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("p.db");
    let p = Provider::open(&state).unwrap();
    let (serial, seed) = activate(&p);
    let server = Server::start(&state);

    let (status, time) = server.request("GET", "/v1/time", None);
    assert_eq!(status, 200);
    assert!(time["server_time"].as_u64().unwrap().abs_diff(now()) <= 2);

    let opts = PushOptions { summary: "Sign in to Example Bank".into(), details: vec![("IP".into(), "192.0.2.7".into())], lifetime_s: 120, number_match: false, offline: false };
    let id = p.push(&serial, &opts, now()).unwrap().transaction_id;

    // Fetching needs the identity's key.
    let (status, list) = fetch(&server, &serial, &seed);
    assert_eq!(status, 200);
    assert_eq!(list["transactions"][0]["id"], id.as_str());
    assert_eq!(list["transactions"][0]["summary"], "Sign in to Example Bank");
    let (status, err) = fetch(&server, &serial, &[0u8; 16]);
    assert_eq!((status, err["error"].as_str()), (401, Some("bad_mac")));

    // The server dies mid-flow (SIGKILL) and comes back: the transaction is still there.
    server.kill();
    let server = Server::start(&state);
    let (_, list) = fetch(&server, &serial, &seed);
    let tx = transaction::Transaction {
        id: list["transactions"][0]["id"].as_str().unwrap().into(),
        serial: serial.clone(),
        summary: list["transactions"][0]["summary"].as_str().unwrap().into(),
        details: vec![("IP".into(), "192.0.2.7".into())],
        created_at: list["transactions"][0]["created_at"].as_u64().unwrap(),
        expires_at: list["transactions"][0]["expires_at"].as_u64().unwrap(),
        number_match: false,
    };
    let a = Answer { response: Response::Confirm, answered_at: now(), number: 0 };
    let body = serde_json::json!({"response": "confirm", "answered_at": a.answered_at, "number": 0, "mac": transaction::answer_mac(&seed, &tx, &a).unwrap()});
    let (status, r) = server.request("POST", &format!("/v1/transactions/{id}/answer"), Some(&body));
    assert_eq!((status, r["state"].as_str()), (200, Some("approved")));
    let (status, r) = server.request("POST", &format!("/v1/transactions/{id}/answer"), Some(&body));
    assert_eq!((status, r["error"].as_str()), (409, Some("already_answered")), "a replay changes nothing");
    let (_, r) = server.request("GET", &format!("/v1/transactions/{id}"), None);
    assert_eq!(r["state"], "approved");
    assert_eq!(p.log().unwrap().len(), 1);

    // A tampered answer (the MAC of Cancel presented as Suspicious) is rejected.
    let id2 = p.push(&serial, &opts, now()).unwrap().transaction_id;
    let (tx2, _) = p.transaction(&id2, now()).unwrap();
    let cancel = Answer { response: Response::Cancel, answered_at: now(), number: 0 };
    let forged = serde_json::json!({"response": "suspicious", "answered_at": cancel.answered_at, "number": 0, "mac": transaction::answer_mac(&seed, &tx2, &cancel).unwrap()});
    let (status, r) = server.request("POST", &format!("/v1/transactions/{id2}/answer"), Some(&forged));
    assert_eq!((status, r["error"].as_str()), (401, Some("bad_mac")));
    let (status, _) = server.request("POST", &format!("/v1/transactions/{id2}/answer"), Some(&serde_json::json!({"nonsense": 1})));
    assert_eq!(status, 400);
    server.kill();
}

#[test]
fn plain_http_only_on_loopback() {
    let dir = tempfile::tempdir().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_softtoken-provider"))
        .arg("--state")
        .arg(dir.path().join("p.db"))
        .args(["serve", "--listen", "0.0.0.0:0"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("loopback"));
}

/// 1 000 transactions answered over loopback HTTP from 8 client threads, every answer sent twice:
/// each is approved exactly once (the other gets 409), and the log holds each exactly once.
#[test]
fn a_thousand_concurrent_answers_over_http_none_lost_or_doubled() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.db");
    let p = Provider::open(&state).unwrap();
    let opts = PushOptions { summary: "Sign in".into(), details: vec![], lifetime_s: 600, number_match: false, offline: false };
    let mut work = Vec::new();
    for _ in 0..200 {
        let (serial, seed) = activate(&p);
        for _ in 0..5 {
            let id = p.push(&serial, &opts, now()).unwrap().transaction_id;
            let (tx, _) = p.transaction(&id, now()).unwrap();
            let answer = Answer { response: Response::Confirm, answered_at: now(), number: 0 };
            let mac = transaction::answer_mac(&seed, &tx, &answer).unwrap();
            work.push((id, serde_json::json!({"response": "confirm", "answered_at": answer.answered_at, "number": 0, "mac": mac})));
        }
    }
    assert_eq!(work.len(), 1000);
    let server = std::sync::Arc::new(Server::start(&state));
    let work = std::sync::Arc::new(work);
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let (work, server) = (work.clone(), server.clone());
            std::thread::spawn(move || {
                let (mut approved, mut already) = (0, 0);
                // Threads t and t+4 send the same quarter of the answers.
                for (id, body) in work.iter().skip(t % 4).step_by(4) {
                    match server.request("POST", &format!("/v1/transactions/{id}/answer"), Some(body)) {
                        (200, v) if v["state"] == "approved" => approved += 1,
                        (409, v) if v["error"] == "already_answered" => already += 1,
                        other => panic!("{other:?}"),
                    }
                }
                (approved, already)
            })
        })
        .collect();
    let (approved, already) = threads.into_iter().map(|t| t.join().unwrap()).fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
    assert_eq!((approved, already), (1000, 1000));
    let log = p.log().unwrap();
    let mut ids: Vec<&str> = log.iter().map(|e| e.transaction_id.as_str()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!((log.len(), ids.len()), (1000, 1000));
}
