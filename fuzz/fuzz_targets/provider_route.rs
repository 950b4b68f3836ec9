//! Every provider HTTP request through `route()`, against a real SQLite state: never a panic,
//! never a 5xx for a malformed request.
#![no_main]
use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use std::sync::{Mutex, OnceLock};

#[derive(Arbitrary, Debug)]
struct Req<'a> {
    method: u8,
    endpoint: u8,
    url: &'a str,
    authorization: Option<&'a str>,
    body: &'a str,
}

/// One provider per fuzzing process (its SQLite file in a directory of its own).
static PROVIDER: OnceLock<Mutex<softtoken_provider::Provider>> = OnceLock::new();

fuzz_target!(|r: Req| {
    let provider = PROVIDER.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("softtoken-fuzz-provider-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Mutex::new(softtoken_provider::Provider::open(&dir.join("p.db")).unwrap())
    });
    let provider = provider.lock().unwrap_or_else(|e| e.into_inner());
    let method = ["GET", "POST", "DELETE", "PUT"][r.method as usize % 4];
    // Each endpoint of docs/protocol.md §5 with a fuzzed parameter, or a fuzzed path.
    let path = match r.endpoint % 8 {
        0 => "/v1/time".to_string(),
        1 => format!("/v1/activation/{}", r.url),
        2 => format!("/v1/identities/{}/transactions", r.url),
        3 => format!("/v1/identities/{}", r.url),
        4 => format!("/v1/identities/{}/push-token", r.url),
        5 => format!("/v1/transactions/{}/answer", r.url),
        6 => format!("/v1/transactions/{}", r.url),
        _ => r.url.to_string(),
    };
    let request = softtoken_provider::protocol::Request { method, url: &path, authorization: r.authorization, body: r.body };
    let (status, _) = softtoken_provider::protocol::route(&provider, &request, 1_700_000_000);
    assert!(status < 500, "{status} for {request:?}");
});
