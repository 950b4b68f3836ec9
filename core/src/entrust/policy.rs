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
    /// Reads a verbatim policy string; `None` gives the empty policy.
    pub fn parse(text: Option<&str>) -> Result<Self> {
        let Some(text) = text else { return Ok(Policy::default()) };
        let map: BTreeMap<String, serde_json::Value> =
            serde_json::from_str(text).map_err(|e| Error::invalid(Field::Policy, format!("is not a JSON object ({e})")))?;
        let entries = map
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string())))
            .collect();
        Ok(Policy {
            pin_required: map.get("pinRequired").and_then(flag).unwrap_or(false),
            allow_face_recognition: map.get("allowFaceRecognition").and_then(flag),
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
