//! privacyIDEA's reply shapes: `{"id", "jsonrpc", "result": {"status", "value",
//! "authentication"}, "detail", "time", "version"}`, and its error shape `{"result": {"status":
//! false, "error": {"code", "message"}}}` with its error codes and `ERRnnn:` message prefix.

use super::ValidateReply;
use serde_json::{json, Value};

/// privacyIDEA's error codes used here (`privacyidea/lib/error.py`).
pub(crate) mod code {
    /// A validation error (also: too many requests).
    pub const VALIDATE: i64 = 401;
    /// Wrong credentials (an unknown API token).
    pub const AUTHENTICATE_WRONG_CREDENTIALS: i64 = 4031;
    /// No Authorization header.
    pub const AUTHENTICATE_AUTH_HEADER: i64 = 4033;
    /// No such token.
    pub const RESOURCE_NOT_FOUND: i64 = 601;
    /// The server failed.
    pub const SERVER: i64 = 903;
    /// No such user.
    pub const USER: i64 = 904;
    /// A missing or malformed parameter.
    pub const PARAMETER: i64 = 905;
}

/// An error as privacyIDEA reports it: HTTP status, code and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PiError {
    pub status: u16,
    pub code: i64,
    pub message: String,
}

impl PiError {
    fn new(status: u16, code: i64, message: String) -> Self {
        PiError { status, code, message }
    }

    /// A missing or malformed parameter (400, ERR905).
    pub fn parameter(what: impl std::fmt::Display) -> Self {
        Self::new(400, code::PARAMETER, format!("ERR905: {what}"))
    }

    /// A parameter the request needs.
    pub fn missing(name: &str) -> Self {
        Self::parameter(format!("Missing parameter: {name}"))
    }

    /// Neither a user nor a serial was named.
    pub fn no_user_or_serial() -> Self {
        Self::parameter("You need to specify a serial, user or credential_id.")
    }

    /// No such user in the realm (400, ERR904).
    pub fn unknown_user(user: &str, realm: &str) -> Self {
        Self::new(400, code::USER, format!("ERR904: User <{}@{}> does not exist.", softtoken_core::text::escape(user), softtoken_core::text::escape(realm)))
    }

    /// No token has the serial (404, 601: privacyIDEA's message has no ERR prefix here).
    pub fn unknown_serial() -> Self {
        Self::new(404, code::RESOURCE_NOT_FOUND, "The requested token could not be found.".into())
    }

    /// No such endpoint (404).
    pub fn not_found(message: &str) -> Self {
        Self::new(404, code::RESOURCE_NOT_FOUND, message.into())
    }

    /// The endpoint answers other methods (405).
    pub fn method_not_allowed() -> Self {
        Self::new(405, code::PARAMETER, "ERR905: this endpoint does not answer that method".into())
    }

    /// No `Authorization` header (401, ERR4033).
    pub fn no_authorization() -> Self {
        Self::new(401, code::AUTHENTICATE_AUTH_HEADER, "Authentication failure. Missing Authorization header.".into())
    }

    /// An `Authorization` header that is no API token of this provider (401, ERR4031).
    pub fn wrong_authorization() -> Self {
        Self::new(401, code::AUTHENTICATE_WRONG_CREDENTIALS, "Authentication failure. Wrong credentials.".into())
    }

    /// A request the state refuses (400, ERR401).
    pub fn validate(message: String) -> Self {
        Self::new(400, code::VALIDATE, format!("ERR401: {message}"))
    }

    /// Over a rate limit (429, ERR401).
    pub fn rate_limited() -> Self {
        Self::new(429, code::VALIDATE, "ERR401: too many requests from this address or for this user: wait a minute and try again".into())
    }

    /// The server's own fault (500, ERR903); the details go to the operator's log.
    pub fn server() -> Self {
        Self::new(500, code::SERVER, "ERR903: the server failed to answer; try again".into())
    }
}

/// The reply for an error.
pub(crate) fn error_reply(e: &PiError) -> ValidateReply {
    ValidateReply {
        status: e.status,
        body: Some(json!({
            "id": 1,
            "jsonrpc": "2.0",
            "result": {"status": false, "error": {"code": e.code, "message": e.message}},
            "detail": Value::Null,
            "version": version(),
        })),
        allow: None,
    }
}

/// The `version` field: this provider's, in privacyIDEA's place.
pub(crate) fn version() -> String {
    format!("softtoken-provider {}", env!("CARGO_PKG_VERSION"))
}

/// A decision's reply body.
pub(crate) fn decision_body(value: Value, authentication: &str, detail: Value, now: u64) -> Value {
    json!({
        "id": 1,
        "jsonrpc": "2.0",
        "result": {"status": true, "value": value, "authentication": authentication},
        "detail": detail,
        "time": now,
        "version": version(),
    })
}
