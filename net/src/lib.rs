//! softtoken-net: the app's side of softtoken's open protocol over HTTP (`docs/protocol.md` §5–§7):
//! online activation by link, fetching and answering push transactions, unregistering an identity
//! and recording its push token.
//!
//! The core stays free of I/O: it computes keys, MACs and encodings ([`softtoken_core::transaction`]).
//! This crate builds the requests, reads the answers and keeps the vault up to date (the provider
//! address, the push token and the clock offset of each identity). The bytes travel through a
//! [`TransactionTransport`]: phones hand in their platform HTTP stack (OkHttp, URLSession) through
//! the FFI, and the `http` feature provides [`http::HttpTransport`] (ureq with rustls) for the CLI.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod client;
pub mod error;
pub mod flows;
#[cfg(feature = "http")]
pub mod http;
pub mod privacyidea;
pub mod transport;

pub use error::{Error, Result};
pub use flows::{
    activate_link, fetch_pending, register_push_token, remove_identity, respond, Activated, Activity, Fetched, PendingTransaction, Removed, VaultAccess,
};
pub use privacyidea::{Answered, PushEnrolled};
pub use transport::{HttpRequest, HttpResponse, Method, NoTransport, TransactionTransport};
