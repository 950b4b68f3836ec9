//! RFC 8785 (JSON Canonicalization Scheme) for the small objects a challenge's capabilities
//! signature covers: members sorted by their UTF-16 code units, no whitespace, strings with the
//! minimal escapes, integers as written. Non-integer numbers are refused (no capability uses
//! one, and ECMAScript's float printing is not reproduced here).

use serde_json::Value;

/// The canonical text of `value`, or None when it holds a non-integer number.
pub fn canonical(value: &Value) -> Option<String> {
    let mut out = String::new();
    write(value, &mut out, 0)?;
    Some(out)
}

fn write(value: &Value, out: &mut String, depth: usize) -> Option<()> {
    if depth > 16 {
        return None;
    }
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            if n.is_i64() || n.is_u64() {
                out.push_str(&n.to_string());
            } else {
                return None;
            }
        }
        Value::String(s) => string(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write(item, out, depth + 1)?;
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort_by(|a, b| a.encode_utf16().cmp(b.encode_utf16()));
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                string(k, out);
                out.push(':');
                write(&map[k], out, depth + 1)?;
            }
            out.push('}');
        }
    }
    Some(())
}

fn string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::canonical;

    #[test]
    fn rfc8785_ordering_and_escapes() {
        let v: serde_json::Value = serde_json::from_str(r#"{"nonce": "N", "capabilities": {"decline_reason": true}}"#).unwrap();
        assert_eq!(canonical(&v).unwrap(), r#"{"capabilities":{"decline_reason":true},"nonce":"N"}"#);
        // RFC 8785 §3.2.3's sorting example: by UTF-16 code units, not by code points.
        let v: serde_json::Value = serde_json::from_str(r#"{"\ufb33":3,"\ud83d\ude00":2,"\u20ac":1,"\r":0,"1":4}"#).unwrap();
        assert_eq!(canonical(&v).unwrap(), "{\"\\r\":0,\"1\":4,\"\u{20ac}\":1,\"\u{1f600}\":2,\"\u{fb33}\":3}");
        assert_eq!(canonical(&serde_json::json!("a\u{1}\"")).unwrap(), "\"a\\u0001\\\"\"");
        assert!(canonical(&serde_json::json!(1.5)).is_none());
    }
}
