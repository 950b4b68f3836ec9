//! The provider's one error type, and whose fault each error is ([`Fault`]): the HTTP status, the
//! protocol's refusal word and what a person is shown all follow from it.

use softtoken_core::Error as CoreError;

/// What went wrong on the issuing side.
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    /// Bad input, named by field (check digits, lengths…).
    #[error(transparent)]
    Core(#[from] CoreError),
    /// No token has that serial number.
    #[error("unknown serial number {0}")]
    UnknownSerial(String),
    /// The activation's lifetime is over.
    #[error("activation expired")]
    Expired,
    /// The token was already completed.
    #[error("activation of {0} was already completed")]
    AlreadyCompleted(String),
    /// The token has not been completed yet (no registration code received).
    #[error("activation of {0} is not completed yet (run complete with the registration code)")]
    NotCompleted(String),
    /// Input that makes no sense: an option, a form field or a request body (the caller's fault).
    #[error("{0}")]
    Invalid(String),
    /// A request the provider's state or policy refuses, with the reason for the person (a limit
    /// reached, an authenticator in the wrong state, a name taken).
    #[error("{0}")]
    Refused(String),
    /// No transaction has that id.
    #[error("unknown transaction {0}")]
    UnknownTransaction(String),
    /// The transaction was answered before (the first answer is final).
    #[error("transaction {0} was already answered")]
    AlreadyAnswered(String),
    /// The transaction's lifetime is over.
    #[error("transaction {0} expired")]
    TransactionExpired(String),
    /// An identity request came without its MAC (the Authorization header).
    #[error("the request MAC is required in the Authorization header (Softtoken-MAC at=T, mac=M); a MAC in the URL is not read")]
    MacMissing,
    /// The answer's MAC or the confirmation code is wrong.
    #[error("the answer is not authentic (wrong MAC or confirmation code)")]
    NotAuthentic,
    /// An offline confirmation code for a transaction that was sent to the app online.
    #[error("transaction {0} was sent to the app online: it is answered in the app, not by a confirmation code")]
    NotOffline(String),
    /// The answer's time is too far from the provider's clock.
    #[error("the answer's time is more than {0} s from the provider's clock")]
    Stale(u64),
    /// The number typed does not match the one the website showed.
    #[error("wrong number: the transaction is denied")]
    WrongNumber,
    /// The app removed this identity: it gets no more transactions.
    #[error("identity {0} was removed by its app (unregistered)")]
    Unregistered(String),
    /// No activation has that link token (never issued, or already used).
    #[error("unknown or already used activation link")]
    UnknownActivation,
    /// Too many transactions are waiting for this identity.
    #[error("{0} transactions are already pending for this identity")]
    TooManyPending(u32),
    /// A sealed secret did not open with the key file's key (changed, moved, or another key).
    #[error("the sealed {what} of {serial} does not open with this key file")]
    SealBroken {
        /// "seed" or "activation_code".
        what: &'static str,
        /// Whose.
        serial: String,
    },
    /// The database's secrets are sealed by another key than the key file's.
    #[error("the state's secrets are sealed by key {database}, but {path} holds key {file}: give --kek-file the key that sealed them")]
    KekMismatch {
        /// The id the database records.
        database: String,
        /// The id of the key file's key.
        file: String,
        /// The key file.
        path: String,
    },
    /// No authenticator of this user has that number.
    #[error("no authenticator {0} of yours")]
    UnknownAuthenticator(i64),
    /// The current password given to change it is wrong.
    #[error("the current password is wrong")]
    WrongPassword,
    /// Only administrators may do this.
    #[error("only administrators may do this")]
    Forbidden,
    /// An e-mail could not be written or sent.
    #[error("e-mail: {0}")]
    Mail(String),
    /// The database failed.
    #[error("provider state: {0}")]
    Db(#[from] crate::database::DbError),
    /// The server's own fault: the random generator, sealing, a reply or page that did not
    /// serialise, a file of its own it could not write. Answered 500 `internal`, never 400.
    #[error("{0}")]
    Fault(String),
}

/// Whose fault an error is: what decides the HTTP status and the protocol's refusal word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The request or the options given (400 `bad_request`).
    Input,
    /// A well-formed request the provider refuses (its own status and refusal word).
    Refusal,
    /// The server (500 `internal`); the details are logged, never shown.
    Server,
}

impl ProviderError {
    /// Whose fault this is.
    pub fn fault(&self) -> Fault {
        match self {
            ProviderError::Core(_) | ProviderError::Invalid(_) | ProviderError::MacMissing => Fault::Input,
            ProviderError::Db(_) | ProviderError::SealBroken { .. } | ProviderError::KekMismatch { .. } | ProviderError::Mail(_) | ProviderError::Fault(_) => {
                Fault::Server
            }
            ProviderError::UnknownSerial(_)
            | ProviderError::Expired
            | ProviderError::AlreadyCompleted(_)
            | ProviderError::NotCompleted(_)
            | ProviderError::Refused(_)
            | ProviderError::UnknownTransaction(_)
            | ProviderError::AlreadyAnswered(_)
            | ProviderError::TransactionExpired(_)
            | ProviderError::NotAuthentic
            | ProviderError::NotOffline(_)
            | ProviderError::Stale(_)
            | ProviderError::WrongNumber
            | ProviderError::Unregistered(_)
            | ProviderError::UnknownActivation
            | ProviderError::TooManyPending(_)
            | ProviderError::UnknownAuthenticator(_)
            | ProviderError::WrongPassword
            | ProviderError::Forbidden => Fault::Refusal,
        }
    }

    /// The system random generator failed (a server fault).
    pub(crate) fn random() -> Self {
        ProviderError::Fault("the system random generator failed".into())
    }
}

impl From<rusqlite::Error> for ProviderError {
    fn from(e: rusqlite::Error) -> Self {
        ProviderError::Db(e.into())
    }
}

#[cfg(feature = "postgres")]
impl From<postgres::Error> for ProviderError {
    fn from(e: postgres::Error) -> Self {
        ProviderError::Db(e.into())
    }
}

/// Result with [`ProviderError`].
pub type Result<T> = std::result::Result<T, ProviderError>;
