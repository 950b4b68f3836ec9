//! The messages of softtoken's open protocol (`docs/protocol.md` §5), typed once for both ends:
//! the app's client (`softtoken-net`) and the provider's server (`softtoken-provider::api`). Serde
//! structs for every request and reply body, the refusal words and the transaction states.

use serde::{Deserialize, Serialize};

/// A transaction's state at the provider. (Read through its word: a derived enum deserializer
/// would cost the phone library more than a `match`.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", try_from = "String")]
pub enum TransactionState {
    /// Waiting for an answer.
    Pending,
    /// Confirmed (or a correct offline code): the sign-in proceeds.
    Approved,
    /// Cancelled by the user: nothing is logged.
    Cancelled,
    /// Suspicious, a wrong number, or too many wrong codes: denied and logged.
    Denied,
    /// Not answered in time.
    Expired,
}

impl TransactionState {
    /// The protocol's word for it.
    pub fn as_str(self) -> &'static str {
        match self {
            TransactionState::Pending => "pending",
            TransactionState::Approved => "approved",
            TransactionState::Cancelled => "cancelled",
            TransactionState::Denied => "denied",
            TransactionState::Expired => "expired",
        }
    }

    /// Reads a protocol word.
    pub fn parse(word: &str) -> Option<Self> {
        Some(match word {
            "pending" => TransactionState::Pending,
            "approved" => TransactionState::Approved,
            "cancelled" => TransactionState::Cancelled,
            "denied" => TransactionState::Denied,
            "expired" => TransactionState::Expired,
            _ => return None,
        })
    }
}

impl TryFrom<String> for TransactionState {
    type Error = &'static str;
    fn try_from(word: String) -> Result<Self, &'static str> {
        TransactionState::parse(&word).ok_or("an unknown transaction state")
    }
}

impl std::fmt::Display for TransactionState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a provider refused a request: the `error` word of a refusal. An unknown word reads as
/// [`Refusal::Unknown`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", from = "String")]
pub enum Refusal {
    /// 400: the request is malformed.
    BadRequest,
    /// 401: the MAC does not authenticate the request (or the serial is unknown: never told apart).
    BadMac,
    /// 401: the request's time is too far from the provider's.
    Stale,
    /// 403: the number typed is not the one the website shows.
    WrongNumber,
    /// 404: no such transaction, activation token or endpoint.
    NotFound,
    /// 405: the endpoint exists but not with this method.
    MethodNotAllowed,
    /// 409: the transaction was answered already (the first answer is final).
    AlreadyAnswered,
    /// 409: the activation was completed already.
    AlreadyCompleted,
    /// 410: the transaction or activation expired.
    Expired,
    /// 410: the app removed this identity.
    Unregistered,
    /// 413: the request body is larger than the provider reads.
    TooLarge,
    /// 429: too many transactions are waiting for this identity.
    TooManyPending,
    /// 429: too many requests from this address or for this identity; retry after a while.
    RateLimited,
    /// 500: the provider failed.
    Internal,
    /// A word this version of the protocol does not know.
    Unknown,
}

impl From<String> for Refusal {
    fn from(word: String) -> Self {
        Refusal::KNOWN.into_iter().find(|r| r.as_str() == word).unwrap_or(Refusal::Unknown)
    }
}

impl Refusal {
    /// Every word of this version of the protocol (all but [`Refusal::Unknown`]).
    pub const KNOWN: [Refusal; 14] = [
        Refusal::BadRequest,
        Refusal::BadMac,
        Refusal::Stale,
        Refusal::WrongNumber,
        Refusal::NotFound,
        Refusal::MethodNotAllowed,
        Refusal::AlreadyAnswered,
        Refusal::AlreadyCompleted,
        Refusal::Expired,
        Refusal::Unregistered,
        Refusal::TooLarge,
        Refusal::TooManyPending,
        Refusal::RateLimited,
        Refusal::Internal,
    ];

    /// The protocol's word for it.
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::BadRequest => "bad_request",
            Refusal::BadMac => "bad_mac",
            Refusal::Stale => "stale",
            Refusal::WrongNumber => "wrong_number",
            Refusal::NotFound => "not_found",
            Refusal::MethodNotAllowed => "method_not_allowed",
            Refusal::AlreadyAnswered => "already_answered",
            Refusal::AlreadyCompleted => "already_completed",
            Refusal::Expired => "expired",
            Refusal::Unregistered => "unregistered",
            Refusal::TooLarge => "too_large",
            Refusal::TooManyPending => "too_many_pending",
            Refusal::RateLimited => "rate_limited",
            Refusal::Internal => "internal",
            Refusal::Unknown => "unknown",
        }
    }

    /// The HTTP status a provider answers it with.
    pub fn status(self) -> u16 {
        match self {
            Refusal::BadRequest | Refusal::Unknown => 400,
            Refusal::BadMac | Refusal::Stale => 401,
            Refusal::WrongNumber => 403,
            Refusal::NotFound => 404,
            Refusal::MethodNotAllowed => 405,
            Refusal::AlreadyAnswered | Refusal::AlreadyCompleted => 409,
            Refusal::Expired | Refusal::Unregistered => 410,
            Refusal::TooLarge => 413,
            Refusal::TooManyPending | Refusal::RateLimited => 429,
            Refusal::Internal => 500,
        }
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A refusal's body: `{"error", "message"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefusalReply {
    /// The word.
    pub error: Refusal,
    /// The provider's explanation (outside text: show it neutralised).
    #[serde(default)]
    pub message: String,
}

/// `GET /v1/activation/{token}` → the numbers a manual activation would type.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivationReply {
    /// Serial number, dashed.
    pub serial: String,
    /// Activation code (secret: redacted in Debug).
    pub activation_code: String,
    /// The policy string, verbatim.
    #[serde(default)]
    pub policy: Option<String>,
    /// Code length.
    #[serde(default)]
    pub digits: Option<u8>,
}

impl std::fmt::Debug for ActivationReply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ActivationReply")
            .field("serial", &self.serial)
            .field("activation_code", &"[redacted]")
            .field("policy", &self.policy)
            .field("digits", &self.digits)
            .finish()
    }
}

/// `POST /v1/activation/{token}`: the app sends the registration code (and push token).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompleteActivation {
    /// The registration code, dashed.
    pub registration_code: String,
    /// Where wake-ups go, if the app has a push token.
    #[serde(default)]
    pub push_token: Option<String>,
}

/// The reply to [`CompleteActivation`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Completed {
    /// The serial activated.
    pub serial: String,
    /// Always true in a success reply.
    pub completed: bool,
}

/// A transaction as the provider lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransactionBody {
    /// 32 lowercase hex digits.
    pub id: String,
    /// What the user is asked to approve.
    pub summary: String,
    /// Key/value details, in order.
    pub details: Vec<(String, String)>,
    /// Unix seconds, provider clock.
    pub created_at: u64,
    /// Unix seconds, provider clock.
    pub expires_at: u64,
    /// Whether the user must type the number the website shows.
    #[serde(default)]
    pub number_match: bool,
}

impl TransactionBody {
    /// The body a provider lists for `tx` (the serial is the path's, not the body's).
    pub fn of(tx: &crate::transaction::Transaction) -> Self {
        TransactionBody {
            id: tx.id.clone(),
            summary: tx.summary.clone(),
            details: tx.details.clone(),
            created_at: tx.created_at,
            expires_at: tx.expires_at,
            number_match: tx.number_match,
        }
    }

    /// The transaction this body describes, listed for the identity `serial` (not yet validated).
    pub fn into_transaction(self, serial: &str) -> crate::transaction::Transaction {
        crate::transaction::Transaction {
            id: self.id,
            serial: serial.to_string(),
            summary: self.summary,
            details: self.details,
            created_at: self.created_at,
            expires_at: self.expires_at,
            number_match: self.number_match,
        }
    }
}

/// `GET /v1/identities/{serial}/transactions` → the pending list. Items stay raw so that one
/// malformed item is reported on its own instead of failing the list.
#[derive(Debug, Serialize, Deserialize)]
pub struct PendingReply {
    /// The pending transactions, oldest first, each as its JSON text (parsed one by one).
    pub transactions: Vec<Box<serde_json::value::RawValue>>,
}

/// `POST /v1/transactions/{id}/answer`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnswerRequest {
    /// `confirm`, `cancel` or `suspicious`.
    pub response: String,
    /// Unix seconds (corrected by the provider's offset).
    pub answered_at: u64,
    /// The number typed (Confirm of a number-matching transaction), else 0.
    #[serde(default)]
    pub number: u8,
    /// base64url answer MAC.
    pub mac: String,
}

/// The reply to an answer, and to `GET /v1/transactions/{id}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateReply {
    /// The transaction's state now.
    pub state: TransactionState,
}

/// The reply to `DELETE /v1/identities/{serial}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnregisterReply {
    /// Always true in a success reply.
    pub unregistered: bool,
    /// Pending transactions cancelled.
    pub cancelled: usize,
}

/// `POST /v1/identities/{serial}/push-token`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushTokenRequest {
    /// The new token.
    pub push_token: String,
    /// The request time.
    pub at: u64,
    /// base64url request MAC.
    pub mac: String,
}

/// The reply to [`PushTokenRequest`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushTokenReply {
    /// Always true in a success reply.
    pub registered: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_round_trip_and_unknown_words_are_kept_apart() {
        for r in Refusal::KNOWN {
            let json = serde_json::to_string(&r).unwrap();
            assert_eq!(json, format!("\"{}\"", r.as_str()));
            assert_eq!(serde_json::from_str::<Refusal>(&json).unwrap(), r);
        }
        assert_eq!(serde_json::from_str::<Refusal>("\"payment_required\"").unwrap(), Refusal::Unknown);
        for s in [TransactionState::Pending, TransactionState::Approved, TransactionState::Cancelled, TransactionState::Denied, TransactionState::Expired] {
            assert_eq!(TransactionState::parse(s.as_str()), Some(s));
            assert_eq!(serde_json::to_string(&s).unwrap(), format!("\"{s}\""));
        }
        assert!(format!("{:?}", ActivationReply { serial: "s".into(), activation_code: "1745".into(), policy: None, digits: None }).contains("[redacted]"));
    }
}
