//! A sign-in request as the server lists it when the phone polls, its checks, and the signed
//! answers: Confirm accepts (with the value the login page shows when presence is required),
//! Cancel declines as `cancelled`, Suspicious declines as `unknown_trigger` — the reasons only
//! when the server's signed capabilities say it reads them, else a plain decline.

use super::keys::{PhoneKey, ServerKey};
use crate::error::{Error, Field, Result};
use crate::transaction::Response;
use serde::Deserialize;

/// Most challenges read from one poll.
pub const MAX_CHALLENGES: usize = 50;
/// Longest text field of a challenge read (question, title, URL).
const MAX_FIELD: usize = 2000;
/// Most presence choices, and the longest one.
const MAX_CHOICES: usize = 12;
const MAX_CHOICE_LEN: usize = 16;

/// One challenge as the poll returns it (every field a string, as signed).
#[derive(Debug, Clone, Deserialize)]
pub struct PolledChallenge {
    /// 32 base32 characters chosen by the server.
    pub nonce: String,
    /// The server's current registration URL (signed; the token keeps answering at its own).
    pub url: String,
    /// The token it is for.
    pub serial: String,
    /// The question to show.
    pub question: String,
    /// The title to show.
    pub title: String,
    /// "0" or "1", as signed.
    pub sslverify: String,
    /// The server's signature over the fields above.
    pub signature: String,
    /// "P,Y,J,Q": the user must pick the one the login page shows.
    #[serde(default)]
    pub require_presence: Option<String>,
    /// A JSON object in a string, e.g. `{"decline_reason": true}`.
    #[serde(default)]
    pub capabilities: Option<String>,
    /// The server's signature over the canonical `{"capabilities": …, "nonce": …}`.
    #[serde(default)]
    pub capabilities_signature: Option<String>,
}

/// A challenge whose signature verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// The token's serial.
    pub serial: String,
    /// The server's nonce: the challenge's id.
    pub nonce: String,
    /// The question (raw; shells show it through the display filter).
    pub question: String,
    /// The title (raw).
    pub title: String,
    /// The values to pick from when presence is required (empty otherwise).
    pub choices: Vec<String>,
    /// True when the server's signed capabilities say it reads decline reasons.
    pub decline_reasons: bool,
}

/// A signed answer, ready to be posted to the token's URL.
#[derive(Clone, PartialEq, Eq)]
pub struct Answer {
    /// The form fields (serial, nonce, signature, and decline / reason / presence_answer).
    pub fields: Vec<(&'static str, String)>,
    /// True for Confirm.
    pub accepts: bool,
}

impl std::fmt::Debug for Answer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.fields.iter().map(|(k, _)| *k).collect();
        f.debug_struct("Answer").field("fields", &names).field("accepts", &self.accepts).finish()
    }
}

fn too_long(what: &'static str, s: &str) -> Result<()> {
    if s.len() > MAX_FIELD {
        return Err(Error::TooLarge { what, found: s.len() as u64, limit: MAX_FIELD as u64 });
    }
    Ok(())
}

impl PolledChallenge {
    /// The text the server signed.
    fn signed_text(&self) -> String {
        let mut text = format!("{}|{}|{}|{}|{}|{}", self.nonce, self.url, self.serial, self.question, self.title, self.sslverify);
        if let Some(p) = &self.require_presence {
            text.push('|');
            text.push_str(p);
        }
        text
    }

    /// Checks the challenge for the token `serial` against its server's key: the serial, the
    /// sizes, the signature (a forged or altered challenge is refused), and the capabilities'
    /// own signature.
    pub fn verify(&self, key: &ServerKey, serial: &str) -> Result<Challenge> {
        for (what, s) in [("challenge question (bytes)", &self.question), ("challenge title (bytes)", &self.title), ("challenge URL (bytes)", &self.url)] {
            too_long(what, s)?;
        }
        if self.nonce.is_empty() || self.nonce.len() > 128 || !self.nonce.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(Error::PushProtocol("a challenge's nonce is not 1 to 128 letters and digits".into()));
        }
        if self.serial != serial {
            return Err(Error::PushProtocol(format!("the server listed a challenge for another token ({})", crate::text::neutralise(&self.serial))));
        }
        if !key.verifies(&self.signed_text(), &self.signature) {
            return Err(Error::ForgedChallenge { serial: serial.to_string() });
        }
        let choices: Vec<String> = match &self.require_presence {
            None => Vec::new(),
            Some(list) => {
                let choices: Vec<String> = list.split(',').map(|c| c.trim().to_string()).filter(|c| !c.is_empty()).collect();
                if choices.is_empty()
                    || choices.len() > MAX_CHOICES
                    || choices.iter().any(|c| c.chars().count() > MAX_CHOICE_LEN || c.chars().any(char::is_control))
                {
                    return Err(Error::PushProtocol(format!("the challenge's presence choices are not 1 to {MAX_CHOICES} short values")));
                }
                choices
            }
        };
        Ok(Challenge {
            serial: self.serial.clone(),
            nonce: self.nonce.clone(),
            question: self.question.clone(),
            title: self.title.clone(),
            choices,
            decline_reasons: self.decline_reasons_signed(key),
        })
    }

    /// True only when the capabilities parse, their signature verifies over the canonical
    /// `{"capabilities": …, "nonce": …}`, and they say `decline_reason: true`.
    fn decline_reasons_signed(&self, key: &ServerKey) -> bool {
        let (Some(caps), Some(sig)) = (&self.capabilities, &self.capabilities_signature) else { return false };
        if caps.len() > MAX_FIELD {
            return false;
        }
        let Ok(parsed) = serde_json::from_str::<serde_json::Value>(caps) else { return false };
        let Some(canonical) = super::jcs::canonical(&serde_json::json!({ "capabilities": parsed, "nonce": self.nonce })) else { return false };
        key.verifies(&canonical, sig) && parsed.get("decline_reason") == Some(&serde_json::Value::Bool(true))
    }
}

impl Challenge {
    /// Signs the user's answer with the phone key. `picked` is the value the login page shows,
    /// required for Confirm when the challenge asks for presence (case does not matter).
    pub fn answer(&self, response: Response, picked: Option<&str>, key: &PhoneKey) -> Result<Answer> {
        let base = format!("{}|{}", self.nonce, self.serial);
        let mut fields = vec![("serial", self.serial.clone()), ("nonce", self.nonce.clone())];
        let message = match response {
            Response::Confirm => match (self.choices.is_empty(), picked.map(str::trim)) {
                (true, None) => base,
                (true, Some(_)) => return Err(Error::invalid(Field::Transaction, "this sign-in shows no value to pick: confirm without one")),
                (false, None) => {
                    return Err(Error::invalid(Field::Transaction, format!("pick the value the login page shows: one of {}", self.choices.join(", "))));
                }
                (false, Some(p)) => {
                    let Some(choice) = self.choices.iter().find(|c| c.eq_ignore_ascii_case(p)) else {
                        return Err(Error::invalid(
                            Field::Transaction,
                            format!("{:?} is not one of the values offered ({})", crate::text::neutralise(p), self.choices.join(", ")),
                        ));
                    };
                    fields.push(("presence_answer", choice.clone()));
                    format!("{base}|{choice}")
                }
            },
            Response::Cancel | Response::Suspicious => {
                fields.push(("decline", "1".into()));
                let reason = if response == Response::Cancel { "cancelled" } else { "unknown_trigger" };
                if self.decline_reasons {
                    fields.push(("decline_reason", reason.into()));
                    format!("{base}|decline|{reason}")
                } else {
                    format!("{base}|decline")
                }
            }
        };
        fields.push(("signature", key.sign(&message)?));
        Ok(Answer { fields, accepts: response == Response::Confirm })
    }
}

/// The text a poll signs: `serial|timestamp`.
pub fn poll_message(serial: &str, timestamp: &str) -> String {
    format!("{serial}|{timestamp}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::privacyidea::keys::tests::{as_server_key_text, test_key};

    /// A challenge signed the way the server signs it, with `server` standing in for its key.
    fn signed(server: &PhoneKey, presence: Option<&str>, caps: Option<&str>) -> PolledChallenge {
        let mut c = PolledChallenge {
            nonce: "ET3SETS37HUTTX5LJFQAALTFRI2DSTVJ".into(),
            url: "http://127.0.0.1:55689/ttype/push".into(),
            serial: "PIPU0000A0F8".into(),
            question: "Login from 127.0.0.1 for PIPU0000A0F8?".into(),
            title: "PI Test".into(),
            sslverify: "0".into(),
            signature: String::new(),
            require_presence: presence.map(String::from),
            capabilities: None,
            capabilities_signature: None,
        };
        c.signature = server.sign(&c.signed_text()).unwrap();
        if let Some(caps) = caps {
            let parsed: serde_json::Value = serde_json::from_str(caps).unwrap();
            let canonical = crate::privacyidea::jcs::canonical(&serde_json::json!({"capabilities": parsed, "nonce": c.nonce})).unwrap();
            assert_eq!(canonical, r#"{"capabilities":{"decline_reason":true},"nonce":"ET3SETS37HUTTX5LJFQAALTFRI2DSTVJ"}"#);
            c.capabilities = Some(caps.into());
            c.capabilities_signature = Some(server.sign(&canonical).unwrap());
        }
        c
    }

    fn field<'a>(a: &'a Answer, k: &str) -> Option<&'a str> {
        a.fields.iter().find(|(n, _)| *n == k).map(|(_, v)| v.as_str())
    }

    #[test]
    fn the_signed_text_is_the_observed_one() {
        let c = signed(test_key(), None, None);
        assert_eq!(
            c.signed_text(),
            "ET3SETS37HUTTX5LJFQAALTFRI2DSTVJ|http://127.0.0.1:55689/ttype/push|PIPU0000A0F8|Login from 127.0.0.1 for PIPU0000A0F8?|PI Test|0"
        );
        assert!(signed(test_key(), Some("P,Y,J,Q"), None).signed_text().ends_with("|0|P,Y,J,Q"));
    }

    #[test]
    fn a_tampered_challenge_is_refused_as_forged() {
        let server = ServerKey::parse(&as_server_key_text(test_key())).unwrap();
        let mut c = signed(test_key(), None, None);
        assert!(c.verify(&server, "PIPU0000A0F8").is_ok());
        c.question = "Login from your own office?".into();
        assert_eq!(c.verify(&server, "PIPU0000A0F8").unwrap_err(), Error::ForgedChallenge { serial: "PIPU0000A0F8".into() });
        // Presence choices are signed too: a changed list is a forgery.
        let mut p = signed(test_key(), Some("P,Y,J,Q"), None);
        p.require_presence = Some("A,B,C,D".into());
        assert!(matches!(p.verify(&server, "PIPU0000A0F8"), Err(Error::ForgedChallenge { .. })));
        // Another token's challenge is not this token's.
        assert!(signed(test_key(), None, None).verify(&server, "PIPU0000FFFF").unwrap_err().to_string().contains("another token"));
    }

    #[test]
    fn answers_sign_the_observed_strings() {
        let key = test_key();
        let server = ServerKey::parse(&as_server_key_text(key)).unwrap();
        let plain = signed(key, None, None).verify(&server, "PIPU0000A0F8").unwrap();
        assert!(!plain.decline_reasons);
        let nonce = "ET3SETS37HUTTX5LJFQAALTFRI2DSTVJ|PIPU0000A0F8";
        let a = plain.answer(Response::Confirm, None, key).unwrap();
        assert!(server.verifies(nonce, field(&a, "signature").unwrap()) && a.accepts);
        // No signed capabilities: both declines are plain declines.
        for r in [Response::Cancel, Response::Suspicious] {
            let d = plain.answer(r, None, key).unwrap();
            assert_eq!((field(&d, "decline"), field(&d, "decline_reason")), (Some("1"), None));
            assert!(server.verifies(&format!("{nonce}|decline"), field(&d, "signature").unwrap()));
        }
        let caps = signed(key, None, Some(r#"{"decline_reason": true}"#)).verify(&server, "PIPU0000A0F8").unwrap();
        assert!(caps.decline_reasons);
        let s = caps.answer(Response::Suspicious, None, key).unwrap();
        assert_eq!(field(&s, "decline_reason"), Some("unknown_trigger"));
        assert!(server.verifies(&format!("{nonce}|decline|unknown_trigger"), field(&s, "signature").unwrap()));
        let c = caps.answer(Response::Cancel, None, key).unwrap();
        assert!(server.verifies(&format!("{nonce}|decline|cancelled"), field(&c, "signature").unwrap()));
        assert!(!format!("{c:?}").contains(field(&c, "signature").unwrap()), "Debug shows field names only");
    }

    #[test]
    fn unsigned_or_altered_capabilities_send_no_reason() {
        let key = test_key();
        let server = ServerKey::parse(&as_server_key_text(key)).unwrap();
        let mut c = signed(key, None, Some(r#"{"decline_reason": true}"#));
        c.capabilities_signature = Some(c.signature.clone());
        assert!(!c.verify(&server, "PIPU0000A0F8").unwrap().decline_reasons);
        let mut c = signed(key, None, Some(r#"{"decline_reason": true}"#));
        c.capabilities = Some(r#"{"decline_reason": true, "x": 1}"#.into());
        assert!(!c.verify(&server, "PIPU0000A0F8").unwrap().decline_reasons);
    }

    #[test]
    fn presence_needs_one_of_the_offered_values() {
        let key = test_key();
        let server = ServerKey::parse(&as_server_key_text(key)).unwrap();
        let c = signed(key, Some("P,Y,J,Q"), None).verify(&server, "PIPU0000A0F8").unwrap();
        assert_eq!(c.choices, ["P", "Y", "J", "Q"]);
        assert!(c.answer(Response::Confirm, None, key).unwrap_err().to_string().contains("one of P, Y, J, Q"));
        assert!(c.answer(Response::Confirm, Some("Z"), key).unwrap_err().to_string().contains("not one of the values"));
        let a = c.answer(Response::Confirm, Some("q"), key).unwrap();
        assert_eq!(field(&a, "presence_answer"), Some("Q"));
        assert!(server.verifies("ET3SETS37HUTTX5LJFQAALTFRI2DSTVJ|PIPU0000A0F8|Q", field(&a, "signature").unwrap()));
        let plain = signed(key, None, None).verify(&server, "PIPU0000A0F8").unwrap();
        assert!(plain.answer(Response::Confirm, Some("Q"), key).is_err());
    }
}
