//! APNs and FCM wake-ups against local servers that check every request the way the services
//! document them — APNs: HTTP/2 over TLS, `POST /3/device/<token>`, an ES256 provider token (`kid`,
//! `iss`, `iat`, a signature by the team's key), `apns-topic`, `apns-push-type`, `apns-priority`,
//! `apns-expiration`, a JSON payload under 4 KB with `aps`; FCM: an RS256 assertion exchanged at the
//! service account's `token_uri` (`iss`, `scope`, `aud`, `iat`, `exp`, the account's key), then
//! `POST /v1/projects/<id>/messages:send` with the bearer token and a data-only high-priority
//! message. Any departure is recorded and fails the test; the answers follow the services' error
//! documentation (410 `Unregistered`, 403 `ExpiredProviderToken`, 404 `UNREGISTERED`, 401).

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use ring::rand::SystemRandom;
use ring::signature::{
    EcdsaKeyPair, KeyPair, RsaKeyPair, UnparsedPublicKey, ECDSA_P256_SHA256_FIXED, ECDSA_P256_SHA256_FIXED_SIGNING, RSA_PKCS1_2048_8192_SHA256,
};
use serde_json::{json, Value};
use softtoken_provider::push::{apns, fcm, Senders, WakeUp};
use softtoken_provider::{IssueOptions, Provider};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
mod support;
use support::TestDb;

const KEY_ID: &str = "ABC123DEFG";
const TEAM_ID: &str = "DEF123GHIJ";
const TOPIC: &str = "org.softtoken.example";
const SUMMARY: &str = "Sign in to Example Bank";

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

/// A TLS server certificate for 127.0.0.1, and the same certificate as the trust root (PEM).
fn tls(alpn: &[u8]) -> (Arc<rustls::ServerConfig>, rustls::pki_types::CertificateDer<'static>) {
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["127.0.0.1".to_string()]).unwrap().self_signed(&key).unwrap();
    let der = cert.der().clone();
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![der.clone()], rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()))
        .unwrap();
    config.alpn_protocols = vec![alpn.to_vec()];
    (Arc::new(config), der)
}

/// A JWS's header and claims, once its signature checks with `verify`; else why not.
fn jws(token: &str, verify: impl Fn(&[u8], &[u8]) -> bool) -> Result<(Value, Value), String> {
    let parts: Vec<&str> = token.split('.').collect();
    let [h, c, s] = parts[..] else { return Err(format!("not a compact JWS: {} parts", parts.len())) };
    let signature = URL_SAFE_NO_PAD.decode(s).map_err(|_| "the signature is not base64url".to_string())?;
    if !verify(format!("{h}.{c}").as_bytes(), &signature) {
        return Err("the signature does not verify with the key".into());
    }
    let json = |part: &str| serde_json::from_slice::<Value>(&URL_SAFE_NO_PAD.decode(part).map_err(|_| "not base64url")?).map_err(|_| "not JSON");
    Ok((json(h)?, json(c)?))
}

/// A provider with one activated token whose push token is `push_token`.
fn with_token(db: &TestDb, push_token: &str) -> (Provider, String) {
    let p = db.open();
    let issued = p.issue(&IssueOptions::default(), now()).unwrap();
    let rng = SystemRandom::new();
    let pending = softtoken_core::activation::PendingActivation::from_uri(&issued.uri, &issued.password, None, &rng).unwrap();
    p.complete(&issued.serial, &pending.registration_code.to_string(), now()).unwrap();
    p.set_push_token(&issued.serial, push_token).unwrap();
    (p, issued.serial.clone())
}

fn push(p: &Provider, serial: &str) -> String {
    let opts = softtoken_provider::protocol::transactions::PushOptions {
        summary: SUMMARY.into(),
        details: vec![("IP".into(), "192.0.2.7".into())],
        lifetime_s: 120,
        number_match: false,
        offline: false,
    };
    p.push(serial, &opts, now()).unwrap().transaction_id
}

/// A listener on 127.0.0.1 with its TLS acceptor (ALPN `alpn`), the root that trusts it, and what it saw.
fn listen(
    runtime: &tokio::runtime::Runtime,
    alpn: &[u8],
) -> (tokio::net::TcpListener, tokio_rustls::TlsAcceptor, rustls::pki_types::CertificateDer<'static>, Arc<Mutex<Seen>>) {
    let (config, root) = tls(alpn);
    let seen = Arc::new(Mutex::new(Seen { violations: vec![], requests: vec![], payloads: vec![], connections: 0 }));
    let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    (listener, tokio_rustls::TlsAcceptor::from(config), root, seen)
}

struct Seen {
    /// Departures from the documented request, each a sentence.
    violations: Vec<String>,
    /// (device token, provider token) of every request.
    requests: Vec<(String, String)>,
    payloads: Vec<Value>,
    /// TCP connections accepted.
    connections: usize,
}

/// An APNs stand-in: HTTP/2 over TLS, checking each request; devices starting `dead` are gone
/// (410), `beef` refuses a provider token it has seen before (403 `ExpiredProviderToken`); after
/// answering a device starting `c105e` it closes the connection (GOAWAY), as APNs may.
fn apns_server(runtime: &tokio::runtime::Runtime, public_key: Vec<u8>) -> (u16, rustls::pki_types::CertificateDer<'static>, Arc<Mutex<Seen>>) {
    let (listener, acceptor, root, seen) = listen(runtime, b"h2");
    let port = listener.local_addr().unwrap().port();
    let record = seen.clone();
    runtime.spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else { return };
            record.lock().unwrap().connections += 1;
            let (acceptor, record, public_key) = (acceptor.clone(), record.clone(), public_key.clone());
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else { return };
                if tls.get_ref().1.alpn_protocol() != Some(b"h2") {
                    record.lock().unwrap().violations.push("the client did not negotiate h2 by ALPN (APNs is HTTP/2 only)".into());
                }
                let Ok(mut connection) = h2::server::handshake(tls).await else {
                    record.lock().unwrap().violations.push("no HTTP/2 connection preface".into());
                    return;
                };
                while let Some(Ok((request, mut respond))) = connection.accept().await {
                    let (parts, mut body) = request.into_parts();
                    let mut bytes = vec![];
                    while let Some(Ok(chunk)) = body.data().await {
                        let _ = body.flow_control().release_capacity(chunk.len());
                        bytes.extend_from_slice(&chunk);
                    }
                    let (status, reason) = check_apns(&parts, &bytes, &public_key, &record);
                    let closing = parts.uri.path().starts_with("/3/device/c105e");
                    let response = http::Response::builder().status(status).header("apns-id", "EC1BF194-B3B2-424A-89A9-5A918A6E6B5D").body(()).unwrap();
                    let Ok(mut stream) = respond.send_response(response, reason.is_none()) else { continue };
                    if let Some(reason) = reason {
                        let _ = stream.send_data(bytes::Bytes::from(json!({"reason": reason, "timestamp": now() * 1000}).to_string()), true);
                    }
                    if closing {
                        connection.graceful_shutdown();
                    }
                }
            });
        }
    });
    (port, root, seen)
}

fn check_apns(parts: &http::request::Parts, body: &[u8], public_key: &[u8], seen: &Mutex<Seen>) -> (u16, Option<&'static str>) {
    let mut bad = vec![];
    let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    if parts.method != http::Method::POST {
        bad.push(format!("method {} instead of POST", parts.method));
    }
    let device = parts.uri.path().strip_prefix("/3/device/").unwrap_or("").to_string();
    if device.len() < 64 || !device.bytes().all(|b| b.is_ascii_hexdigit()) {
        bad.push(format!("path {} is not /3/device/<hex device token>", parts.uri.path()));
    }
    let token = header("authorization").strip_prefix("bearer ").unwrap_or("").to_string();
    let key = UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, public_key);
    match jws(&token, |input, sig| key.verify(input, sig).is_ok()) {
        Err(why) => bad.push(format!("provider token: {why}")),
        Ok((h, c)) => {
            if h["alg"] != "ES256" || h["kid"] != KEY_ID {
                bad.push(format!("provider token header {h} lacks alg ES256 and kid {KEY_ID}"));
            }
            if c["iss"] != TEAM_ID || c["iat"].as_u64().is_none_or(|iat| iat.abs_diff(now()) > 60) {
                bad.push(format!("provider token claims {c} lack iss {TEAM_ID} and a current iat"));
            }
        }
    }
    if header("apns-topic") != TOPIC {
        bad.push(format!("apns-topic {:?} is not the bundle id", header("apns-topic")));
    }
    if header("apns-push-type") != "alert" || header("apns-priority") != "10" {
        bad.push("an alert needs apns-push-type: alert and apns-priority: 10".into());
    }
    if !header("apns-expiration").parse::<u64>().is_ok_and(|e| e > now()) {
        bad.push("apns-expiration is not a future UNIX time".into());
    }
    let payload: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    if body.len() > 4096 || !payload["aps"]["alert"].is_object() {
        bad.push(format!("the payload is not JSON under 4 KB with an aps alert: {}", String::from_utf8_lossy(body)));
    }
    let mut s = seen.lock().unwrap();
    s.violations.extend(bad);
    let reused = s.requests.iter().any(|(_, t)| *t == token);
    s.requests.push((device.clone(), token));
    s.payloads.push(payload);
    match &device[..4.min(device.len())] {
        "dead" => (410, Some("Unregistered")),
        "beef" if reused => (403, Some("ExpiredProviderToken")),
        _ => (200, None),
    }
}

#[test]
fn apns_wake_ups_follow_apples_documented_request_and_a_gone_token_is_forgotten() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let rng = SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
    let public = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng).unwrap().public_key().as_ref().to_vec();
    let p8 = format!("-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n", STANDARD.encode(pkcs8.as_ref()));
    let (port, root, seen) = apns_server(&runtime, public);
    let endpoint = apns::Endpoint { url: format!("https://127.0.0.1:{port}"), roots: vec![root] };
    let senders =
        Senders { apns: Some(apns::Apns::new(&p8, KEY_ID, TEAM_ID, TOPIC, apns::Environment::Production, Some(endpoint)).unwrap()), ..Senders::default() };

    let db = TestDb::new();
    let device = "a".repeat(64);
    let (p, serial) = with_token(&db, &format!("apns:{device}"));
    let tx = push(&p, &serial);
    let outcome = p.wake(&senders, &serial, &tx, p.push_token_of(&serial).unwrap().as_deref(), now()).unwrap();
    assert_eq!(outcome, WakeUp::Sent { service: "APNs", status: 200 });
    {
        let s = seen.lock().unwrap();
        assert!(s.violations.is_empty(), "{:#?}", s.violations);
        let payload = &s.payloads[0];
        assert_eq!((payload["transaction_id"].as_str(), payload["serial"].as_str()), (Some(tx.as_str()), Some(serial.as_str())));
        assert_eq!(payload["aps"]["mutable-content"], 1);
        let text = payload.to_string();
        assert!(!text.contains("Example Bank") && !text.contains("192.0.2.7"), "the wake-up names only ids: {text}");
    }
    // The provider token is reused; when APNs says it expired, one is made at once and sent again.
    let (p2, serial2) = with_token(&db, &format!("apns:{}", "beef".repeat(16)));
    let tx2 = push(&p2, &serial2);
    assert_eq!(
        p2.wake(&senders, &serial2, &tx2, p2.push_token_of(&serial2).unwrap().as_deref(), now()).unwrap(),
        WakeUp::Sent { service: "APNs", status: 200 }
    );
    {
        let s = seen.lock().unwrap();
        let tokens: Vec<&String> = s.requests.iter().map(|(_, t)| t).collect();
        assert_eq!(tokens.len(), 3);
        assert_eq!(tokens[0], tokens[1], "the same provider token is reused");
        assert_ne!(tokens[1], tokens[2], "a new provider token after ExpiredProviderToken");
    }
    // 410 Unregistered: the token is forgotten, so the next transaction does not try it.
    let (p3, serial3) = with_token(&db, &format!("apns:{}", "dead".repeat(16)));
    let tx3 = push(&p3, &serial3);
    let gone = p3.wake(&senders, &serial3, &tx3, p3.push_token_of(&serial3).unwrap().as_deref(), now()).unwrap();
    assert!(gone.outcome().starts_with("failed: APNs answered 410 Unregistered"), "{}", gone.outcome());
    assert_eq!(p3.push_token_of(&serial3).unwrap(), None);
    assert!(seen.lock().unwrap().violations.is_empty());
    // Without APNs credentials an apns: token is recorded as such; a malformed one is refused unsent.
    let none = p.wake(&Senders::default(), &serial, &tx, Some(&format!("apns:{device}")), now()).unwrap();
    assert_eq!(none.outcome(), "not_configured: apns");
    assert!(p.wake(&senders, &serial, &tx, Some("apns:zz"), now()).unwrap().outcome().contains("hex"));
    assert_eq!(seen.lock().unwrap().requests.len(), 4);
    // Every wake-up so far went over one kept connection, as Apple asks.
    assert_eq!(seen.lock().unwrap().connections, 1, "one HTTP/2 connection kept across wake-ups");
    // APNs closes it (GOAWAY): the next wake-up is sent on a new connection, not lost.
    let (p4, serial4) = with_token(&db, &format!("apns:c105e{}", "0".repeat(59)));
    let tx4 = push(&p4, &serial4);
    assert_eq!(
        p4.wake(&senders, &serial4, &tx4, p4.push_token_of(&serial4).unwrap().as_deref(), now()).unwrap(),
        WakeUp::Sent { service: "APNs", status: 200 }
    );
    let tx5 = push(&p, &serial);
    assert_eq!(p.wake(&senders, &serial, &tx5, p.push_token_of(&serial).unwrap().as_deref(), now()).unwrap(), WakeUp::Sent { service: "APNs", status: 200 });
    let s = seen.lock().unwrap();
    assert_eq!((s.requests.len(), s.connections), (6, 2), "the closed connection was replaced once");
    assert!(s.violations.is_empty(), "{:#?}", s.violations);
}

/// An FCM stand-in (HTTP/1.1 over TLS): the OAuth token address and messages:send, each checked.
fn fcm_server(runtime: &tokio::runtime::Runtime, public_key: Vec<u8>) -> (u16, rustls::pki_types::CertificateDer<'static>, Arc<Mutex<Seen>>) {
    let (listener, acceptor, root, seen) = listen(runtime, b"http/1.1");
    let port = listener.local_addr().unwrap().port();
    let record = seen.clone();
    runtime.spawn(async move {
        let issued = Arc::new(Mutex::new(Vec::<String>::new()));
        loop {
            let Ok((tcp, _)) = listener.accept().await else { return };
            let (acceptor, record, public_key, issued) = (acceptor.clone(), record.clone(), public_key.clone(), issued.clone());
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else { return };
                let mut buf = vec![];
                let mut chunk = [0u8; 8192];
                let (head, body) = loop {
                    let Ok(n) = tls.read(&mut chunk).await else { return };
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&buf[..end]).to_string();
                        let length: usize = head
                            .lines()
                            .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse().unwrap_or(0)))
                            .unwrap_or(0);
                        if buf.len() >= end + 4 + length {
                            break (head, buf[end + 4..end + 4 + length].to_vec());
                        }
                    }
                };
                let (status, reply) = check_fcm(&head, &body, &public_key, &record, &issued);
                let text = reply.to_string();
                let response =
                    format!("HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{text}", text.len());
                let _ = tls.write_all(response.as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    (port, root, seen)
}

fn check_fcm(head: &str, body: &[u8], public_key: &[u8], seen: &Mutex<Seen>, issued: &Mutex<Vec<String>>) -> (u16, Value) {
    let mut bad = vec![];
    let line = head.lines().next().unwrap_or("");
    let header = |name: &str| {
        head.lines().find_map(|l| l.split_once(':').filter(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.trim().to_string())).unwrap_or_default()
    };
    let mut s = seen.lock().unwrap();
    if line == "POST /token HTTP/1.1" {
        let form: std::collections::HashMap<String, String> = form_urlencoded::parse(body).into_owned().collect();
        if form.get("grant_type").map(String::as_str) != Some("urn:ietf:params:oauth:grant-type:jwt-bearer") {
            bad.push(format!("grant_type {:?} is not the JWT bearer grant", form.get("grant_type")));
        }
        let key = UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, public_key);
        match jws(form.get("assertion").map(String::as_str).unwrap_or(""), |input, sig| key.verify(input, sig).is_ok()) {
            Err(why) => bad.push(format!("assertion: {why}")),
            Ok((h, c)) => {
                if h["alg"] != "RS256" || h["kid"] != "0123456789abcdef0123456789abcdef01234567" {
                    bad.push(format!("assertion header {h} lacks alg RS256 and the private_key_id"));
                }
                let (iat, exp) = (c["iat"].as_u64().unwrap_or(0), c["exp"].as_u64().unwrap_or(0));
                if c["iss"] != "wake-ups@softtoken-test.iam.gserviceaccount.com"
                    || c["scope"] != "https://www.googleapis.com/auth/firebase.messaging"
                    || !c["aud"].as_str().unwrap_or("").ends_with("/token")
                    || iat.abs_diff(now()) > 60
                    || exp <= iat
                    || exp - iat > 3600
                {
                    bad.push(format!("assertion claims {c} are not those Google documents"));
                }
            }
        }
        let token = format!("ya29.test-{}", issued.lock().unwrap().len());
        issued.lock().unwrap().push(token.clone());
        s.violations.extend(bad);
        return (200, json!({"access_token": token, "expires_in": 3599, "token_type": "Bearer"}));
    }
    if line != "POST /v1/projects/softtoken-test/messages:send HTTP/1.1" {
        bad.push(format!("request line {line:?} is not messages:send of the project"));
    }
    let bearer = header("authorization").strip_prefix("Bearer ").unwrap_or("").to_string();
    let known = issued.lock().unwrap().clone();
    if !known.contains(&bearer) {
        bad.push("the bearer token is not one the token address issued".into());
    }
    let message: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let m = &message["message"];
    if !m["token"].is_string() || !m["data"].is_object() || m["notification"].is_object() || m["android"]["priority"] != "HIGH" {
        bad.push(format!("the message is not a data-only high-priority message to a token: {message}"));
    }
    if m["data"].as_object().is_some_and(|d| d.values().any(|v| !v.is_string())) {
        bad.push("FCM data values must be strings".into());
    }
    s.violations.extend(bad);
    let registration = m["token"].as_str().unwrap_or("").to_string();
    let first_use_of_token = !s.requests.iter().any(|(_, t)| *t == bearer);
    s.requests.push((registration.clone(), bearer.clone()));
    s.payloads.push(message.clone());
    if registration.starts_with("gone") {
        return (
            404,
            json!({"error": {"code": 404, "status": "NOT_FOUND", "details": [{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": "UNREGISTERED"}]}}),
        );
    }
    if registration.starts_with("stale") && bearer == known[0] && !first_use_of_token {
        return (401, json!({"error": {"code": 401, "status": "UNAUTHENTICATED"}}));
    }
    (200, json!({"name": "projects/softtoken-test/messages/0:1500415314455276%31bd1c9631bd1c96"}))
}

#[test]
fn fcm_wake_ups_follow_googles_documented_exchange_and_a_gone_token_is_forgotten() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let account_text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/push/test-service-account.json")).unwrap();
    let mut account: Value = serde_json::from_str(&account_text).unwrap();
    let der = STANDARD.decode(account["private_key"].as_str().unwrap().lines().filter(|l| !l.starts_with("-----")).collect::<String>()).unwrap();
    let public = RsaKeyPair::from_pkcs8(&der).unwrap().public_key().as_ref().to_vec();
    let (port, root, seen) = fcm_server(&runtime, public);
    account["token_uri"] = json!(format!("https://127.0.0.1:{port}/token"));
    let endpoint = apns::Endpoint { url: format!("https://127.0.0.1:{port}"), roots: vec![root] };
    let senders = Senders { fcm: Some(fcm::Fcm::new(&account.to_string(), Some(endpoint)).unwrap()), ..Senders::default() };

    let db = TestDb::new();
    let (p, serial) = with_token(&db, "fcm:eHcE2_phone-token:APA91b");
    let tx = push(&p, &serial);
    assert_eq!(p.wake(&senders, &serial, &tx, p.push_token_of(&serial).unwrap().as_deref(), now()).unwrap(), WakeUp::Sent { service: "FCM", status: 200 });
    {
        let s = seen.lock().unwrap();
        assert!(s.violations.is_empty(), "{:#?}", s.violations);
        let data = &s.payloads[0]["message"]["data"];
        assert_eq!(data, &json!({"transaction_id": tx, "serial": serial}), "the wake-up names only ids");
    }
    // The access token is reused; a 401 renews it once.
    let (p2, serial2) = with_token(&db, "fcm:stale-phone");
    let tx2 = push(&p2, &serial2);
    assert_eq!(p2.wake(&senders, &serial2, &tx2, p2.push_token_of(&serial2).unwrap().as_deref(), now()).unwrap(), WakeUp::Sent { service: "FCM", status: 200 });
    {
        let s = seen.lock().unwrap();
        let bearers: Vec<&String> = s.requests.iter().map(|(_, b)| b).collect();
        assert_eq!(bearers, vec!["ya29.test-0", "ya29.test-0", "ya29.test-1"], "reused, then renewed after the 401");
    }
    // UNREGISTERED: the token is forgotten.
    let (p3, serial3) = with_token(&db, "fcm:gone-phone");
    let tx3 = push(&p3, &serial3);
    let gone = p3.wake(&senders, &serial3, &tx3, p3.push_token_of(&serial3).unwrap().as_deref(), now()).unwrap();
    assert!(gone.outcome().starts_with("failed: FCM answered 404 UNREGISTERED"), "{}", gone.outcome());
    assert_eq!(p3.push_token_of(&serial3).unwrap(), None);
    assert!(seen.lock().unwrap().violations.is_empty());
    // A service account file that is not one is refused with what is wrong, never with the key.
    let wrong = fcm::Fcm::new(&json!({"type": "authorized_user"}).to_string(), None).unwrap_err().to_string();
    assert!(wrong.contains("service account"), "{wrong}");
    let no_key = fcm::Fcm::new(&account_text.replace("MII", "XXX"), None).unwrap_err().to_string();
    assert!(no_key.contains("private_key") && !no_key.contains("XXX"), "{no_key}");
}
