//! Reading one line into a [`Message`].

use super::{Command, MAX_BODY, MAX_CLIENT_TAG_DATA, MAX_PARAMS, Message, Param, ParseError, Part, Tags};

impl<'a> Message<'a> {
    /// Parses one line from a client, without its line ending (the framer
    /// strips `\n` and a `\r` before it).
    ///
    /// Parts may be separated by several spaces and the line may start or
    /// end with spaces, as some clients send; only the space (0x20)
    /// separates. The checks run in this order, so that each line gets the
    /// one answer a server would give first: [`ParseError::Empty`], then
    /// the lengths ([`ParseError::TooLong`], tags before body), forbidden
    /// bytes, then the grammar from left to right.
    pub(crate) fn parse(line: &'a [u8]) -> Result<Self, ParseError> {
        let mut rest = trim_spaces(line);
        if rest.is_empty() {
            return Err(ParseError::Empty);
        }
        let tag_data = match rest.strip_prefix(b"@") {
            Some(after) => {
                let (data, after) = split_word(after);
                if data.len() > MAX_CLIENT_TAG_DATA {
                    return Err(ParseError::TooLong { part: Part::Tags });
                }
                rest = after;
                Some(data)
            }
            None => None,
        };
        // The body is the line less the tags and the one space that ends
        // them; spaces anywhere else count, as they travel too.
        let tags_part = tag_data.map_or(0, |data| (data.len() + 2).min(line.len()));
        if line.len() - tags_part > MAX_BODY {
            return Err(ParseError::TooLong { part: Part::Body });
        }
        for &b in line {
            match b {
                0 => return Err(ParseError::NulByte),
                b'\r' | b'\n' => return Err(ParseError::LineBreak),
                _ => {}
            }
        }
        let tags = tag_data.map(Tags::parse).transpose()?.unwrap_or_default();

        rest = trim_spaces(rest);
        let source = match rest.strip_prefix(b":") {
            Some(after) => {
                let (source, after) = split_word(after);
                if source.is_empty() {
                    return Err(ParseError::BadSource);
                }
                rest = trim_spaces(after);
                Some(source)
            }
            None => None,
        };

        let (word, after) = split_word(rest);
        if word.is_empty() {
            return Err(ParseError::NoCommand);
        }
        let command = Command::from_bytes(word).ok_or(ParseError::BadCommand)?;
        rest = after;

        let mut params = [Param::default(); MAX_PARAMS];
        let mut len = 0;
        loop {
            rest = trim_spaces(rest);
            if rest.is_empty() {
                break;
            }
            let (param, after) = match rest.strip_prefix(b":") {
                // The trailing parameter: the rest of the line, spaces and all.
                Some(trailing) => (trailing, &[][..]),
                None => split_word(rest),
            };
            let slot = params.get_mut(len).ok_or(ParseError::TooManyParams)?;
            *slot = Param(param);
            len += 1;
            rest = after;
        }
        Ok(Message { tags, source, command, params, len })
    }
}

/// Splits at the first space: the word before it, and what follows it.
fn split_word(bytes: &[u8]) -> (&[u8], &[u8]) {
    match bytes.iter().position(|&b| b == b' ') {
        Some(i) => (&bytes[..i], &bytes[i + 1..]),
        None => (bytes, &[]),
    }
}

/// Drops leading spaces: IRC separates parts with one or more.
fn trim_spaces(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|&b| b != b' ').unwrap_or(bytes.len());
    &bytes[start..]
}

#[cfg(test)]
mod tests {
    use super::super::NotUtf8;
    use super::*;

    fn parse(line: &str) -> Message<'_> {
        Message::parse(line.as_bytes()).unwrap_or_else(|e| panic!("{line:?}: {e}"))
    }

    fn params<'a>(message: &Message<'a>) -> Vec<&'a str> {
        message.params().iter().map(|p| p.as_str().expect("UTF-8")).collect()
    }

    fn error(line: &[u8]) -> ParseError {
        match Message::parse(line) {
            Ok(message) => panic!("{:?} parsed as {message:?}", String::from_utf8_lossy(line)),
            Err(e) => e,
        }
    }

    #[test]
    fn a_tagged_message_with_a_source() {
        let m = parse("@id=123AB;rose :nick!ident@host.com PRIVMSG me :Hello");
        assert_eq!(m.tags().get("id").map(|t| t.value().into_owned()), Some(b"123AB".to_vec()));
        assert!(m.tags().get("rose").is_some_and(|t| t.value().is_empty()));
        assert_eq!(m.source(), Some(&b"nick!ident@host.com"[..]));
        assert_eq!(m.command().as_str(), "PRIVMSG");
        assert_eq!(params(&m), ["me", "Hello"]);
    }

    #[test]
    fn the_modern_docs_parameter_examples() {
        assert_eq!(params(&parse(":irc.example.com CAP * LIST :")), ["*", "LIST", ""]);
        assert_eq!(params(&parse("CAP * LS :multi-prefix sasl")), ["*", "LS", "multi-prefix sasl"]);
        assert_eq!(params(&parse("CAP REQ :sasl message-tags foo")), ["REQ", "sasl message-tags foo"]);
        assert_eq!(params(&parse(":dan!d@localhost PRIVMSG #chan :Hey!")), ["#chan", "Hey!"]);
        assert_eq!(params(&parse(":dan!d@localhost PRIVMSG #chan Hey!")), ["#chan", "Hey!"]);
        assert_eq!(params(&parse("PRIVMSG #chan ::-)")), ["#chan", ":-)"]);
    }

    #[test]
    fn what_clients_send_on_connect() {
        let m = parse("CAP LS 302");
        assert!(m.tags().is_empty() && m.source().is_none());
        assert_eq!((m.command().as_str(), params(&m)), ("CAP", vec!["LS", "302"]));
        assert_eq!(params(&parse("USER alice 0 * :Alice Liddell")), ["alice", "0", "*", "Alice Liddell"]);
        assert_eq!(params(&parse("NICK alice")), ["alice"]);
        assert!(parse("QUIT").params().is_empty());
    }

    #[test]
    fn commands_in_any_case_and_numerics() {
        let m = parse("privMsg #a :hi");
        assert!(m.command().is("PRIVMSG"));
        assert_eq!(m.command().upper(), "PRIVMSG");
        assert_eq!(m.command().numeric(), None);
        assert!(matches!(parse("PING x").command().upper(), std::borrow::Cow::Borrowed("PING")));
        let m = parse(":irc.example.com 001 alice :Welcome");
        assert_eq!(m.command().numeric(), Some(1));
        assert_eq!(m.command().as_str(), "001");
        assert_eq!(parse("433 * alice :taken").command().numeric(), Some(433));
    }

    #[test]
    fn malformed_commands() {
        for line in ["12", "1234", "1PRIV", "_PRIV", "PRIV-MSG", "@a :s 0x1 y", "\u{e9}t\u{e9}", "NICK\talice"] {
            assert_eq!(error(line.as_bytes()), ParseError::BadCommand, "{line:?}");
        }
        // Words a server does not know are still commands, to answer 421.
        assert_eq!(parse("PRIV1").command().as_str(), "PRIV1");
        assert_eq!(parse("NONEXISTENT_COMMAND x").command().as_str(), "NONEXISTENT_COMMAND");
    }

    #[test]
    fn extra_spaces_are_tolerated() {
        let m = parse("  @a=1   :src   PRIVMSG   #chan    hello   ");
        assert_eq!(m.tags().get("a").map(|t| t.value().into_owned()), Some(b"1".to_vec()));
        assert_eq!(m.source(), Some(&b"src"[..]));
        assert_eq!(params(&m), ["#chan", "hello"]);
        // Spaces inside the trailing parameter are its own.
        assert_eq!(params(&parse("PRIVMSG #chan :  two  spaces  ")), ["#chan", "  two  spaces  "]);
    }

    #[test]
    fn fifteen_parameters_and_no_more() {
        let fifteen = "CMD 1 2 3 4 5 6 7 8 9 10 11 12 13 14 :fifteen and spaces";
        assert_eq!(parse(fifteen).params().len(), 15);
        assert_eq!(parse(fifteen).param(14).map(|p| p.as_bytes()), Some(&b"fifteen and spaces"[..]));
        assert_eq!(parse(fifteen).param(15), None);
        assert_eq!(error(b"CMD 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16"), ParseError::TooManyParams);
        assert_eq!(error(b"CMD 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 :"), ParseError::TooManyParams);
    }

    #[test]
    fn empty_lines_and_missing_parts() {
        assert_eq!(error(b""), ParseError::Empty);
        assert_eq!(error(b"    "), ParseError::Empty);
        assert_eq!(error(b"@a=b"), ParseError::NoCommand);
        assert_eq!(error(b"@a=b  "), ParseError::NoCommand);
        assert_eq!(error(b":nick!u@h"), ParseError::NoCommand);
        assert_eq!(error(b"@a :src "), ParseError::NoCommand);
        assert_eq!(error(b": PRIVMSG x"), ParseError::BadSource);
        assert_eq!(error(b"@ PRIVMSG x"), ParseError::BadTag);
        assert_eq!(error(b"@a;;b PRIVMSG x"), ParseError::BadTag);
    }

    #[test]
    fn nul_and_line_breaks_are_refused() {
        assert_eq!(error(b"PRIVMSG #a :hi\0there"), ParseError::NulByte);
        assert_eq!(error(b"@a=\0 PING"), ParseError::NulByte);
        assert_eq!(error(b"PRIVMSG #a :hi\rQUIT"), ParseError::LineBreak);
        assert_eq!(error(b"PRIVMSG #a :hi\nQUIT"), ParseError::LineBreak);
    }

    #[test]
    fn the_body_may_have_510_bytes() {
        let prefix = "PRIVMSG #a :";
        let fits = format!("{prefix}{}", "x".repeat(MAX_BODY - prefix.len()));
        assert_eq!(parse(&fits).param(1).map(|p| p.as_bytes().len()), Some(MAX_BODY - prefix.len()));
        assert_eq!(error(format!("{fits}x").as_bytes()), ParseError::TooLong { part: Part::Body });
        // Tags do not count against the body, and neither does the space after them.
        let tagged = format!("@{} {fits}", "a".repeat(MAX_CLIENT_TAG_DATA));
        assert_eq!(parse(&tagged).params().len(), 2);
        assert_eq!(error(format!("@a  {fits}").as_bytes()), ParseError::TooLong { part: Part::Body });
    }

    #[test]
    fn tag_data_may_have_4094_bytes() {
        let data = format!("a={}", "v".repeat(MAX_CLIENT_TAG_DATA - 2));
        assert!(parse(&format!("@{data} PING x")).tags().get("a").is_some());
        assert_eq!(error(format!("@{data}v PING x").as_bytes()), ParseError::TooLong { part: Part::Tags });
        // Even with no command after it: the length is what a server answers first.
        assert_eq!(error(format!("@{data}v").as_bytes()), ParseError::TooLong { part: Part::Tags });
    }

    #[test]
    fn length_is_judged_before_content() {
        let long = format!("PRIVMSG #a :\0{}", "x".repeat(MAX_BODY));
        assert_eq!(error(long.as_bytes()), ParseError::TooLong { part: Part::Body });
    }

    #[test]
    fn parameters_are_bytes_with_a_utf8_view() {
        let m = Message::parse(b"PRIVMSG #a :caf\xe9").expect("parses");
        assert_eq!(m.param(1).map(|p| p.as_str()), Some(Err(NotUtf8)));
        assert_eq!(m.param(1).map(|p| p.as_bytes()), Some(&b"caf\xe9"[..]));
        let m = parse("PRIVMSG #a :café ✓");
        assert_eq!(m.param(1).map(|p| p.as_str()), Some(Ok("café ✓")));
    }

    #[test]
    fn a_source_with_no_tags_and_odd_but_legal_bytes() {
        // Colons are allowed inside middle parameters and the source.
        let m = parse(":a:b CMD x:y :z");
        assert_eq!(m.source(), Some(&b"a:b"[..]));
        assert_eq!(params(&m), ["x:y", "z"]);
        // Control characters other than NUL, CR and LF are the codec's business (IRC uses them for formatting).
        assert_eq!(params(&parse("PRIVMSG #a :\u{1}ACTION waves\u{1}")), ["#a", "\u{1}ACTION waves\u{1}"]);
    }
}
