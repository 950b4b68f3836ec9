//! Web Push wake-ups: an app's push token may be a W3C PushSubscription (what browsers and
//! UnifiedPush distributors hand out); a new transaction then POSTs an encrypted wake-up to its
//! endpoint (RFC 8030), carrying only the transaction id and serial, encrypted as RFC 8291
//! `aes128gcm` and signed with the provider's VAPID key (RFC 8292). One attempt per transaction:
//! the outcome is recorded and reported, never retried.

use crate::{ProviderError, Result};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_128_GCM};
use ring::agreement::{self, EphemeralPrivateKey, UnparsedPublicKey, ECDH_P256};
use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use serde::Deserialize;
use softtoken_core::transaction::hkdf_sha256;
use std::path::{Path, PathBuf};
use std::time::Duration;
use zeroize::Zeroizing;

/// Record size announced in the `aes128gcm` header (one record: the wake-up is tiny).
const RECORD_SIZE: u32 = 4096;
/// Seconds a push service keeps an undelivered wake-up (the transaction's own lifetime is longer;
/// a phone offline longer than this sees it at its next fetch).
const TTL_S: u64 = 300;
/// Seconds a VAPID token is valid (RFC 8292 allows at most 24 h).
const VAPID_LIFETIME_S: u64 = 12 * 3600;
/// Seconds the whole delivery may take.
const DELIVERY_TIMEOUT_S: u64 = 10;
/// Longest endpoint accepted.
const MAX_ENDPOINT: usize = 2048;

/// A push subscription: where to send, and the keys the receiver decrypts with.
#[derive(Clone, PartialEq, Eq)]
pub struct Subscription {
    /// The push service's URL for this receiver (a capability: shown only by its host).
    pub endpoint: String,
    /// The receiver's P-256 public key, uncompressed (65 bytes).
    pub p256dh: Vec<u8>,
    /// The receiver's 16-byte authentication secret.
    pub auth: Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for Subscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscription").field("endpoint_host", &host_of(&self.endpoint)).field("auth", &"[redacted]").finish()
    }
}

#[derive(Deserialize)]
struct SubscriptionJson {
    endpoint: String,
    keys: KeysJson,
}

#[derive(Deserialize)]
struct KeysJson {
    p256dh: String,
    auth: String,
}

fn bad(why: &str) -> ProviderError {
    ProviderError::Invalid(format!("the Web Push subscription {why}"))
}

/// `https://host:port/…` → `host:port` (what errors and records show of an endpoint).
pub(crate) fn host_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.split(['/', '?', '#']).next().unwrap_or("")
}

/// Either padded or unpadded URL-safe base64 (browsers give unpadded; some libraries pad).
fn b64url(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(text.trim_end_matches('=')).ok()
}

impl Subscription {
    /// The subscription a push token holds, `None` when the token is not JSON (an FCM or APNs
    /// token), an error when it is JSON but not a usable subscription.
    pub fn from_push_token(token: &str) -> Option<Result<Subscription>> {
        token.trim_start().starts_with('{').then(|| Self::parse(token))
    }

    fn parse(token: &str) -> Result<Subscription> {
        let j: SubscriptionJson = serde_json::from_str(token).map_err(|_| bad("is not {\"endpoint\", \"keys\": {\"p256dh\", \"auth\"}}"))?;
        check_endpoint(&j.endpoint)?;
        let p256dh = b64url(&j.keys.p256dh).ok_or_else(|| bad("key p256dh is not base64url"))?;
        if p256dh.len() != 65 || p256dh[0] != 4 {
            return Err(bad("key p256dh is not an uncompressed P-256 point"));
        }
        let auth = Zeroizing::new(b64url(&j.keys.auth).ok_or_else(|| bad("key auth is not base64url"))?);
        if auth.len() != 16 {
            return Err(bad("key auth is not 16 bytes"));
        }
        Ok(Subscription { endpoint: j.endpoint, p256dh, auth })
    }
}

/// An endpoint must be https, or plain http to a loopback host (tests, a local distributor).
fn check_endpoint(endpoint: &str) -> Result<()> {
    if endpoint.len() > MAX_ENDPOINT || endpoint.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(bad("endpoint is too long or has spaces or control characters"));
    }
    let Some((scheme, _)) = endpoint.split_once("://") else { return Err(bad("endpoint is not a URL")) };
    let host = host_of(endpoint);
    if host.is_empty() || host.contains(['@', '\\']) {
        return Err(bad("endpoint has no host, or has user info"));
    }
    match scheme {
        "https" => Ok(()),
        "http" => {
            let name = match host.strip_prefix('[') {
                Some(v6) => v6.split(']').next().unwrap_or(""),
                None => host.rsplit_once(':').map_or(host, |(h, _)| h),
            };
            let loopback = name == "localhost" || name.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
            if loopback {
                Ok(())
            } else {
                Err(bad("endpoint is plain http off loopback: only https is accepted"))
            }
        }
        _ => Err(bad("endpoint is not https")),
    }
}

/// Encrypts `plaintext` for `sub` as one RFC 8291 `aes128gcm` record (RFC 8188 header included).
pub fn encrypt(sub: &Subscription, plaintext: &[u8], rng: &dyn SecureRandom) -> Result<Vec<u8>> {
    let failed = || ProviderError::Fault("Web Push encryption failed".into());
    if plaintext.len() + 1 + 16 > RECORD_SIZE as usize {
        return Err(ProviderError::Fault("the wake-up does not fit one record".into()));
    }
    let ephemeral = EphemeralPrivateKey::generate(&ECDH_P256, rng).map_err(|_| failed())?;
    let as_public = ephemeral.compute_public_key().map_err(|_| failed())?;
    let as_public = as_public.as_ref().to_vec();
    let mut salt = [0u8; 16];
    rng.fill(&mut salt).map_err(|_| failed())?;
    // RFC 8291 §3.4: IKM from the ECDH secret, keyed by the auth secret and both public keys.
    let mut ikm = Zeroizing::new([0u8; 32]);
    let key_info = [b"WebPush: info\0".as_slice(), &sub.p256dh, &as_public].concat();
    agreement::agree_ephemeral(ephemeral, &UnparsedPublicKey::new(&ECDH_P256, &sub.p256dh), |shared| hkdf_sha256(shared, &sub.auth, &key_info, &mut ikm[..]))
        .map_err(|_| bad("key p256dh is not a point on P-256"))?
        .ok_or_else(failed)?;
    // RFC 8188 §2.2–2.3: content key and nonce from the salt.
    let mut cek = Zeroizing::new([0u8; 16]);
    let mut nonce = [0u8; 12];
    hkdf_sha256(&ikm[..], &salt, b"Content-Encoding: aes128gcm\0", &mut cek[..]).ok_or_else(failed)?;
    hkdf_sha256(&ikm[..], &salt, b"Content-Encoding: nonce\0", &mut nonce).ok_or_else(failed)?;
    let key = LessSafeKey::new(UnboundKey::new(&AES_128_GCM, &cek[..]).map_err(|_| failed())?);
    let mut record = Vec::with_capacity(plaintext.len() + 17);
    record.extend_from_slice(plaintext);
    record.push(2); // the last (and only) record's delimiter
    key.seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::empty(), &mut record).map_err(|_| failed())?;
    let mut body = Vec::with_capacity(16 + 4 + 1 + as_public.len() + record.len());
    body.extend_from_slice(&salt);
    body.extend_from_slice(&RECORD_SIZE.to_be_bytes());
    body.push(as_public.len() as u8);
    body.extend_from_slice(&as_public);
    body.extend_from_slice(&record);
    Ok(body)
}

/// The provider's VAPID signing key (ECDSA P-256), kept as a PKCS#8 PEM file (0600).
pub struct VapidKey {
    pair: EcdsaKeyPair,
    path: PathBuf,
}

impl std::fmt::Debug for VapidKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VapidKey").field("path", &self.path).field("key", &"[redacted]").finish()
    }
}

const PEM_LABEL: &str = "PRIVATE KEY";

impl VapidKey {
    /// Reads the key at `path`, creating one (0600) when the file does not exist; a file group or
    /// others can read, or one that is not a P-256 PKCS#8 key, is refused.
    pub fn load_or_create(path: &Path) -> Result<VapidKey> {
        let rng = SystemRandom::new();
        if !path.exists() {
            let pkcs8 =
                EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).map_err(|_| ProviderError::Fault("cannot make a VAPID key".into()))?;
            let body = STANDARD.encode(pkcs8.as_ref());
            let lines: Vec<&str> = body.as_bytes().chunks(64).map(|c| std::str::from_utf8(c).unwrap_or_default()).collect();
            let pem = Zeroizing::new(format!("-----BEGIN {PEM_LABEL}-----\n{}\n-----END {PEM_LABEL}-----\n", lines.join("\n")));
            crate::files::create_new("VAPID key", path, pem.as_bytes())?;
        }
        let refuse = |why: String| ProviderError::Invalid(format!("VAPID key {}: {why}", path.display()));
        let bytes = crate::files::read("VAPID key", path)?;
        let text = std::str::from_utf8(&bytes).map_err(|_| refuse("not text (a PEM file)".into()))?;
        let begin = format!("-----BEGIN {PEM_LABEL}-----");
        let end = format!("-----END {PEM_LABEL}-----");
        let inner =
            text.split_once(&begin).and_then(|(_, rest)| rest.split_once(&end)).map(|(b, _)| b).ok_or_else(|| {
                refuse(format!("no {begin} block (a PKCS#8 key, as `openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256` writes)"))
            })?;
        let b64: Zeroizing<String> = Zeroizing::new(inner.chars().filter(|c| !c.is_whitespace()).collect());
        let der = Zeroizing::new(STANDARD.decode(b64.as_bytes()).map_err(|_| refuse("the PEM block is not base64".into()))?);
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &der, &rng).map_err(|e| refuse(format!("not a P-256 PKCS#8 key ({e})")))?;
        Ok(VapidKey { pair, path: path.to_path_buf() })
    }

    /// The public key as browsers' `applicationServerKey` takes it (base64url, uncompressed point).
    pub fn public_key(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.pair.public_key().as_ref())
    }

    /// The `Authorization` header for a request to `endpoint` (RFC 8292 §3): a JWT for the
    /// endpoint's origin, valid until `now` + 12 h, with `subject` (a mailto: or https: contact).
    pub fn authorization(&self, endpoint: &str, subject: Option<&str>, now: u64) -> Result<String> {
        let scheme = endpoint.split_once("://").map_or("https", |(s, _)| s);
        let mut claims = serde_json::json!({"aud": format!("{scheme}://{}", host_of(endpoint)), "exp": now + VAPID_LIFETIME_S});
        if let Some(s) = subject {
            claims["sub"] = s.into();
        }
        let signing_input = format!("{}.{}", URL_SAFE_NO_PAD.encode(br#"{"typ":"JWT","alg":"ES256"}"#), URL_SAFE_NO_PAD.encode(claims.to_string()));
        let signature = self.pair.sign(&SystemRandom::new(), signing_input.as_bytes()).map_err(|_| ProviderError::Fault("VAPID signing failed".into()))?;
        Ok(format!("vapid t={signing_input}.{}, k={}", URL_SAFE_NO_PAD.encode(signature.as_ref()), self.public_key()))
    }
}

/// How wake-ups are sent: the VAPID key and the contact put in its tokens.
#[derive(Debug)]
pub struct WebPush {
    /// The signing key.
    pub key: VapidKey,
    /// `sub` claim: a `mailto:` or `https:` contact for the push service's operator.
    pub subject: Option<String>,
    /// Deliver to push services on loopback addresses too (the operator's explicit choice, for
    /// tests and a distributor on this host); every other non-public address is refused anyway.
    pub allow_loopback: bool,
}

/// Whether a wake-up may be sent to `ip`: a public unicast address, or a loopback one when the
/// operator allows it. Push endpoints come from apps (any portal user can register one), so
/// without this the provider would POST into its own network and report what answered.
pub fn deliverable(ip: std::net::IpAddr, allow_loopback: bool) -> bool {
    use std::net::IpAddr;
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            if v4.is_loopback() {
                return allow_loopback;
            }
            !(v4.is_private()
                || v4.is_link_local()
                || v4.is_multicast()
                || v4.is_broadcast()
                || v4.is_unspecified()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
                || (a == 192 && b == 0 && c == 0)
                || (a == 198 && (18..20).contains(&b))
                || a >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return deliverable(IpAddr::V4(v4), allow_loopback);
            }
            if v6.is_loopback() {
                return allow_loopback;
            }
            let first = v6.segments()[0];
            !(v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || (first & 0xffc0) == 0xfec0
                || (first == 0x2001 && v6.segments()[1] == 0x0db8)
                || (first == 0x0064 && v6.segments()[1] == 0xff9b)
                || v6.segments()[..6] == [0, 0, 0, 0, 0, 0])
        }
    }
}

/// Resolves a push endpoint's host once and keeps it only when every address is deliverable; the
/// connection goes to the addresses checked here (no second lookup a rebinding name could answer
/// differently).
#[derive(Debug)]
struct PublicAddresses {
    allow_loopback: bool,
}

impl ureq::unversioned::resolver::Resolver for PublicAddresses {
    fn resolve(
        &self,
        uri: &ureq::http::Uri,
        config: &ureq::config::Config,
        timeout: ureq::unversioned::transport::NextTimeout,
    ) -> std::result::Result<ureq::unversioned::resolver::ResolvedSocketAddrs, ureq::Error> {
        let found = ureq::unversioned::resolver::DefaultResolver::default().resolve(uri, config, timeout)?;
        if found.iter().any(|a| !deliverable(a.ip(), self.allow_loopback)) {
            return Err(ureq::Error::Other("the push endpoint is not at a public address".into()));
        }
        Ok(found)
    }
}

fn agent(allow_loopback: bool) -> ureq::Agent {
    let config = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .max_redirects_will_error(false)
        .timeout_global(Some(Duration::from_secs(DELIVERY_TIMEOUT_S)))
        .user_agent(concat!("softtoken-provider/", env!("CARGO_PKG_VERSION")))
        .build();
    ureq::Agent::with_parts(config, ureq::unversioned::transport::DefaultConnector::default(), PublicAddresses { allow_loopback })
}

/// POSTs an encrypted wake-up to `sub`'s endpoint; the push service's status.
fn deliver(web_push: &WebPush, sub: &Subscription, body: &[u8], now: u64) -> std::result::Result<u16, String> {
    let authorization = web_push.key.authorization(&sub.endpoint, web_push.subject.as_deref(), now).map_err(|e| e.to_string())?;
    let reply = agent(web_push.allow_loopback)
        .post(&sub.endpoint)
        .header("TTL", TTL_S.to_string())
        .header("Urgency", "high")
        .header("Content-Encoding", "aes128gcm")
        .header("Content-Type", "application/octet-stream")
        .header("Authorization", authorization)
        .send(body)
        // ureq's errors may carry the URL: only the host is shown.
        .map_err(|e| format!("{} ({})", e.to_string().replace(&sub.endpoint, host_of(&sub.endpoint)), host_of(&sub.endpoint)))?;
    Ok(reply.status().as_u16())
}

/// Sends one encrypted wake-up to `sub`: the push service's status, or why nothing was delivered.
pub(crate) fn send(
    web_push: &WebPush,
    sub: &Subscription,
    transaction_id: &str,
    serial: &str,
    rng: &SystemRandom,
    now: u64,
) -> std::result::Result<u16, String> {
    let payload = serde_json::json!({"transaction_id": transaction_id, "serial": serial}).to_string();
    let body = encrypt(sub, payload.as_bytes(), rng).map_err(|e| e.to_string())?;
    deliver(web_push, sub, &body, now)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(endpoint: &str, p256dh: &[u8], auth: &[u8]) -> String {
        serde_json::json!({"endpoint": endpoint, "keys": {"p256dh": URL_SAFE_NO_PAD.encode(p256dh), "auth": URL_SAFE_NO_PAD.encode(auth)}}).to_string()
    }

    #[test]
    fn subscriptions_are_checked() {
        let point = [[4u8].as_slice(), &[7u8; 64]].concat();
        assert!(Subscription::from_push_token("fcm:abc").is_none(), "an FCM token is not a subscription");
        assert!(Subscription::from_push_token(&token("https://push.example/x", &point, &[1; 16])).unwrap().is_ok());
        assert!(Subscription::from_push_token(&token("http://127.0.0.1:9/x", &point, &[1; 16])).unwrap().is_ok());
        for (endpoint, key, auth) in [
            ("http://push.example/x", &point[..], &[1u8; 16][..]),
            ("https://user@push.example/x", &point[..], &[1u8; 16][..]),
            ("ftp://push.example/x", &point[..], &[1u8; 16][..]),
            ("https://push.example/x", &point[..33], &[1u8; 16][..]),
            ("https://push.example/x", &point[..], &[1u8; 8][..]),
        ] {
            assert!(Subscription::from_push_token(&token(endpoint, key, auth)).unwrap().is_err(), "{endpoint}");
        }
        assert!(Subscription::from_push_token("{not json").unwrap().is_err());
    }

    #[test]
    fn a_push_endpoint_on_this_host_or_a_private_network_is_never_contacted() {
        // The attack (issue 28, finding 6): a portal user registered a push endpoint
        // `http://127.0.0.1:PORT/anything` and clicked Test sign-in; the provider POSTed there and
        // the page reported what answered ("answered 418", "connection refused"): a port scan
        // from the provider's host. Now only public addresses are contacted (loopback only when
        // the operator allows it), the connection goes to the address checked, and the portal
        // says only whether a wake-up went out.
        use std::net::IpAddr;
        for refused in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "192.0.2.1",
            "::1",
            "::",
            "fe80::1",
            "fd00::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "2001:db8::1",
            "64:ff9b::a00:1",
        ] {
            assert!(!deliverable(refused.parse::<IpAddr>().unwrap(), false), "{refused}");
        }
        for allowed in ["8.8.8.8", "1.1.1.1", "2606:4700::1111", "2a00:1450::1"] {
            assert!(deliverable(allowed.parse::<IpAddr>().unwrap(), false), "{allowed}");
        }
        assert!(deliverable("127.0.0.1".parse().unwrap(), true) && deliverable("::1".parse().unwrap(), true));
        assert!(!deliverable("10.1.2.3".parse().unwrap(), true), "only loopback is opened by the option");
        // A real delivery to a listener on this host: refused before connecting, and what the
        // portal shows names no status or error.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let dir = tempfile::tempdir().unwrap();
        let web_push = WebPush { key: VapidKey::load_or_create(&dir.path().join("v.pem")).unwrap(), subject: None, allow_loopback: false };
        let point = [[4u8].as_slice(), &[7u8; 64]].concat();
        for endpoint in [format!("http://127.0.0.1:{port}/anything"), format!("http://localhost:{port}/anything")] {
            let sub = Subscription::from_push_token(&token(&endpoint, &point, &[1; 16])).unwrap().unwrap();
            let refused = deliver(&web_push, &sub, b"x", 1_000).unwrap_err();
            assert!(refused.contains("public address"), "{refused}");
        }
        assert!(matches!(listener.accept(), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock), "nothing connected to the listener");
        let shown = crate::push::WakeUp::Failed { service: "Web Push", why: "the push service at 127.0.0.1:22 answered 418".into() }.describe_for_user();
        assert!(!shown.contains("418") && !shown.contains("127.0.0.1"), "{shown}");
        // The operator's option opens loopback: the same endpoint is contacted.
        let web_push = WebPush { allow_loopback: true, ..web_push };
        let sub = Subscription::from_push_token(&token(&format!("http://127.0.0.1:{port}/anything"), &point, &[1; 16])).unwrap().unwrap();
        listener.set_nonblocking(false).unwrap();
        let reached = std::thread::spawn(move || listener.accept().is_ok());
        let _ = deliver(&web_push, &sub, b"x", 1_000);
        assert!(reached.join().unwrap(), "with the option, the loopback push service is reached");
    }

    #[test]
    fn the_record_has_the_rfc_8188_header_and_one_padded_record() {
        let rng = SystemRandom::new();
        let receiver = EphemeralPrivateKey::generate(&ECDH_P256, &rng).unwrap();
        let sub = Subscription {
            endpoint: "https://push.example/x".into(),
            p256dh: receiver.compute_public_key().unwrap().as_ref().to_vec(),
            auth: Zeroizing::new(vec![9; 16]),
        };
        let body = encrypt(&sub, b"hello", &rng).unwrap();
        assert_eq!(&body[16..20], &RECORD_SIZE.to_be_bytes());
        assert_eq!(body[20], 65);
        assert_eq!(body[21], 4, "the sender's key, uncompressed");
        assert_eq!(body.len(), 21 + 65 + 5 + 1 + 16);
        let other = encrypt(&sub, b"hello", &rng).unwrap();
        assert_ne!(body[..16], other[..16], "a fresh salt each time");
    }

    #[test]
    fn vapid_tokens_name_the_endpoint_origin_and_verify() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vapid.pem");
        let key = VapidKey::load_or_create(&path).unwrap();
        assert_eq!(VapidKey::load_or_create(&path).unwrap().public_key(), key.public_key(), "the same key next time");
        let header = key.authorization("https://push.example:8443/send/abc?x", Some("mailto:ops@example.test"), 1_000).unwrap();
        let (t, k) = header.strip_prefix("vapid t=").unwrap().split_once(", k=").unwrap();
        assert_eq!(k, key.public_key());
        let parts: Vec<&str> = t.split('.').collect();
        let claims: serde_json::Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
        assert_eq!(claims, serde_json::json!({"aud": "https://push.example:8443", "exp": 1_000 + VAPID_LIFETIME_S, "sub": "mailto:ops@example.test"}));
        let public = ring::signature::UnparsedPublicKey::new(&ring::signature::ECDSA_P256_SHA256_FIXED, URL_SAFE_NO_PAD.decode(k).unwrap());
        public.verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &URL_SAFE_NO_PAD.decode(parts[2]).unwrap()).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
            assert!(VapidKey::load_or_create(&path).is_err(), "a key others can read is refused");
        }
    }
}
