//! The online side: the foreign `TransactionTransport` (the platform's HTTP stack), activation by
//! link, push transactions, answers, push tokens and unregistering on removal. Every operation is
//! a call into `softtoken_app::Authenticator`; this module only converts.

use crate::authenticator::{IdentityInfo, R};
use crate::{shown, Authenticator};
use softtoken_core::transaction::Response;
use std::sync::Arc;

/// One HTTP header to send.
#[derive(Debug, Clone, uniffi::Record)]
pub struct HttpHeader {
    /// e.g. "Authorization".
    pub name: String,
    /// Its value.
    pub value: String,
}

/// An HTTP request for the platform to send (it carries MACs, never a seed). Send every header;
/// never follow a redirect (the MAC would go to another host); do not log the headers.
#[derive(Clone, uniffi::Record)]
pub struct HttpRequest {
    /// "GET", "POST" or "DELETE".
    pub method: String,
    /// The whole URL.
    pub url: String,
    /// Headers to send (the request MAC travels in `Authorization`).
    pub headers: Vec<HttpHeader>,
    /// A JSON body (POST), sent as `application/json`.
    pub body: Option<String>,
}

impl std::fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpRequest").field("method", &self.method).field("url", &softtoken_net::transport::redact_url(&self.url)).finish_non_exhaustive()
    }
}

/// The platform's HTTP response: any status, the body as text.
#[derive(Debug, Clone, uniffi::Record)]
pub struct HttpResponse {
    /// HTTP status.
    pub status: u16,
    /// The body.
    pub body: String,
}

/// Why a request got no HTTP answer.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum TransportError {
    /// No network, TLS failure, timeout, or an unexpected exception in the transport.
    #[error("{detail}")]
    Failed {
        /// Details.
        detail: String,
    },
}

impl From<uniffi::UnexpectedUniFFICallbackError> for TransportError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        TransportError::Failed { detail: format!("unexpected error in the transport: {}", e.reason) }
    }
}

/// Sends the protocol's HTTP requests with the platform's stack (OkHttp / HttpURLConnection,
/// URLSession), implemented by the app. An HTTP error status is a response, not an error.
#[uniffi::export(with_foreign)]
pub trait TransactionTransport: Send + Sync {
    /// Sends one request and returns its response.
    fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError>;
}

struct ForeignTransport(Arc<dyn TransactionTransport>);

impl softtoken_net::TransactionTransport for ForeignTransport {
    fn send(&self, r: &softtoken_net::HttpRequest) -> Result<softtoken_net::HttpResponse, String> {
        if !r.tls_verify {
            // Platform stacks are not asked to skip certificate checks.
            return Err("this token's server asked not to check its TLS certificate; the phone's HTTP stack always checks it".into());
        }
        let request = HttpRequest {
            method: r.method.as_str().into(),
            url: r.url.clone(),
            headers: r.headers.iter().map(|(name, value)| HttpHeader { name: name.clone(), value: value.clone() }).collect(),
            body: r.body.clone(),
        };
        self.0.send(request).map(|h| softtoken_net::HttpResponse { status: h.status, body: h.body }).map_err(|e| e.to_string())
    }
}

/// How the user answers a transaction.
#[derive(Debug, Clone, Copy, uniffi::Enum)]
pub enum TransactionResponse {
    /// The sign-in proceeds and is logged.
    Confirm,
    /// Nothing happens, nothing is logged.
    Cancel,
    /// The sign-in is denied and logged for the administrator.
    Suspicious,
}

impl From<TransactionResponse> for Response {
    fn from(r: TransactionResponse) -> Self {
        match r {
            TransactionResponse::Confirm => Response::Confirm,
            TransactionResponse::Cancel => Response::Cancel,
            TransactionResponse::Suspicious => Response::Suspicious,
        }
    }
}

/// A transaction's state at the provider (the protocol's states).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum TransactionState {
    /// Waiting for an answer.
    Pending,
    /// Confirmed: the sign-in proceeds.
    Approved,
    /// Cancelled by the user.
    Cancelled,
    /// Suspicious (or a wrong number): denied and logged.
    Denied,
    /// Not answered in time.
    Expired,
}

impl From<softtoken_core::protocol::TransactionState> for TransactionState {
    fn from(s: softtoken_core::protocol::TransactionState) -> Self {
        use softtoken_core::protocol::TransactionState as P;
        match s {
            P::Pending => TransactionState::Pending,
            P::Approved => TransactionState::Approved,
            P::Cancelled => TransactionState::Cancelled,
            P::Denied => TransactionState::Denied,
            P::Expired => TransactionState::Expired,
        }
    }
}

/// A key/value detail of a transaction, in the provider's order.
#[derive(Debug, Clone, uniffi::Record)]
pub struct TransactionDetail {
    /// e.g. "IP".
    pub key: String,
    /// e.g. "192.0.2.7".
    pub value: String,
}

/// A pending push transaction to show.
#[derive(Debug, Clone, uniffi::Record)]
pub struct TransactionInfo {
    /// Transaction id (32 hex digits).
    pub id: String,
    /// The identity's id.
    pub identity_id: String,
    /// The identity's name.
    pub identity_name: String,
    /// What the user is asked to approve.
    pub summary: String,
    /// Details under the summary.
    pub details: Vec<TransactionDetail>,
    /// Unix seconds (provider clock).
    pub created_at: u64,
    /// Unix seconds (provider clock).
    pub expires_at: u64,
    /// Whether the user must type (or pick) what the website shows before confirming.
    pub number_match: bool,
    /// The values to pick from (privacyIDEA's presence check: the login page shows one); empty
    /// when the user types a number or picks nothing.
    pub choices: Vec<String>,
}

/// What answering a transaction did.
#[derive(Debug, Clone, uniffi::Record)]
pub struct TransactionAnswer {
    /// Approved, cancelled or denied.
    pub state: TransactionState,
    /// A code to type into the login page (privacyIDEA's code to the phone), else none.
    pub display_code: Option<String>,
}

/// An identity whose provider could not be asked.
#[derive(Debug, Clone, uniffi::Record)]
pub struct FetchFailure {
    /// The identity's name.
    pub identity_name: String,
    /// Why.
    pub reason: String,
}

/// Pending transactions, and the providers that could not be asked.
#[derive(Debug, Clone, uniffi::Record)]
pub struct PendingTransactions {
    /// Oldest first.
    pub transactions: Vec<TransactionInfo>,
    /// The others were still fetched.
    pub failures: Vec<FetchFailure>,
}

/// A finished online activation.
#[derive(Debug, Clone, uniffi::Record)]
pub struct OnlineActivationResult {
    /// The stored identity.
    pub identity: IdentityInfo,
    /// The registration code the app sent for the user (shown for their records).
    pub registration_code: String,
}

/// What removing an identity did.
#[derive(Debug, Clone, uniffi::Record)]
pub struct RemovedIdentity {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// None for an offline identity; else whether its provider forgot it.
    pub unregistered: Option<bool>,
    /// Why the provider could not be told (the identity is removed anyway).
    pub unregister_error: Option<String>,
    /// What stays at a server the app cannot unregister from (a privacyIDEA / eduMFA push token
    /// stays enrolled until its administrator deletes it), to tell the user.
    pub left_at_server: Option<String>,
}

/// The push token's registration at one identity's provider.
#[derive(Debug, Clone, uniffi::Record)]
pub struct PushRegistration {
    /// The identity's name.
    pub identity_name: String,
    /// Why it failed, or none.
    pub error: Option<String>,
}

/// What registering a push token did.
#[derive(Debug, Clone, uniffi::Record)]
pub struct PushTokenReport {
    /// One entry per online identity that did not have the token yet.
    pub registrations: Vec<PushRegistration>,
    /// The vault was locked: the token is kept and registered right after the next unlock.
    pub kept_until_unlock: bool,
}

impl From<softtoken_app::PushTokenReport> for PushTokenReport {
    fn from(r: softtoken_app::PushTokenReport) -> Self {
        PushTokenReport {
            registrations: r
                .registrations
                .into_iter()
                .map(|p| PushRegistration { identity_name: shown(&p.identity_name), error: p.result.err().map(|e| shown(&e.to_string())) })
                .collect(),
            kept_until_unlock: r.kept_until_unlock,
        }
    }
}

impl From<softtoken_app::PendingTransaction> for TransactionInfo {
    fn from(p: softtoken_app::PendingTransaction) -> Self {
        let t = p.transaction;
        TransactionInfo {
            id: t.id,
            identity_id: p.identity_id,
            identity_name: shown(&p.identity_name),
            summary: shown(&t.summary),
            details: t.details.iter().map(|(key, value)| TransactionDetail { key: shown(key), value: shown(value) }).collect(),
            created_at: t.created_at,
            expires_at: t.expires_at,
            number_match: t.number_match,
            choices: p.choices.iter().map(|c| shown(c)).collect(),
        }
    }
}

#[uniffi::export]
impl Authenticator {
    /// Sets how requests reach providers: the platform's HTTP stack.
    pub fn set_transport(&self, transport: Arc<dyn TransactionTransport>) {
        self.app.set_transport(Arc::new(ForeignTransport(transport)));
    }

    /// Activates from an online activation link (no typing): the app sends the registration code
    /// itself and registers `push_token` with the provider.
    #[uniffi::method(default(push_token = None, name = None))]
    pub async fn activate_link(&self, link: String, push_token: Option<String>, name: Option<String>) -> R<OnlineActivationResult> {
        let done = self.run(move |a| a.activate_link(&link, push_token.as_deref(), name.as_deref())).await?;
        Ok(OnlineActivationResult { identity: (&done.identity).into(), registration_code: done.registration_code })
    }

    /// The pending transactions of every identity activated online.
    pub async fn pending_transactions(&self) -> R<PendingTransactions> {
        let fetched = self.run(|a| a.pending_transactions()).await?;
        Ok(PendingTransactions {
            transactions: fetched.transactions.into_iter().map(Into::into).collect(),
            failures: fetched
                .failures
                .into_iter()
                .map(|(identity_name, e)| FetchFailure { identity_name: shown(&identity_name), reason: shown(&e.to_string()) })
                .collect(),
        })
    }

    /// Answers the transaction `transaction_id` of the identity `identity_id` (both from the same
    /// `TransactionInfo`: ids are chosen by each provider, so an id alone could name another
    /// provider's sign-in). The vault must be unlocked; `number` is what the website shows when
    /// the transaction asks for it (a softtoken provider's two digits, or one of a privacyIDEA
    /// request's `choices`), for Confirm only (Cancel and Suspicious need none). Returns the new
    /// state (approved, cancelled or denied) and any code to type into the login page.
    #[uniffi::method(default(number = None))]
    pub async fn respond(&self, identity_id: String, transaction_id: String, response: TransactionResponse, number: Option<String>) -> R<TransactionAnswer> {
        let answered = self.run(move |a| a.respond(Some(&identity_id), &transaction_id, response.into(), number.as_deref())).await?;
        Ok(TransactionAnswer { state: answered.state.into(), display_code: answered.display_code })
    }

    /// Enrolls a privacyIDEA or eduMFA push token from its link (`otpauth://pipush/…`,
    /// `pia://pipush/…`, `edumfa-push://edumfa/…`): the phone key is made in Rust and never leaves
    /// the vault, the server's key is kept, one poll proves both. Its sign-in requests then come
    /// with `pending_transactions` and are answered with `respond`. A link that turns certificate
    /// checks off for a remote server is refused (phones never skip them).
    #[uniffi::method(default(name = None))]
    pub async fn enroll_push(&self, link: String, name: Option<String>) -> R<IdentityInfo> {
        let enrolled = self.run(move |a| a.enroll_push(&link, name.as_deref(), false)).await?;
        Ok((&enrolled.identity).into())
    }

    /// The 8-digit offline confirmation code for the transaction id a website shows.
    pub fn confirmation_code(&self, identity_id: String, transaction_id: String) -> R<String> {
        Ok(self.app.confirmation_code(&identity_id, &transaction_id)?)
    }

    /// Registers a new push token (FCM/APNs) with the provider of every online identity. Call it
    /// whenever the platform hands out a token (`onNewToken`, `didRegisterForRemoteNotifications`):
    /// while the vault is locked the token is kept and registered right after the next unlock.
    pub async fn register_push_token(&self, token: String) -> R<PushTokenReport> {
        Ok(self.run(move |a| a.register_push_token(&token)).await?.into())
    }

    /// Removes an identity; one activated online is unregistered at its provider first (removed
    /// here even when the provider cannot be reached: see `unregister_error`).
    pub async fn remove(&self, id: String) -> R<RemovedIdentity> {
        let gone = self.run(move |a| a.remove(&id)).await?;
        let (unregistered, unregister_error) = match gone.unregistered {
            None => (None, None),
            Some(Ok(())) => (Some(true), None),
            Some(Err(e)) => (Some(false), Some(shown(&e.to_string()))),
        };
        Ok(RemovedIdentity { id: gone.id, name: shown(&gone.name), unregistered, unregister_error, left_at_server: gone.left_at_server.as_deref().map(shown) })
    }
}
