//! Ente Auth. The plain export is a text of otpauth URIs, one per line, with Ente's extra
//! parameter `codeDisplay` (percent-encoded JSON: `pinned`, `trashed`, `tags`, `note`, …). The
//! encrypted export is `{"version":1,"kdfParams":{"memLimit","opsLimit","salt"},
//! "encryptedData","encryptionNonce"}`: the same text, sealed with libsodium's secretstream
//! (XChaCha20-Poly1305, one message; the nonce is the stream header) under
//! Argon2id(password, salt, opsLimit passes, memLimit bytes, one lane).

use super::{crypto, num_of, str_of, Cx};
use crate::error::{Error, Result};
use base64::Engine;
use serde_json::Value;

const APP: &str = "Ente Auth";

/// What Ente's `codeDisplay` parameter says about a token.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct CodeDisplay {
    /// In Ente's trash.
    pub trashed: bool,
    /// The user's note.
    pub note: String,
    /// Tags (Ente's folders).
    pub tags: Vec<String>,
}

/// The `codeDisplay` parameter of an otpauth URI, if it has one that reads as JSON.
pub(crate) fn code_display(uri: &str) -> Option<CodeDisplay> {
    let query = uri.split_once('?')?.1;
    let raw = query.split('&').find_map(|p| p.split_once('=').filter(|(k, _)| k.eq_ignore_ascii_case("codeDisplay")).map(|(_, v)| v))?;
    let text = percent_encoding::percent_decode_str(&raw.replace('+', " ")).decode_utf8().ok()?.into_owned();
    let v: Value = serde_json::from_str(&text).ok()?;
    Some(CodeDisplay {
        trashed: v["trashed"].as_bool().unwrap_or(false),
        note: str_of(&v, "note").to_string(),
        tags: v["tags"].as_array().map(|t| t.iter().filter_map(|t| t.as_str().map(str::to_string)).take(100).collect()).unwrap_or_default(),
    })
}

pub(super) fn read(bytes: &[u8], cx: &mut Cx) -> Result<()> {
    let plain;
    let json = bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
    let text = match json.then(|| cx.document_or_err(bytes)).transpose()? {
        Some(v) => {
            plain = decrypt(&v, cx)?;
            std::str::from_utf8(&plain).map_err(|_| cx.malformed("the decrypted export is not UTF-8 text"))?
        }
        None => super::text_of(cx, bytes)?,
    };
    if super::from_uri_text_into(text, cx)? == 0 {
        return Err(cx.malformed("no otpauth URI found"));
    }
    Ok(())
}

fn decrypt(v: &Value, cx: &Cx) -> Result<zeroize::Zeroizing<Vec<u8>>> {
    if num_of(v, "version") != Some(1) {
        return Err(Error::UnsupportedExport { format: APP, reason: format!("export version {} (softtoken reads 1)", v["version"]) });
    }
    let b64 = |s: &str, what: &str| base64::engine::general_purpose::STANDARD.decode(s.trim()).map_err(|_| cx.malformed(format!("{what} is not base64")));
    let kdf = &v["kdfParams"];
    let mem_bytes = num_of(kdf, "memLimit").ok_or_else(|| cx.malformed("kdfParams has no memLimit"))?;
    let ops = num_of(kdf, "opsLimit").ok_or_else(|| cx.malformed("kdfParams has no opsLimit"))?;
    let salt = b64(str_of(kdf, "salt"), "the salt")?;
    let header = b64(str_of(v, "encryptionNonce"), "encryptionNonce")?;
    let sealed = b64(str_of(v, "encryptedData"), "encryptedData")?;
    let key = crypto::argon2id(cx.password()?, &salt, mem_bytes / 1024, ops, 1)?;
    crypto::secretstream_open(&key, &header, &sealed, APP)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_display_is_read_from_the_uri() {
        let uri = "otpauth://totp/A:b?secret=JBSWY3DP&codeDisplay=%7B%22pinned%22%3Afalse%2C%22trashed%22%3Atrue%2C%22tags%22%3A%5B%22Work%22%5D%2C%22note%22%3A%22hi%22%7D";
        assert_eq!(code_display(uri), Some(CodeDisplay { trashed: true, note: "hi".into(), tags: vec!["Work".into()] }));
        assert_eq!(code_display("otpauth://totp/A:b?secret=JBSWY3DP"), None);
        assert_eq!(code_display("otpauth://totp/A:b?secret=JBSWY3DP&codeDisplay=%7Bnot"), None);
    }
}
