//! The online side through the façade: the transport, activation by link, pending transactions,
//! answers, push tokens and removing (unregistering) identities. The flows are `softtoken_net`'s;
//! they reach the vault in short steps through the authenticator (the idle lock and activity
//! apply), never holding a lock while a provider answers.

use crate::{guard, Activity, Authenticator};
use softtoken_core::protocol::TransactionState;
use softtoken_core::transaction::Response;
use softtoken_core::vault::Vault;
use softtoken_net::{Result, TransactionTransport, VaultAccess};
use std::sync::Arc;

pub use softtoken_net::{Activated, Fetched, PendingTransaction, Removed};

/// The push token's registration at one identity's provider.
#[derive(Debug)]
pub struct PushRegistration {
    /// The identity's name.
    pub identity_name: String,
    /// Whether the provider took it, or why not.
    pub result: Result<()>,
}

impl VaultAccess for Authenticator {
    fn with_vault(&self, action: bool, step: &mut dyn FnMut(&mut Vault) -> softtoken_core::Result<()>) -> softtoken_core::Result<()> {
        self.with(if action { Activity::Action } else { Activity::Read }, step)
    }
}

impl Authenticator {
    /// Sets how requests reach providers (the platform's HTTP stack, or the desktop's).
    pub fn set_transport(&self, transport: Arc<dyn TransactionTransport>) {
        *guard(&self.transport) = transport;
    }

    fn transport(&self) -> Arc<dyn TransactionTransport> {
        guard(&self.transport).clone()
    }

    /// Activates from an online activation link (no typing): the identity is stored with its
    /// provider, and the registration code and `push_token` are sent to the provider.
    pub fn activate_link(&self, link: &str, push_token: Option<&str>, name: Option<&str>) -> Result<Activated> {
        softtoken_net::activate_link(self, self.transport().as_ref(), self.clock.as_ref(), link, push_token, name)
    }

    /// The pending transactions of every identity activated online (a read).
    pub fn pending_transactions(&self) -> Result<Fetched> {
        softtoken_net::fetch_pending(self, self.transport().as_ref(), self.clock.as_ref())
    }

    /// Answers a transaction; `number` is the one the website shows, for Confirm only. Returns the
    /// new state: approved, cancelled or denied.
    pub fn respond(&self, transaction_id: &str, response: Response, number: Option<u8>) -> Result<TransactionState> {
        softtoken_net::respond(self, self.transport().as_ref(), self.clock.as_ref(), transaction_id, response, number)
    }

    /// Registers a new push token with the provider of every online identity that lacks it.
    pub fn register_push_token(&self, token: &str) -> Result<Vec<PushRegistration>> {
        let report = softtoken_net::register_push_token(self, self.transport().as_ref(), self.clock.as_ref(), token)?;
        Ok(report.into_iter().map(|(identity_name, result)| PushRegistration { identity_name, result }).collect())
    }

    /// Removes an identity; one activated online is unregistered at its provider first (removed
    /// here even when the provider cannot be reached: see [`Removed::unregistered`]).
    pub fn remove(&self, name_or_id: &str) -> Result<Removed> {
        softtoken_net::remove_identity(self, self.transport().as_ref(), self.clock.as_ref(), name_or_id)
    }
}
