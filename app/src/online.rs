//! The online side through the façade: the transport, activation by link, pending transactions,
//! answers, push tokens and removing (unregistering) identities. The flows are `softtoken_net`'s;
//! they reach the vault in short steps through the authenticator (the idle lock and activity
//! apply), never holding a lock while a provider answers.

use crate::{guard, Activity, Authenticator};
use softtoken_core::transaction::Response;
use softtoken_core::vault::Vault;
use softtoken_net::{Result, TransactionTransport, VaultAccess};
use std::sync::Arc;

pub use softtoken_net::{Activated, Answered, Fetched, PendingTransaction, PushEnrolled, Removed};

/// The push token's registration at one identity's provider.
#[derive(Debug)]
pub struct PushRegistration {
    /// The identity's name.
    pub identity_name: String,
    /// Whether the provider took it, or why not.
    pub result: Result<()>,
}

/// What registering a push token did.
#[derive(Debug)]
pub struct PushTokenReport {
    /// One entry per online identity that did not have the token yet.
    pub registrations: Vec<PushRegistration>,
    /// The vault was locked: the token is kept and registered after the next unlock
    /// ([`Authenticator::register_kept_push_token`]).
    pub kept_until_unlock: bool,
}

impl VaultAccess for Authenticator {
    fn with_vault(&self, activity: Activity, step: &mut dyn FnMut(&mut Vault) -> softtoken_core::Result<()>) -> softtoken_core::Result<()> {
        self.with(activity, step)
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

    /// Answers the transaction `transaction_id` of `identity` (a name or id; `None` asks every
    /// online identity and refuses an id that more than one lists); `picked` is what the
    /// website shows (a softtoken provider's two-digit number, a privacyIDEA presence value), for
    /// Confirm only. Returns the new state (approved, cancelled or denied) and, for a privacyIDEA
    /// code-to-phone request, the code to type into the login page.
    pub fn respond(&self, identity: Option<&str>, transaction_id: &str, response: Response, picked: Option<&str>) -> Result<Answered> {
        softtoken_net::respond(self, self.transport().as_ref(), self.clock.as_ref(), identity, transaction_id, response, picked)
    }

    /// Enrolls a privacyIDEA or eduMFA push token from its link (`otpauth://pipush/…`,
    /// `pia://pipush/…`, `edumfa-push://edumfa/…`): the phone key is made here, the server's key
    /// kept, one poll proves both, then the identity is stored. `allow_unverified_tls` accepts a
    /// link's `sslverify=0` for a server off this machine (refused otherwise).
    pub fn enroll_push(&self, link: &str, name: Option<&str>, allow_unverified_tls: bool) -> Result<PushEnrolled> {
        softtoken_net::privacyidea::enroll(self, self.transport().as_ref(), self.clock.as_ref(), link, name, allow_unverified_tls)
    }

    /// Registers a new push token with the provider of every online identity that lacks it. A
    /// token that arrives while the vault is locked (the platform hands out new tokens whenever it
    /// likes) is kept and registered by [`register_kept_push_token`](Self::register_kept_push_token)
    /// after the next unlock; only the newest kept token counts.
    pub fn register_push_token(&self, token: &str) -> Result<PushTokenReport> {
        softtoken_core::transaction::check_push_token(token)?;
        if !self.is_unlocked() {
            guard(&self.state).kept_push_token = Some(token.to_string());
            return Ok(PushTokenReport { registrations: Vec::new(), kept_until_unlock: true });
        }
        let report = softtoken_net::register_push_token(self, self.transport().as_ref(), self.clock.as_ref(), token)?;
        Ok(PushTokenReport {
            registrations: report.into_iter().map(|(identity_name, result)| PushRegistration { identity_name, result }).collect(),
            kept_until_unlock: false,
        })
    }

    /// Puts an unlocked vault in use ([`Authenticator::install`]) and, when a push token arrived
    /// while it was locked, registers that token on a thread of its own: the unlock returns
    /// without waiting for the network. What the phone shells call after an unlock.
    pub fn install_and_register_kept(self: &Arc<Self>, unlocked: crate::Unlocked) -> Result<()> {
        self.install(unlocked)?;
        if guard(&self.state).kept_push_token.is_some() {
            let me = Arc::clone(self);
            std::thread::spawn(move || me.register_kept_push_token().ok());
        }
        Ok(())
    }

    /// Whether a push token that arrived while the vault was locked still waits to be registered.
    pub fn has_kept_push_token(&self) -> bool {
        guard(&self.state).kept_push_token.is_some()
    }

    /// Registers the push token kept while the vault was locked, if any (call it after an unlock).
    /// A token no provider could take yet is kept for the next time.
    pub fn register_kept_push_token(&self) -> Result<Option<PushTokenReport>> {
        let Some(token) = guard(&self.state).kept_push_token.take() else { return Ok(None) };
        let report = self.register_push_token(&token);
        let failed = match &report {
            Ok(r) => r.kept_until_unlock || r.registrations.iter().any(|p| p.result.is_err()),
            Err(_) => true,
        };
        if failed {
            guard(&self.state).kept_push_token.get_or_insert(token);
        }
        report.map(Some)
    }

    /// Removes an identity; one activated online is unregistered at its provider first (removed
    /// here even when the provider cannot be reached: see [`Removed::unregistered`]).
    pub fn remove(&self, name_or_id: &str) -> Result<Removed> {
        softtoken_net::remove_identity(self, self.transport().as_ref(), self.clock.as_ref(), name_or_id)
    }
}
