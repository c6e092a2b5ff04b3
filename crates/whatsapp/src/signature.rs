//! `X-Hub-Signature-256`: HMAC-SHA256 of the raw request body with the app secret.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

type HmacSha256 = Hmac<Sha256>;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the X-Hub-Signature-256 header is missing")]
    Missing,
    #[error("the X-Hub-Signature-256 header is not of the form sha256=<hex>")]
    Malformed,
    #[error("the signature does not match the body")]
    Mismatch,
}

fn mac(secret: &[u8], body: &[u8]) -> [u8; 32] {
    let mut m = HmacSha256::new_from_slice(secret).expect("HMAC takes keys of any length");
    m.update(body);
    m.finalize().into_bytes().into()
}

/// The header value Meta would send for `body`: `sha256=<lower-case hex>`.
pub fn sign(secret: &str, body: &[u8]) -> String {
    format!("sha256={}", hex::encode(mac(secret.as_bytes(), body)))
}

/// Checks `header` (the whole `X-Hub-Signature-256` value) against the raw `body`.
///
/// Meta signs a form of the body where non-ASCII characters are `\uXXXX` escapes, while
/// the body may arrive as raw UTF-8; both forms are accepted. Comparison is in constant
/// time.
pub fn verify_signature(secret: &str, body: &[u8], header: Option<&str>) -> Result<(), SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?.trim();
    let hex_sig = header.strip_prefix("sha256=").ok_or(SignatureError::Malformed)?;
    let given = hex::decode(hex_sig).map_err(|_| SignatureError::Malformed)?;
    if given.len() != 32 {
        return Err(SignatureError::Malformed);
    }
    let matches = |candidate: &[u8]| bool::from(mac(secret.as_bytes(), candidate).ct_eq(&given[..]));
    if matches(body) {
        return Ok(());
    }
    if !body.is_ascii() {
        if let Ok(text) = std::str::from_utf8(body) {
            for upper in [false, true] {
                if matches(escape_non_ascii(text, upper).as_bytes()) {
                    return Ok(());
                }
            }
        }
    }
    Err(SignatureError::Mismatch)
}

/// Writes every non-ASCII character as JSON `\uXXXX` escapes (UTF-16, surrogate pairs
/// above the BMP), leaving everything else byte for byte.
pub fn escape_non_ascii(text: &str, upper_hex: bool) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    let mut units = [0u16; 2];
    for ch in text.chars() {
        if ch.is_ascii() {
            out.push(ch);
        } else {
            for unit in ch.encode_utf16(&mut units) {
                if upper_hex {
                    out.push_str(&format!("\\u{unit:04X}"));
                } else {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_then_verify() {
        let body = br#"{"object":"whatsapp_business_account"}"#;
        let header = sign("s3cret", body);
        assert!(header.starts_with("sha256="));
        assert_eq!(verify_signature("s3cret", body, Some(&header)), Ok(()));
        assert_eq!(verify_signature("other", body, Some(&header)), Err(SignatureError::Mismatch));
        assert_eq!(verify_signature("s3cret", b"{}", Some(&header)), Err(SignatureError::Mismatch));
    }

    #[test]
    fn missing_and_malformed_headers_are_told_apart() {
        assert_eq!(verify_signature("s", b"{}", None), Err(SignatureError::Missing));
        assert_eq!(verify_signature("s", b"{}", Some("md5=abc")), Err(SignatureError::Malformed));
        assert_eq!(verify_signature("s", b"{}", Some("sha256=zz")), Err(SignatureError::Malformed));
        assert_eq!(verify_signature("s", b"{}", Some("sha256=abcd")), Err(SignatureError::Malformed));
    }

    #[test]
    fn escaped_form_of_a_utf8_body_is_accepted() {
        let raw = "{\"text\":\"olá 👋\"}";
        let escaped = escape_non_ascii(raw, false);
        assert_eq!(escaped, "{\"text\":\"ol\\u00e1 \\ud83d\\udc4b\"}");
        // Meta signed the escaped form; the raw UTF-8 form arrived.
        let header = sign("k", escaped.as_bytes());
        assert_eq!(verify_signature("k", raw.as_bytes(), Some(&header)), Ok(()));
        // Upper-case hex escapes too.
        let header = sign("k", escape_non_ascii(raw, true).as_bytes());
        assert_eq!(verify_signature("k", raw.as_bytes(), Some(&header)), Ok(()));
    }
}
