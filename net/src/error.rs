//! The online side's error: what a provider or the way to it did, joined with the core's error for
//! the vault steps of a flow.

use softtoken_core::protocol::Refusal;

/// Result with the online [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything an online flow can report. Not `non_exhaustive`: the façade classifies every case
/// (`softtoken_app::ErrorKind`) without a catch-all, so a new case cannot go unclassified.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum Error {
    /// A vault or protocol rule of the core (locked vault, unknown identity, a bad MAC input, …).
    #[error(transparent)]
    Core(#[from] softtoken_core::Error),
    /// No HTTP answer arrived (no network, TLS failure, timeout, no transport set).
    #[error("provider unreachable: {0}")]
    Unreachable(String),
    /// The provider answered something that is not the protocol.
    #[error("the provider's reply is not the protocol's: {0}")]
    NotProtocol(String),
    /// The provider refused the request with one of the protocol's error words.
    #[error("the provider refused: {message} ({refusal})")]
    Refused {
        /// `not_found`, `expired`, `wrong_number`, `stale`, … (`docs/protocol.md` §5).
        refusal: Refusal,
        /// The provider's explanation (outside text: neutralise before showing it).
        message: String,
    },
    /// A provider's clock differs from this device's by more than an unauthenticated
    /// `server_time` may move it: the offset is not applied.
    #[error("the provider's clock is {offset_s} s away from this device's (more than {limit_s} s)")]
    ProviderClockOff {
        /// Provider time minus device time.
        offset_s: i64,
        /// The largest offset applied.
        limit_s: i64,
    },
    /// An online operation on an identity that was not activated online.
    #[error("{0:?} was not activated online: it has no provider to ask")]
    NotOnline(String),
    /// A transaction that is not pending at any provider that could be asked, while another
    /// provider could not be asked.
    #[error("transaction {id} not found; the provider of {identity:?} could not be asked: {cause}")]
    NotFoundWhileUnreachable {
        /// The transaction id looked for.
        id: String,
        /// The identity whose provider failed.
        identity: String,
        /// Why it failed.
        cause: Box<Error>,
    },
    /// A transaction id pending at more than one identity, answered without naming the identity:
    /// ids are chosen by each provider, so the app never guesses which one was meant.
    #[error("transaction {id} is pending at more than one identity ({}): name the identity", identities.join(", "))]
    AmbiguousTransaction {
        /// The transaction id.
        id: String,
        /// The identities (names) that list it.
        identities: Vec<String>,
    },
    /// An online activation whose completion failed and whose identity could not be removed.
    #[error("{error}; and the half-activated identity {name:?} could not be removed: {undo}")]
    HalfActivated {
        /// Why the completion failed.
        error: Box<Error>,
        /// Why removing it failed.
        undo: Box<Error>,
        /// The identity left behind.
        name: String,
    },
}

impl Error {
    /// The provider's refusal word, when the provider refused.
    pub fn refusal(&self) -> Option<Refusal> {
        match self {
            Error::Refused { refusal, .. } => Some(*refusal),
            _ => None,
        }
    }
}
