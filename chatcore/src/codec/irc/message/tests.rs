//! Properties of the grammar as a whole: what is written parses back to
//! the same parts, long texts split without loss, and any bytes at all go
//! through the fuzz target's checks.

use proptest::prelude::*;

use super::{MAX_PARAMS, Message, Outgoing};

/// The parts of a message, owned, to compare what went in with what came out.
#[derive(Debug, PartialEq)]
struct Parts {
    tags: Vec<(String, Vec<u8>)>,
    source: Option<Vec<u8>>,
    command: String,
    params: Vec<Vec<u8>>,
}

fn parts_of(message: &Message<'_>) -> Parts {
    Parts {
        tags: message.tags().iter().map(|t| (t.key().to_owned(), t.value().into_owned())).collect(),
        source: message.source().map(<[u8]>::to_vec),
        command: message.command().as_str().to_owned(),
        params: message.params().iter().map(|p| p.as_bytes().to_vec()).collect(),
    }
}

fn tag() -> impl Strategy<Value = (String, String)> {
    // Values may hold every byte the escapes exist for, and anything but NUL.
    ("\\+?([a-z0-9.-]{1,6}/)?[A-Za-z0-9-]{1,6}", "[^\\x00]{0,12}|[;\\\\ \\r\\n:s]{0,6}")
}

fn command() -> impl Strategy<Value = String> {
    prop_oneof!["[A-Za-z]{1,12}", "[0-9]{3}"]
}

/// Parameters: the ones before the last may hold no space and not start
/// with `:`; the last may be anything but NUL, CR and LF, even empty.
fn params() -> impl Strategy<Value = Vec<String>> {
    (
        prop::collection::vec("[^\\x00\\r\\n :][^\\x00\\r\\n ]{0,8}", 0..MAX_PARAMS),
        prop::option::of("[^\\x00\\r\\n]{0,30}"),
    )
        .prop_map(|(mut middle, last)| {
            if middle.len() < MAX_PARAMS {
                middle.extend(last);
            }
            middle
        })
}

proptest! {
    #[test]
    fn what_is_written_parses_back_to_the_same_parts(
        tags in prop::collection::vec(tag(), 0..5),
        source in prop::option::of("[^\\x00\\r\\n ]{1,20}"),
        command in command(),
        params in params(),
    ) {
        let tag_refs: Vec<(&str, &str)> = tags.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let param_refs: Vec<&str> = params.iter().map(String::as_str).collect();
        let out = Outgoing { tags: &tag_refs, source: source.as_deref(), command: &command, params: &param_refs };
        let mut line = Vec::new();
        out.write(&mut line).expect("valid parts can be written");
        let body = line.strip_suffix(b"\r\n").expect("CR LF");
        let message = Message::parse(body).expect("a written line parses");
        let expected = Parts {
            tags: tags.iter().map(|(k, v)| (k.clone(), v.clone().into_bytes())).collect(),
            source: source.map(String::into_bytes),
            command,
            params: params.into_iter().map(String::into_bytes).collect(),
        };
        prop_assert_eq!(parts_of(&message), expected);
    }

    #[test]
    fn split_pieces_join_into_the_text_and_each_fits(
        text in "\\PC{0,700}|[aé✓🦀 ]{0,900}",
        source in prop::option::of("[a-z!@.]{1,60}"),
        target in "#[a-z]{0,200}",
    ) {
        let privmsg = Outgoing { tags: &[], source: source.as_deref(), command: "PRIVMSG", params: &[&target] };
        let room = privmsg.room_for_trailing();
        let pieces: Vec<&str> = privmsg.split_trailing(&text).expect("room left").collect();
        prop_assert_eq!(pieces.concat(), text.as_str());
        for (i, piece) in pieces.iter().enumerate() {
            prop_assert!(piece.len() <= room);
            // As few pieces as can be: the next one starts with a character
            // that would not fit, or after a space in this one's second half.
            if let Some(next) = pieces.get(i + 1).and_then(|p| p.chars().next()) {
                let at_word = piece.ends_with(' ') && piece.len() >= room / 2;
                prop_assert!(at_word || piece.len() + next.len_utf8() > room, "{:?} then {:?}", piece, next);
            }
            let mut line = Vec::new();
            Outgoing { params: &[&target, piece], ..privmsg }.write(&mut line).expect("each piece fits a line");
            let message = Message::parse(&line[..line.len() - 2]).expect("parses");
            prop_assert_eq!(message.param(1).map(|p| p.as_str()), Some(Ok(*piece)));
        }
    }
}
