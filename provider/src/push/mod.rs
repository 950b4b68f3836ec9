//! Wake-ups: how a phone learns that a transaction waits, without polling. A wake-up carries no
//! transaction data, only the transaction id and the serial: a nudge to fetch with the vault's keys.
//!
//! An app's push token says where its wake-ups go, by its form:
//! - a W3C PushSubscription (JSON): Web Push, RFC 8030/8291/8292 ([`webpush`]) — browsers and
//!   UnifiedPush distributors (Android without Google services);
//! - `apns:<hex device token>`: Apple's APNs over HTTP/2 with a token-based key ([`apns`]);
//! - `fcm:<registration token>`: Firebase Cloud Messaging's HTTP v1 API ([`fcm`]).
//!
//! One attempt per transaction; the outcome is recorded and reported, never retried. A push service
//! saying the token is gone for good clears it, so later transactions do not try it again.

pub mod apns;
pub mod fcm;
mod jwt;
pub mod webpush;

use crate::database::params;
use crate::{Provider, Result};

/// The wake-up senders the operator configured; a token for a service without one is recorded as
/// such and the app sees the transaction at its next fetch.
#[derive(Debug, Default)]
pub struct Senders {
    /// Web Push (the provider's VAPID key).
    pub web_push: Option<webpush::WebPush>,
    /// APNs (the team's `.p8` key, key id, team id and the app's bundle id).
    pub apns: Option<apns::Apns>,
    /// FCM (a service account of the app's Firebase project).
    pub fcm: Option<fcm::Fcm>,
}

/// What happened to a transaction's wake-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WakeUp {
    /// The app registered no push token: it sees the request when it next fetches.
    NoToken,
    /// The token is for a service this provider has no credentials for.
    NotConfigured(&'static str),
    /// The token is none of the forms above.
    Unrecognised,
    /// The push service accepted the wake-up with this status.
    Sent {
        /// Web Push, APNs or FCM.
        service: &'static str,
        /// The HTTP status.
        status: u16,
    },
    /// Not delivered, and why (the push service's status and reason, or the connection's error).
    Failed {
        /// Web Push, APNs or FCM.
        service: &'static str,
        /// What went wrong.
        why: String,
    },
}

impl WakeUp {
    /// Says what happened, for the portal's users: whether a wake-up went out, never what a push
    /// service (or whatever an endpoint named) answered, so the portal is no probe of networks.
    pub fn describe_for_user(&self) -> String {
        match self {
            WakeUp::Sent { .. } => "a wake-up was sent to the app".into(),
            _ => "no wake-up could be sent: the app sees the request when it next fetches".into(),
        }
    }

    /// One line for the operator (the CLI): what the push service answered.
    pub fn describe(&self) -> String {
        match self {
            WakeUp::NoToken => "the app registered no push token: it sees the request when it next fetches".into(),
            WakeUp::NotConfigured(service) => {
                format!("the app's push token is for {service}, which this provider has no credentials for: the app sees the request when it next fetches")
            }
            WakeUp::Unrecognised => {
                "the app's push token is no Web Push subscription, apns: or fcm: token: the app sees the request when it next fetches".into()
            }
            WakeUp::Sent { service, status } => format!("wake-up sent by {service} (the push service answered {status})"),
            WakeUp::Failed { service, why } => format!("the {service} wake-up failed: {why}; the app sees the request when it next fetches"),
        }
    }

    /// The word recorded and printed in `--json` output.
    pub fn outcome(&self) -> String {
        match self {
            WakeUp::NoToken => "no_token".into(),
            WakeUp::NotConfigured(service) => format!("not_configured: {}", service.to_ascii_lowercase().replace(' ', "_")),
            WakeUp::Unrecognised => "unrecognised".into(),
            WakeUp::Sent { status, .. } => format!("sent {status}"),
            WakeUp::Failed { why, .. } => format!("failed: {why}"),
        }
    }
}

/// Where one wake-up goes, read from a push token.
enum Route<'a> {
    WebPush(webpush::Subscription),
    Apns(&'a str),
    Fcm(&'a str),
}

fn route(token: &str) -> Option<std::result::Result<(Route<'_>, &'static str, String), (&'static str, String)>> {
    if let Some(sub) = webpush::Subscription::from_push_token(token) {
        return Some(match sub {
            Ok(sub) => {
                let host = webpush::host_of(&sub.endpoint).to_string();
                Ok((Route::WebPush(sub), "Web Push", host))
            }
            Err(e) => Err(("Web Push", e.to_string())),
        });
    }
    if let Some(device) = apns::Apns::device_token(token) {
        return Some(device.map(|d| (Route::Apns(d), "APNs", "apns".to_string())).map_err(|e| ("APNs", e.to_string())));
    }
    if let Some(registration) = fcm::Fcm::registration_token(token) {
        return Some(registration.map(|r| (Route::Fcm(r), "FCM", "fcm".to_string())).map_err(|e| ("FCM", e.to_string())));
    }
    None
}

/// What APNs or FCM answered one wake-up.
pub(crate) struct Answer {
    /// The HTTP status.
    pub status: u16,
    /// The service's error word (`Unregistered`, `UNREGISTERED`, …), if any.
    pub reason: Option<String>,
    /// Whether the answer says the token will never work again.
    pub token_gone: bool,
}

/// The outcome of an APNs or FCM delivery (`None`: no credentials for the service), and whether
/// the token is gone.
fn answered(service: &'static str, sent: Option<std::result::Result<Answer, String>>) -> (WakeUp, bool) {
    match sent {
        None => (WakeUp::NotConfigured(service), false),
        Some(Ok(a)) if a.status == 200 => (WakeUp::Sent { service, status: 200 }, false),
        Some(Ok(a)) => (WakeUp::Failed { service, why: format!("{service} answered {} {}", a.status, a.reason.as_deref().unwrap_or("")) }, a.token_gone),
        Some(Err(why)) => (WakeUp::Failed { service, why }, false),
    }
}

impl Provider {
    /// Sends the wake-up of a transaction just pushed to `serial`'s push token through the service
    /// the token names; records and returns the outcome. A push service saying the token is gone
    /// (Web Push 404/410, APNs 410 or `BadDeviceToken`, FCM `UNREGISTERED`) also clears the token.
    pub fn wake(&self, senders: &Senders, serial: &str, transaction_id: &str, push_token: Option<&str>, now: u64) -> Result<WakeUp> {
        let Some(token) = push_token else { return Ok(WakeUp::NoToken) };
        let (outcome, host, gone) = match route(token) {
            None => (WakeUp::Unrecognised, String::new(), false),
            Some(Err((service, why))) => (WakeUp::Failed { service, why }, String::new(), false),
            Some(Ok((route, service, host))) => {
                let failed = |why: String| WakeUp::Failed { service, why };
                let (outcome, gone) = match route {
                    Route::WebPush(sub) => match &senders.web_push {
                        None => (WakeUp::NotConfigured(service), false),
                        Some(web_push) => match webpush::send(web_push, &sub, transaction_id, serial, &self.rng, now) {
                            Ok(status @ 200..=299) => (WakeUp::Sent { service, status }, false),
                            Ok(status) => (failed(format!("the push service at {host} answered {status}")), status == 404 || status == 410),
                            Err(e) => (failed(e), false),
                        },
                    },
                    Route::Apns(device) => answered(service, senders.apns.as_ref().map(|a| a.send(device, transaction_id, serial, now))),
                    Route::Fcm(registration) => answered(service, senders.fcm.as_ref().map(|f| f.send(registration, transaction_id, serial, now))),
                };
                (outcome, host, gone)
            }
        };
        if gone {
            self.db.execute("UPDATE tokens SET push_token = NULL WHERE serial = ?1 AND push_token = ?2", params![serial, token])?;
        }
        self.db.execute(
            "INSERT INTO wake_ups (transaction_id, serial, endpoint_host, outcome, at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![transaction_id, serial, host, outcome.outcome(), now as i64],
        )?;
        Ok(outcome)
    }
}
