//! SASL PLAIN (RFC 4616) as IRC carries it: the client's
//! `authzid NUL authcid NUL password`, base64-encoded (RFC 4648), in
//! `AUTHENTICATE` lines of at most 400 bytes each.

use crate::credentials::{Password, PlainError};

/// A PLAIN response longer than this is refused: a name and a password
/// fit in far less, and the bytes are held until the exchange ends.
pub(crate) const MAX_RESPONSE: usize = 1200;

/// The bytes of one `AUTHENTICATE` line that is part of a response: a
/// line of exactly this length means more follow.
pub(crate) const CHUNK: usize = 400;

/// The account name and password of a PLAIN response, given in base64.
pub(crate) fn decode_plain(encoded: &[u8]) -> Result<(String, Password), PlainError> {
    let raw = decode_base64(encoded).ok_or(PlainError::NotBase64)?;
    let mut parts = raw.split(|&b| b == 0);
    let (Some(authzid), Some(authcid), Some(password), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(PlainError::Malformed);
    };
    let authzid = std::str::from_utf8(authzid).map_err(|_| PlainError::NotUtf8)?;
    let authcid = std::str::from_utf8(authcid).map_err(|_| PlainError::NotUtf8)?;
    let password = std::str::from_utf8(password).map_err(|_| PlainError::NotUtf8)?;
    if authcid.is_empty() {
        return Err(PlainError::Malformed);
    }
    if !authzid.is_empty() && !authzid.eq_ignore_ascii_case(authcid) {
        return Err(PlainError::OtherAuthzid);
    }
    Ok((authcid.to_owned(), Password::new(password)))
}

/// Standard base64 with padding; `None` for anything else.
fn decode_base64(encoded: &[u8]) -> Option<Vec<u8>> {
    if !encoded.len().is_multiple_of(4) {
        return None;
    }
    let value = |b: u8| -> Option<u32> {
        Some(u32::from(match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        }))
    };
    let mut out = Vec::with_capacity(encoded.len() / 4 * 3);
    let quads = encoded.chunks_exact(4);
    let last = quads.len().saturating_sub(1);
    for (index, quad) in quads.enumerate() {
        let padding = quad.iter().rev().take_while(|&&b| b == b'=').count();
        if padding > 2 || (padding > 0 && index != last) {
            return None;
        }
        let mut bits = 0u32;
        for &b in &quad[..4 - padding] {
            bits = bits << 6 | value(b)?;
        }
        bits <<= 6 * padding as u32;
        let bytes = bits.to_be_bytes();
        out.extend_from_slice(&bytes[1..4 - padding]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_base64_with_and_without_padding() {
        assert_eq!(decode_base64(b"").unwrap(), b"");
        assert_eq!(decode_base64(b"Zg==").unwrap(), b"f");
        assert_eq!(decode_base64(b"Zm8=").unwrap(), b"fo");
        assert_eq!(decode_base64(b"Zm9v").unwrap(), b"foo");
        assert_eq!(decode_base64(b"Zm9vYmFy").unwrap(), b"foobar");
        for bad in [&b"Zm9"[..], b"Zm9v!A==", b"Z===", b"Zg==Zm9v", b"Zm 9"] {
            assert_eq!(decode_base64(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn plain_gives_the_authenticated_name_and_password() {
        // "\0alice\0s3cret-pass"
        let (name, password) = decode_plain(b"AGFsaWNlAHMzY3JldC1wYXNz").unwrap();
        assert_eq!(name, "alice");
        assert_eq!(password, Password::new("s3cret-pass"));
        // "alice\0alice\0pw": the same authzid is fine.
        assert_eq!(decode_plain(b"YWxpY2UAYWxpY2UAcHc=").unwrap().0, "alice");
        // "bob\0alice\0pw": acting as another account is not.
        assert_eq!(decode_plain(b"Ym9iAGFsaWNlAHB3").unwrap_err(), PlainError::OtherAuthzid);
        // "alice\0pw": a part missing.
        assert_eq!(decode_plain(b"YWxpY2UAcHc=").unwrap_err(), PlainError::Malformed);
        assert_eq!(decode_plain(b"not base64").unwrap_err(), PlainError::NotBase64);
    }
}
