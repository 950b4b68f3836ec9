//! Apple Push Notification service wake-ups for iOS apps whose push token is an APNs device token
//! (`apns:` followed by the hex token the app gets in `didRegisterForRemoteNotificationsWithDeviceToken`).
//!
//! Token-based authentication as Apple documents it ("Establishing a token-based connection to
//! APNs"): an ES256 JWT with `kid` (the key's id) and the claims `iss` (the team id) and `iat`, sent
//! as `authorization: bearer …` over HTTP/2 to `api.push.apple.com` (or the sandbox) at
//! `POST /3/device/<token>` with `apns-topic` (the app's bundle id), `apns-push-type: alert`,
//! `apns-priority: 10` and `apns-expiration`. The token is reused for 50 minutes (Apple refuses one
//! older than an hour and one renewed more often than every 20 minutes) and renewed at once when
//! APNs answers `ExpiredProviderToken`. An answer that the device token is gone (410, or 400
//! `BadDeviceToken` / `DeviceTokenNotForTopic`) forgets the token.
//!
//! The notification carries only the transaction id and the serial, with a fixed alert text and
//! `mutable-content` so a notification service extension can fetch the details with the vault.
//!
//! One HTTP/2 connection is kept open across wake-ups, as Apple asks (a connection opened and
//! closed for each notification can read to APNs as a denial-of-service attempt); it is driven by a
//! runtime of the sender's own. When APNs has closed the kept connection (it may, after idling),
//! the wake-up is sent once more on a new one.

use super::jwt::SigningKey;
use super::Answer;
use crate::{ProviderError, Result};
use rustls::pki_types::{CertificateDer, ServerName};
use serde_json::json;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

/// Seconds a provider token is reused (Apple: valid one hour, renewed at most every 20 minutes).
const TOKEN_REUSE_S: u64 = 50 * 60;
/// Seconds APNs keeps an undelivered wake-up (`apns-expiration`): a sign-in request is short-lived.
const EXPIRATION_S: u64 = 300;
/// Seconds the whole delivery (connect, TLS, request, answer) may take.
const DELIVERY_TIMEOUT_S: u64 = 10;
/// Longest answer body read (APNs answers with a small JSON object).
const MAX_ANSWER: usize = 16 * 1024;

/// Which APNs environment the app's builds register with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    /// App Store and TestFlight builds: `api.push.apple.com`.
    Production,
    /// Development builds: `api.sandbox.push.apple.com`.
    Development,
}

impl Environment {
    fn url(self) -> &'static str {
        match self {
            Environment::Production => "https://api.push.apple.com",
            Environment::Development => "https://api.sandbox.push.apple.com",
        }
    }
}

/// The operator's APNs credentials and where to send.
pub struct Apns {
    key: SigningKey,
    key_id: String,
    team_id: String,
    topic: String,
    host: String,
    port: u16,
    roots: Arc<rustls::RootCertStore>,
    token: Mutex<Option<(String, u64)>>,
    link: Link,
}

/// The kept HTTP/2 connection to APNs and the runtime that drives it (made on the first wake-up).
#[derive(Default)]
struct Link {
    runtime: OnceLock<std::result::Result<tokio::runtime::Runtime, String>>,
    connection: Arc<Mutex<Option<h2::client::SendRequest<bytes::Bytes>>>>,
}

impl Drop for Link {
    fn drop(&mut self) {
        // A runtime may not be dropped from async code (the server's, at shutdown): let it go.
        if let Some(Ok(runtime)) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl std::fmt::Debug for Apns {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Apns").field("key_id", &self.key_id).field("team_id", &self.team_id).field("topic", &self.topic).field("host", &self.host).finish()
    }
}

fn invalid(why: impl std::fmt::Display) -> ProviderError {
    ProviderError::Invalid(format!("APNs: {why}"))
}

fn alnum10(value: &str, what: &str) -> Result<String> {
    if value.len() == 10 && value.bytes().all(|b| b.is_ascii_alphanumeric()) {
        Ok(value.to_string())
    } else {
        Err(invalid(format!("the {what} is the 10 letters and digits Apple shows (got {} characters)", value.len())))
    }
}

/// Where wake-ups go when not to Apple (tests, a relay), and the trust anchors replacing the public ones.
pub struct Endpoint {
    /// `https://host[:port]`.
    pub url: String,
    /// Root certificates (PEM or DER) that replace the public roots.
    pub roots: Vec<CertificateDer<'static>>,
}

impl Apns {
    /// Reads the credentials: the `.p8` key (PKCS#8 PEM, P-256), its key id, the team id and the
    /// app's bundle id (the topic). `endpoint` replaces Apple's address and roots (tests).
    pub fn new(key_pem: &str, key_id: &str, team_id: &str, topic: &str, environment: Environment, endpoint: Option<Endpoint>) -> Result<Apns> {
        let key = SigningKey::es256_from_pem(key_pem).ok_or_else(|| invalid("the key is not a PKCS#8 P-256 key (the AuthKey_….p8 file Apple gives)"))?;
        if topic.is_empty() || topic.len() > 255 || !topic.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._".contains(&b)) {
            return Err(invalid("the topic is the app's bundle id (letters, digits, '.', '-' and '_')"));
        }
        let (url, roots) = match endpoint {
            Some(e) => {
                let mut store = rustls::RootCertStore::empty();
                for cert in e.roots {
                    store.add(cert).map_err(|e| invalid(format!("a root certificate is unusable: {e}")))?;
                }
                (e.url, store)
            }
            None => (environment.url().to_string(), rustls::RootCertStore::from_iter(webpki_roots::TLS_SERVER_ROOTS.iter().cloned())),
        };
        let uri: http::Uri = url.parse().map_err(|_| invalid("the address is not a URL"))?;
        if uri.scheme_str() != Some("https") {
            return Err(invalid("the address must be https://"));
        }
        let host = uri.host().ok_or_else(|| invalid("the address has no host"))?.trim_matches(['[', ']']).to_string();
        let port = uri.port_u16().unwrap_or(443);
        Ok(Apns {
            key,
            key_id: alnum10(key_id, "key id")?,
            team_id: alnum10(team_id, "team id")?,
            topic: topic.to_string(),
            host,
            port,
            roots: Arc::new(roots),
            token: Mutex::new(None),
            link: Link::default(),
        })
    }

    /// The provider token: the cached one while younger than 50 minutes unless `renew`.
    fn provider_token(&self, now: u64, renew: bool) -> Result<String> {
        let mut cached = self.token.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((token, issued)) = cached.as_ref() {
            if !renew && now.saturating_sub(*issued) < TOKEN_REUSE_S && *issued <= now {
                return Ok(token.clone());
            }
        }
        let token = self.key.sign(json!({"kid": self.key_id}), &json!({"iss": self.team_id, "iat": now})).map_err(invalid)?;
        *cached = Some((token.clone(), now));
        Ok(token)
    }

    /// The device token of an `apns:` push token: hex, 32 bytes or more.
    pub fn device_token(push_token: &str) -> Option<Result<&str>> {
        let hex = push_token.strip_prefix("apns:")?;
        Some(if (64..=200).contains(&hex.len()) && hex.len() % 2 == 0 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            Ok(hex)
        } else {
            Err(invalid("the device token is not 32 or more bytes in hex"))
        })
    }

    /// Sends one wake-up to `device` (hex); renews the provider token once if APNs says it expired.
    pub(crate) fn send(&self, device: &str, transaction_id: &str, serial: &str, now: u64) -> std::result::Result<Answer, String> {
        let payload = json!({
            "aps": {
                "alert": {"title": "Sign-in request", "body": "Open the app to review it."},
                "sound": "default",
                "mutable-content": 1,
                "category": "SOFTTOKEN_SIGN_IN",
            },
            "transaction_id": transaction_id,
            "serial": serial,
        })
        .to_string();
        let mut answer = self.post(device, &payload, now, false)?;
        if answer.status == 403 && answer.reason.as_deref() == Some("ExpiredProviderToken") {
            answer = self.post(device, &payload, now, true)?;
        }
        Ok(answer)
    }

    fn post(&self, device: &str, payload: &str, now: u64, renew: bool) -> std::result::Result<Answer, String> {
        let token = self.provider_token(now, renew).map_err(|e| e.to_string())?;
        let request = http::Request::builder()
            .method("POST")
            .uri(format!("https://{}:{}/3/device/{device}", self.host, self.port))
            .header("authorization", format!("bearer {token}"))
            .header("apns-topic", &self.topic)
            .header("apns-push-type", "alert")
            .header("apns-priority", "10")
            .header("apns-expiration", (now + EXPIRATION_S).to_string())
            .header("content-type", "application/json")
            .body(())
            .map_err(|e| e.to_string())?;
        let (host, port, roots, body) = (self.host.clone(), self.port, self.roots.clone(), bytes::Bytes::from(payload.as_bytes().to_vec()));
        let kept = self.link.connection.clone();
        let (status, answer) = self.link.run(async move {
            tokio::time::timeout(Duration::from_secs(DELIVERY_TIMEOUT_S), deliver(kept, host, port, roots, request, body))
                .await
                .map_err(|_| format!("no answer within {DELIVERY_TIMEOUT_S} s"))?
        })?;
        let reason = serde_json::from_slice::<serde_json::Value>(&answer).ok().and_then(|v| v["reason"].as_str().map(str::to_string));
        // 410: the token is no longer active for the topic; these reasons say it never will be.
        let token_gone = status == 410 || matches!(reason.as_deref(), Some("BadDeviceToken" | "DeviceTokenNotForTopic" | "Unregistered"));
        Ok(Answer { status, reason, token_gone })
    }
}

impl Link {
    /// Runs `work` on the link's runtime and waits for it: wake-ups are sent from synchronous code
    /// that may itself be running on the server's runtime, where blocking on another is not allowed.
    fn run<T: Send + 'static>(
        &self,
        work: impl std::future::Future<Output = std::result::Result<T, String>> + Send + 'static,
    ) -> std::result::Result<T, String> {
        let runtime = self
            .runtime
            .get_or_init(|| tokio::runtime::Builder::new_multi_thread().worker_threads(1).thread_name("apns").enable_all().build().map_err(|e| e.to_string()))
            .as_ref()
            .map_err(|e| format!("no runtime for APNs: {e}"))?;
        let (answer, answered) = std::sync::mpsc::channel();
        runtime.spawn(async move {
            let _ = answer.send(work.await);
        });
        answered.recv().map_err(|_| "the delivery task ended without an answer".to_string())?
    }
}

/// Sends one request on the kept connection; if that connection has failed (closed by APNs after
/// idling, say), once more on a new one. A failure on a new connection is the answer.
async fn deliver(
    kept: Arc<Mutex<Option<h2::client::SendRequest<bytes::Bytes>>>>,
    host: String,
    port: u16,
    roots: Arc<rustls::RootCertStore>,
    request: http::Request<()>,
    body: bytes::Bytes,
) -> std::result::Result<(u16, Vec<u8>), String> {
    let (parts, ()) = request.into_parts();
    let cached = kept.lock().unwrap_or_else(|e| e.into_inner()).clone();
    if let Some(client) = cached {
        match exchange(client, http::Request::from_parts(parts.clone(), ()), body.clone()).await {
            Ok(answer) => return Ok(answer),
            Err(_) => *kept.lock().unwrap_or_else(|e| e.into_inner()) = None,
        }
    }
    let client = connect(&host, port, roots).await?;
    *kept.lock().unwrap_or_else(|e| e.into_inner()) = Some(client.clone());
    exchange(client, http::Request::from_parts(parts, ()), body).await
}

/// A new HTTP/2 connection (TLS, ALPN `h2`), driven in the background until it closes.
async fn connect(host: &str, port: u16, roots: Arc<rustls::RootCertStore>) -> std::result::Result<h2::client::SendRequest<bytes::Bytes>, String> {
    let tcp = tokio::net::TcpStream::connect((host, port)).await.map_err(|e| format!("cannot connect to {host}: {e}"))?;
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec()];
    let name = ServerName::try_from(host.to_string()).map_err(|_| format!("{host} is not a server name"))?;
    let tls = tokio_rustls::TlsConnector::from(Arc::new(config)).connect(name, tcp).await.map_err(|e| format!("TLS with {host}: {e}"))?;
    let (client, connection) = h2::client::handshake(tls).await.map_err(|e| format!("HTTP/2 with {host}: {e}"))?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(client)
}

/// One request and its answer (the body read up to `MAX_ANSWER`).
async fn exchange(
    client: h2::client::SendRequest<bytes::Bytes>,
    request: http::Request<()>,
    body: bytes::Bytes,
) -> std::result::Result<(u16, Vec<u8>), String> {
    let mut client = client.ready().await.map_err(|e| e.to_string())?;
    let (response, mut stream) = client.send_request(request, false).map_err(|e| e.to_string())?;
    stream.send_data(body, true).map_err(|e| e.to_string())?;
    let response = response.await.map_err(|e| format!("no HTTP/2 response: {e}"))?;
    let status = response.status().as_u16();
    let mut body = response.into_body();
    let mut answer = Vec::new();
    while let Some(chunk) = body.data().await {
        let chunk = chunk.map_err(|e| e.to_string())?;
        let _ = body.flow_control().release_capacity(chunk.len());
        answer.extend_from_slice(&chunk[..chunk.len().min(MAX_ANSWER.saturating_sub(answer.len()))]);
    }
    Ok((status, answer))
}
