//! softtoken's reference provider: the company's side of softtoken.
//!
//! It issues Entrust-style soft tokens ([`tokens`]): a serial number, an activation code and a QR
//! password, then the seed derived from the registration code the user types back, and verifies
//! codes. The apps speak to it over the protocol of `docs/protocol.md` ([`protocol`]: online
//! activation by link, transactions answered Confirm / Cancel / Suspicious). People use its
//! [`portal`]; wake-ups go out by [`push`]; the [`server`] carries both over HTTP(S).
//!
//! The rooms, each using only the ones listed after it (see `docs/architecture.md`):
//!
//! | module | concern |
//! |---|---|
//! | [`server`] | HTTP(S), TLS, connection limits and timeouts, rate limits, routing to the two below |
//! | [`portal`] | pages, accounts and sessions, authenticators, mail |
//! | [`directory`] | users from the company's LDAP directory |
//! | [`protocol`] | what the apps speak: online activation, transactions, push tokens |
//! | [`validate`] | privacyIDEA's validate API for login plugins: checks, challenges, API tokens, audit log |
//! | [`push`] | wake-ups (Web Push) |
//! | [`tokens`] | issuing, completing and verifying Entrust-style tokens; standard TOTP/HOTP tokens |
//! | [`Provider`] | the state database, the sealing key and the random generator, opened together |
//! | [`sealed`] | secrets at rest: sealed seeds and activation codes, hashed bearer tokens, key rotation |
//! | [`database`] | SQLite or PostgreSQL behind one API, all schema, busy retries |
//! | [`ProviderError`] | one error, and whose fault it is ([`Fault`]) |
//!
//! Features: `server` (the HTTP server and the portal's pages, mail and Web Push), `postgres`,
//! `cli` (the `softtoken-provider` binary's argument parsing and password prompt). Without them
//! the library issues, completes, verifies and answers the protocol in process, as the CLI's demo
//! does.

pub mod database;
#[cfg(feature = "server")]
pub mod directory;
mod error;
mod files;
#[cfg(feature = "server")]
mod limits;
#[cfg(feature = "server")]
pub mod portal;
pub mod protocol;
mod provider;
#[cfg(feature = "server")]
pub mod push;
mod random;
pub mod sealed;
#[cfg(feature = "server")]
pub mod server;
pub mod tokens;
#[cfg(feature = "server")]
pub mod validate;

pub use database::Database;
pub use error::{Fault, ProviderError, Result};
pub use provider::Provider;
pub use tokens::{IssueOptions, Issued, Verification, DEFAULT_LIFETIME_S, DEFAULT_POLICY, DEFAULT_REGISTRATION_URL};

#[cfg(test)]
pub(crate) use provider::test_provider;
