//! IRCv3 `labeled-response`: what one labelled line caused its sender to be
//! told, tied back to it. One line carries the `label` tag, several come
//! in a `labeled-response` batch, and none is answered with `ACK`.
//!
//! Labels are honoured only for a client that enabled `batch` as well as
//! `labeled-response` (as InspIRCd does): without `batch` a reply of
//! several lines could not be grouped.

use bytes::Bytes;

use super::message::{Outgoing, prepend_tag};

/// The longest label taken, in bytes (IRCv3's limit); a line with a longer
/// one is handled as if it had none.
pub(crate) const MAX_LABEL: usize = 64;

/// The batch reference of a labelled reply. Only one is written at a time
/// for a client, whole, so a fixed reference is unique; a `chathistory`
/// batch nested in it has a reference of its own.
const REFERENCE: &str = "labeled";

/// `held`, the lines (each `Bytes` one or more CR LF lines, in order) one
/// labelled request caused its sender to be told, as its labelled reply.
/// With no line at all, an `ACK` if `acknowledge` (the request is over),
/// else nothing (more may come: a password check answers later).
pub(crate) fn labeled(label: &str, server: &str, held: &[Bytes], acknowledge: bool) -> Bytes {
    let lines: Vec<&[u8]> = held.iter().flat_map(|data| data.split_inclusive(|&b| b == b'\n')).collect();
    let mut out = Vec::with_capacity(held.iter().map(Bytes::len).sum::<usize>() + 64 * lines.len().min(3));
    let tags = [("label", label)];
    // A write of these fixed parts cannot fail but for a server name that
    // could not be a source, which configuration refuses.
    match lines[..] {
        [] if acknowledge => {
            let _ = Outgoing { tags: &tags, source: Some(server), command: "ACK", params: &[] }.write(&mut out);
        }
        [] => {}
        [line] => prepend_tag(&mut out, "label", label, line),
        _ => {
            let start = ["+labeled", "labeled-response"];
            let _ = Outgoing { tags: &tags, source: Some(server), command: "BATCH", params: &start }.write(&mut out);
            for line in lines {
                prepend_tag(&mut out, "batch", REFERENCE, line);
            }
            let end = [&*format!("-{REFERENCE}")];
            let _ = Outgoing { tags: &[], source: Some(server), command: "BATCH", params: &end }.write(&mut out);
        }
    }
    Bytes::from(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labeled_text(held: &[&str], acknowledge: bool) -> String {
        let held: Vec<Bytes> = held.iter().map(|s| Bytes::from(s.to_string())).collect();
        String::from_utf8(labeled("a b;c", "srv", &held, acknowledge).to_vec()).unwrap()
    }

    #[test]
    fn no_line_is_acknowledged_only_when_the_request_is_over() {
        assert_eq!(labeled_text(&[], true), "@label=a\\sb\\:c :srv ACK\r\n");
        assert_eq!(labeled_text(&[], false), "");
    }

    #[test]
    fn one_line_carries_the_label_before_its_own_tags() {
        assert_eq!(
            labeled_text(&[":srv 401 me x :No such nick\r\n"], true),
            "@label=a\\sb\\:c :srv 401 me x :No such nick\r\n"
        );
        assert_eq!(
            labeled_text(&["@time=t :me PRIVMSG #r :hi\r\n"], true),
            "@label=a\\sb\\:c;time=t :me PRIVMSG #r :hi\r\n"
        );
    }

    #[test]
    fn several_lines_come_in_one_batch_even_from_one_render() {
        let text = labeled_text(&[":srv 353 me = #r :me\r\n:srv 366 me #r :End\r\n"], true);
        assert_eq!(
            text,
            "@label=a\\sb\\:c :srv BATCH +labeled labeled-response\r\n\
             @batch=labeled :srv 353 me = #r :me\r\n\
             @batch=labeled :srv 366 me #r :End\r\n\
             :srv BATCH -labeled\r\n"
        );
    }
}
