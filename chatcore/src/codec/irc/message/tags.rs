//! IRCv3 message tags: `key[=value]` pairs joined by `;`, keys with an
//! optional `+` (client-only) and `vendor/` part, values escaped so that
//! they hold no space, `;`, CR or LF.

use std::borrow::Cow;
use std::fmt;

use super::{Lossy, NotUtf8, ParseError};

/// The tags of a parsed message, kept as the escaped bytes of the line and
/// read on demand: most messages are handled without looking at them.
#[derive(Clone, Copy, Default)]
pub(crate) struct Tags<'a> {
    /// The bytes between `@` and the space, checked by [`Tags::parse`].
    raw: &'a [u8],
}

impl<'a> Tags<'a> {
    /// Checks the tag data of a line (between `@` and the space): at
    /// least one tag, and every key well formed. Values need no check: the
    /// line has no NUL, CR or LF, and a space or `;` would have ended them.
    pub(super) fn parse(raw: &'a [u8]) -> Result<Self, ParseError> {
        if raw.is_empty() {
            return Err(ParseError::BadTag);
        }
        for tag in raw.split(|&b| b == b';') {
            let key = tag.split(|&b| b == b'=').next().unwrap_or_default();
            if !valid_key(key) {
                return Err(ParseError::BadTag);
            }
        }
        Ok(Tags { raw })
    }

    /// Whether the message had no tags.
    pub(crate) fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }

    /// The tags in the order sent, repeats included.
    pub(crate) fn iter(&self) -> impl Iterator<Item = Tag<'a>> + use<'a> {
        // No tags is an empty slice, which `split` would make one empty tag.
        let raw = (!self.raw.is_empty()).then_some(self.raw);
        raw.into_iter().flat_map(|raw| raw.split(|&b| b == b';')).map(|tag| {
            let (key, raw) = match tag.iter().position(|&b| b == b'=') {
                Some(i) => (&tag[..i], &tag[i + 1..]),
                None => (tag, &[][..]),
            };
            // `parse` checked that keys are ASCII, so this cannot fail.
            Tag { key: std::str::from_utf8(key).unwrap_or_default(), raw }
        })
    }

    /// The tag named `key` (names are compared exactly). If it was sent
    /// more than once, the last one, as IRCv3 tells receivers to do.
    pub(crate) fn get(&self, key: &str) -> Option<Tag<'a>> {
        self.iter().filter(|tag| tag.key == key).last()
    }
}

/// Equal when the same keys come with the same unescaped values, in the
/// same order: `a=b\` and `a=b` say the same thing.
impl PartialEq for Tags<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl Eq for Tags<'_> {}

impl fmt::Debug for Tags<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// One tag.
#[derive(Clone, Copy)]
pub(crate) struct Tag<'a> {
    key: &'a str,
    /// The value as sent, still escaped.
    raw: &'a [u8],
}

impl<'a> Tag<'a> {
    /// The key, with its `+` and vendor part if any.
    pub(crate) fn key(&self) -> &'a str {
        self.key
    }

    /// Whether the key starts with `+`: a tag from a client for other
    /// clients, which a server relays without acting on it.
    pub(crate) fn is_client_only(&self) -> bool {
        self.key.starts_with('+')
    }

    /// The value, unescaped; empty when the tag had none (IRCv3 makes an
    /// empty value and no value the same). Copied only when it holds an
    /// escape.
    pub(crate) fn value(&self) -> Cow<'a, [u8]> {
        if !self.raw.contains(&b'\\') {
            return Cow::Borrowed(self.raw);
        }
        let mut out = Vec::with_capacity(self.raw.len());
        let mut bytes = self.raw.iter();
        while let Some(&b) = bytes.next() {
            if b != b'\\' {
                out.push(b);
                continue;
            }
            match bytes.next() {
                Some(b':') => out.push(b';'),
                Some(b's') => out.push(b' '),
                Some(b'r') => out.push(b'\r'),
                Some(b'n') => out.push(b'\n'),
                // `\\` is a backslash; any other escaped character stands for itself.
                Some(&other) => out.push(other),
                // A lone backslash at the end stands for nothing.
                None => {}
            }
        }
        Cow::Owned(out)
    }

    /// The unescaped value as text, if it is UTF-8.
    pub(crate) fn value_str(&self) -> Result<Cow<'a, str>, NotUtf8> {
        match self.value() {
            Cow::Borrowed(bytes) => std::str::from_utf8(bytes).map(Cow::Borrowed).map_err(|_| NotUtf8),
            Cow::Owned(bytes) => String::from_utf8(bytes).map(Cow::Owned).map_err(|_| NotUtf8),
        }
    }
}

impl PartialEq for Tag<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key && self.value() == other.value()
    }
}

impl Eq for Tag<'_> {}

impl fmt::Debug for Tag<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={:?}", self.key, Lossy(&self.value()))
    }
}

/// Whether `key` is a tag key: `[+][vendor/]name`, the name letters,
/// digits and hyphens, the vendor a host name (those and dots).
pub(super) fn valid_key(key: &[u8]) -> bool {
    let key = key.strip_prefix(b"+").unwrap_or(key);
    let (vendor, name) = match key.iter().rposition(|&b| b == b'/') {
        Some(i) => (Some(&key[..i]), &key[i + 1..]),
        None => (None, key),
    };
    let name_ok = !name.is_empty() && name.iter().all(|&b| b.is_ascii_alphanumeric() || b == b'-');
    let vendor_ok =
        vendor.is_none_or(|v| !v.is_empty() && v.iter().all(|&b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.'));
    name_ok && vendor_ok
}

/// Appends `value` escaped, so that it holds no space, `;`, CR or LF.
/// (NUL has no escape; the writer refuses it before calling this.)
pub(super) fn escape_into(out: &mut Vec<u8>, value: &[u8]) {
    for &b in value {
        match b {
            b';' => out.extend_from_slice(b"\\:"),
            b' ' => out.extend_from_slice(b"\\s"),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\n' => out.extend_from_slice(b"\\n"),
            _ => out.push(b),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(raw: &str) -> Tags<'_> {
        Tags::parse(raw.as_bytes()).unwrap_or_else(|e| panic!("{raw:?}: {e}"))
    }

    fn values(raw: &str) -> Vec<(String, String)> {
        tags(raw).iter().map(|t| (t.key().to_owned(), t.value_str().expect("UTF-8").into_owned())).collect()
    }

    #[test]
    fn keys_and_values_as_in_the_modern_docs() {
        assert_eq!(values("id=123AB;rose"), [("id".into(), "123AB".into()), ("rose".into(), String::new())]);
        assert_eq!(
            values("url=;netsplit=tur,ty"),
            [("url".into(), String::new()), ("netsplit".into(), "tur,ty".into())]
        );
    }

    #[test]
    fn escapes_are_undone_on_demand() {
        let t = tags(r"+example=raw+:=,escaped\:\s\\");
        let tag = t.get("+example").expect("tag");
        assert!(tag.is_client_only());
        assert_eq!(tag.value_str().expect("UTF-8"), r"raw+:=,escaped; \");
        assert_eq!(tags(r"a=\r\n").get("a").map(|t| t.value()), Some(Cow::Borrowed(&b"\r\n"[..])));
    }

    #[test]
    fn an_unescaped_value_is_borrowed() {
        let t = tags("time=2024-01-01T00:00:00.000Z");
        assert!(matches!(t.get("time").map(|t| t.value()), Some(Cow::Borrowed(_))));
    }

    #[test]
    fn unknown_escapes_stand_for_themselves_and_a_lone_backslash_for_nothing() {
        assert_eq!(values(r"a=test\"), [("a".into(), "test".into())]);
        assert_eq!(values(r"a=\b\x"), [("a".into(), "bx".into())]);
        assert_eq!(values(r"a=\"), [("a".into(), String::new())]);
    }

    #[test]
    fn an_empty_value_is_no_value() {
        assert_eq!(tags("a=").get("a"), tags("a").get("a"));
        assert_eq!(tags("a="), tags("a"));
        assert_ne!(tags("a=1"), tags("a"));
    }

    #[test]
    fn the_last_of_repeated_keys_wins() {
        assert_eq!(tags("a=1;b;a=2").get("a").map(|t| t.value_str().expect("UTF-8").into_owned()), Some("2".into()));
        assert_eq!(tags("a=1;b;a=2").iter().count(), 3);
        assert!(tags("a").get("A").is_none(), "keys are compared exactly");
    }

    #[test]
    fn vendor_and_client_prefixes() {
        for key in ["aaa", "example.com/ddd", "+typing", "+draft/reply", "+example.com/foo", "a-b", "x/9"] {
            assert!(valid_key(key.as_bytes()), "{key}");
        }
        for key in ["", "+", "/a", "a/", "++a", "a b", "a_b", "a.b", "v/x/y", "é", "+/x", "a=b"] {
            assert!(!valid_key(key.as_bytes()), "{key}");
        }
    }

    #[test]
    fn malformed_tags_are_refused() {
        for raw in ["", ";", "a;", ";a", "a;;b", "=v", "a b=c", "+=x"] {
            assert_eq!(Tags::parse(raw.as_bytes()).map(|_| ()), Err(ParseError::BadTag), "{raw:?}");
        }
    }

    #[test]
    fn values_may_be_any_bytes() {
        let t = Tags::parse(b"a=\xff\xfe;b=\xc3\xa9").expect("tags");
        assert_eq!(t.get("a").map(|t| t.value_str()), Some(Err(NotUtf8)));
        assert_eq!(t.get("b").map(|t| t.value_str()), Some(Ok(Cow::Borrowed("é"))));
    }

    #[test]
    fn escaping_then_unescaping_gives_the_value_back() {
        let value = b"a;b c\\d\re\nf=:+,\xe2\x9c\x93";
        let mut escaped = b"k=".to_vec();
        escape_into(&mut escaped, value);
        assert!(!escaped.iter().any(|b| matches!(b, b';' | b' ' | b'\r' | b'\n')));
        assert_eq!(Tags::parse(&escaped).expect("tags").get("k").map(|t| t.value().into_owned()), Some(value.to_vec()));
    }
}
