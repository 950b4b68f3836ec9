//! Firebase Cloud Messaging wake-ups (the HTTP v1 API) for Android apps whose push token is an FCM
//! registration token (`fcm:` followed by the token from `FirebaseMessagingService.onNewToken`).
//!
//! As Google documents it: the operator's service account (the JSON file the Firebase console gives)
//! signs an RS256 JWT (`iss` = its `client_email`, `scope` = `…/auth/firebase.messaging`, `aud` = its
//! `token_uri`, `iat`, `exp` one hour later), which is exchanged at `token_uri` for an OAuth access
//! token (grant type `urn:ietf:params:oauth:grant-type:jwt-bearer`), kept until a minute before it
//! expires and renewed at once on a 401. The wake-up is a data-only, high-priority message to
//! `POST /v1/projects/<project_id>/messages:send`, carrying only the transaction id and the serial.
//! An `UNREGISTERED` answer (the app was uninstalled or the token rotated) forgets the token.

use super::jwt::SigningKey;
use super::Answer;
use crate::{ProviderError, Result};
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Mutex;
use std::time::Duration;

/// The OAuth scope of FCM's HTTP v1 API.
const SCOPE: &str = "https://www.googleapis.com/auth/firebase.messaging";
/// Seconds FCM keeps an undelivered wake-up (`android.ttl`).
const TTL_S: u64 = 300;
/// Seconds one HTTP exchange may take.
const TIMEOUT_S: u64 = 10;
/// Longest answer read.
const MAX_ANSWER: u64 = 64 * 1024;

#[derive(Deserialize)]
struct ServiceAccount {
    #[serde(rename = "type")]
    kind: String,
    project_id: String,
    private_key_id: String,
    private_key: String,
    client_email: String,
    token_uri: String,
}

/// The operator's FCM service account and where to send.
pub struct Fcm {
    key: SigningKey,
    key_id: String,
    client_email: String,
    project_id: String,
    token_uri: String,
    base: String,
    agent: ureq::Agent,
    access: Mutex<Option<(String, u64)>>,
}

impl std::fmt::Debug for Fcm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fcm").field("project_id", &self.project_id).field("client_email", &self.client_email).field("key", &"[redacted]").finish()
    }
}

fn invalid(why: impl std::fmt::Display) -> ProviderError {
    ProviderError::Invalid(format!("FCM: {why}"))
}

impl Fcm {
    /// Reads a service account file's JSON. `endpoint` replaces `https://fcm.googleapis.com` and the
    /// public roots (tests, a relay); the token address is the file's `token_uri`.
    pub fn new(service_account: &str, endpoint: Option<super::apns::Endpoint>) -> Result<Fcm> {
        let mut account: ServiceAccount = serde_json::from_str(service_account)
            .map_err(|e| invalid(format!("the service account file is not the JSON the Firebase console gives ({})", e.classify() as u8)))?;
        if account.kind != "service_account" {
            return Err(invalid("the file is not a service account key (\"type\": \"service_account\")"));
        }
        if !account.token_uri.starts_with("https://") {
            return Err(invalid("the service account's token_uri must be https://"));
        }
        if account.project_id.is_empty() || !account.project_id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return Err(invalid("the project id is not a Firebase project id"));
        }
        let key = SigningKey::rs256_from_pem(&account.private_key);
        zeroize::Zeroize::zeroize(&mut account.private_key);
        let key = key.ok_or_else(|| invalid("the private_key is not a PKCS#8 RSA key"))?;
        let mut config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_global(Some(Duration::from_secs(TIMEOUT_S)))
            .user_agent(concat!("softtoken-provider/", env!("CARGO_PKG_VERSION")));
        let base = match endpoint {
            Some(e) => {
                let roots = e.roots.into_iter().map(|c| ureq::tls::Certificate::from_der(c.as_ref()).to_owned()).collect::<Vec<_>>();
                config = config.tls_config(ureq::tls::TlsConfig::builder().root_certs(ureq::tls::RootCerts::new_with_certs(&roots)).build());
                e.url.trim_end_matches('/').to_string()
            }
            None => "https://fcm.googleapis.com".to_string(),
        };
        Ok(Fcm {
            key,
            key_id: account.private_key_id,
            client_email: account.client_email,
            project_id: account.project_id,
            token_uri: account.token_uri,
            base,
            agent: config.build().into(),
            access: Mutex::new(None),
        })
    }

    /// The registration token of an `fcm:` push token.
    pub fn registration_token(push_token: &str) -> Option<Result<&str>> {
        let token = push_token.strip_prefix("fcm:")?;
        Some(if !token.is_empty() && token.len() <= 4096 && token.bytes().all(|b| b.is_ascii_graphic()) {
            Ok(token)
        } else {
            Err(invalid("the registration token is empty, too long or has spaces"))
        })
    }

    /// An access token: the cached one until a minute before it expires, unless `renew`.
    fn access_token(&self, now: u64, renew: bool) -> std::result::Result<String, String> {
        let mut cached = self.access.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((token, expires)) = cached.as_ref() {
            if !renew && now + 60 < *expires {
                return Ok(token.clone());
            }
        }
        let claims = json!({"iss": self.client_email, "scope": SCOPE, "aud": self.token_uri, "iat": now, "exp": now + 3600});
        let assertion = self.key.sign(json!({"typ": "JWT", "kid": self.key_id}), &claims)?;
        let mut reply = self
            .agent
            .post(&self.token_uri)
            .send_form([("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"), ("assertion", assertion.as_str())])
            .map_err(|e| format!("the token address answered no HTTP: {}", e.to_string().replace(&self.token_uri, "the token address")))?;
        let status = reply.status().as_u16();
        let body: Value =
            reply.body_mut().with_config().limit(MAX_ANSWER).read_to_string().ok().and_then(|s| serde_json::from_str(&s).ok()).unwrap_or(Value::Null);
        let (Some(token), 200) = (body["access_token"].as_str(), status) else {
            return Err(format!("the token address refused the service account ({status} {})", body["error"].as_str().unwrap_or("")));
        };
        let expires = now + body["expires_in"].as_u64().unwrap_or(3600).min(3600);
        *cached = Some((token.to_string(), expires));
        Ok(token.to_string())
    }

    /// Sends one wake-up to `registration`; renews the access token once on a 401.
    pub(crate) fn send(&self, registration: &str, transaction_id: &str, serial: &str, now: u64) -> std::result::Result<Answer, String> {
        let message = json!({"message": {
            "token": registration,
            "data": {"transaction_id": transaction_id, "serial": serial},
            "android": {"priority": "HIGH", "ttl": format!("{TTL_S}s")},
        }})
        .to_string();
        let mut answer = self.post(&message, now, false)?;
        if answer.status == 401 {
            answer = self.post(&message, now, true)?;
        }
        Ok(answer)
    }

    fn post(&self, message: &str, now: u64, renew: bool) -> std::result::Result<Answer, String> {
        let access = self.access_token(now, renew)?;
        let url = format!("{}/v1/projects/{}/messages:send", self.base, self.project_id);
        let mut reply = self
            .agent
            .post(&url)
            .header("Authorization", format!("Bearer {access}"))
            .header("Content-Type", "application/json; charset=UTF-8")
            .send(message)
            .map_err(|e| format!("FCM answered no HTTP: {}", e.to_string().replace(&url, "FCM")))?;
        let status = reply.status().as_u16();
        let body: Value =
            reply.body_mut().with_config().limit(MAX_ANSWER).read_to_string().ok().and_then(|s| serde_json::from_str(&s).ok()).unwrap_or(Value::Null);
        let error = body["error"]["details"].as_array().and_then(|details| details.iter().find_map(|d| d["errorCode"].as_str().map(str::to_string)));
        let reason = error.or_else(|| body["error"]["status"].as_str().map(str::to_string));
        // The app was uninstalled, or the token belongs to another sender: it never works again.
        let token_gone = matches!(reason.as_deref(), Some("UNREGISTERED" | "SENDER_ID_MISMATCH"));
        Ok(Answer { status, reason, token_gone })
    }
}
