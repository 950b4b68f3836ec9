//! The activation policy (spec §4.7): kept verbatim for the seed, read here only to show and enforce.

use crate::error::{Error, Field, Result};
use std::collections::BTreeMap;

/// The flags softtoken understands, read from the policy string.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Policy {
    /// `pinRequired`: this identity needs an app PIN.
    pub pin_required: bool,
    /// `allowFaceRecognition`: `Some(false)` forbids biometric unlock for it.
    pub allow_face_recognition: Option<bool>,
    /// `allowUnsecured`: whether rooted/jailbroken devices are allowed (checked by the shells).
    pub allow_unsecured: Option<bool>,
    /// `trustedExecution`, e.g. `NOT_ALLOWED` (shown; enforced by the shells).
    pub trusted_execution: Option<String>,
    /// Every key and value as text, for display.
    pub entries: BTreeMap<String, String>,
}

fn flag(v: &serde_json::Value) -> Option<bool> {
    match v {
        serde_json::Value::Bool(b) => Some(*b),
        serde_json::Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        serde_json::Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

impl Policy {
    /// The entries as one line for people, `key=value` joined by `, ` (empty: no policy). Raw
    /// text from the payload: a display neutralises it.
    pub fn describe(&self) -> String {
        self.entries.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", ")
    }

    /// Reads a verbatim policy string; `None` gives the empty policy.
    pub fn parse(text: Option<&str>) -> Result<Self> {
        let Some(text) = text else { return Ok(Policy::default()) };
        let map: BTreeMap<String, serde_json::Value> =
            serde_json::from_str(text).map_err(|e| Error::invalid(Field::Policy, format!("is not a JSON object ({e})")))?;
        let entries = map.iter().map(|(k, v)| (k.clone(), v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string()))).collect();
        // The flags softtoken enforces fail closed: a value it does not understand ("yes", 1, an
        // object) counts as the stricter setting, never as absent.
        Ok(Policy {
            pin_required: map.get("pinRequired").map(|v| flag(v).unwrap_or(true)).unwrap_or(false),
            allow_face_recognition: map.get("allowFaceRecognition").map(|v| Some(flag(v).unwrap_or(false))).unwrap_or(None),
            allow_unsecured: map.get("allowUnsecured").and_then(flag),
            trusted_execution: map.get("trustedExecution").and_then(|v| v.as_str().map(str::to_string)),
            entries,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pin_required_value_softtoken_does_not_understand_fails_closed() {
        // The attack: a policy saying "pinRequired":"yes" (or 1) was read as "no PIN needed".
        for v in [r#""yes""#, "1", r#""TRUE ""#, "null", "{}"] {
            let p = Policy::parse(Some(&format!(r#"{{"pinRequired":{v},"allowFaceRecognition":{v}}}"#))).unwrap();
            assert!(p.pin_required, "{v}");
            assert_eq!(p.allow_face_recognition, Some(false), "{v}");
        }
        let p = Policy::parse(Some(r#"{"pinRequired":"false","allowFaceRecognition":"true"}"#)).unwrap();
        assert!(!p.pin_required);
        assert_eq!(p.allow_face_recognition, Some(true));
        assert!(Policy::parse(Some("not json")).is_err());
    }

    #[test]
    fn spec_policy() {
        let p = Policy::parse(Some(r#"{"allowUnsecured":"false","trustedExecution":"NOT_ALLOWED"}"#)).unwrap();
        assert_eq!(p.allow_unsecured, Some(false));
        assert_eq!(p.trusted_execution.as_deref(), Some("NOT_ALLOWED"));
        assert!(!p.pin_required);
        assert_eq!(p.entries.len(), 2);
    }

    #[test]
    fn pin_and_face_flags() {
        let p = Policy::parse(Some(r#"{"pinRequired":"true","allowFaceRecognition":false}"#)).unwrap();
        assert!(p.pin_required);
        assert_eq!(p.allow_face_recognition, Some(false));
        assert_eq!(Policy::parse(None).unwrap(), Policy::default());
        assert!(Policy::parse(Some("not json")).is_err());
    }
}
