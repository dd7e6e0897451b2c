//! Splits a client's byte stream into lines, with a hard cap on line length.

/// One framed unit of input.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Frame<'a> {
    /// A complete line without its `\n` or `\r\n`.
    Line(&'a [u8]),
    /// A line exceeded the cap; its bytes were discarded up to and including
    /// the next newline.
    Overlong,
}

/// Accumulates bytes until a newline. Holds at most `max_line` bytes, so a
/// peer that never sends a newline cannot grow it.
#[derive(Debug, Default)]
pub(crate) struct LineFramer {
    buf: Vec<u8>,
    /// Set while discarding the rest of an overlong line.
    skipping: bool,
}

impl LineFramer {
    /// Feeds `input`, calling `on_frame` for each complete line or overlong
    /// line, in order. Bytes after the last newline wait for the next call.
    pub(crate) fn push(&mut self, max_line: usize, mut input: &[u8], mut on_frame: impl FnMut(Frame<'_>)) {
        while !input.is_empty() {
            let newline = input.iter().position(|&b| b == b'\n');
            let (chunk, rest, complete) = match newline {
                Some(i) => (&input[..i], &input[i + 1..], true),
                None => (input, &[][..], false),
            };
            input = rest;
            if self.skipping {
                self.skipping = !complete;
                continue;
            }
            let total = self.buf.len() + chunk.len();
            // A trailing `\r` is part of the line ending (its `\n` may still be on its way), not of the line.
            let ends_in_cr = chunk.last().or(self.buf.last()) == Some(&b'\r');
            let too_long = total - usize::from(ends_in_cr) > max_line;
            if too_long {
                self.buf.clear();
                self.skipping = !complete;
                on_frame(Frame::Overlong);
                continue;
            }
            if !complete {
                self.buf.extend_from_slice(chunk);
                continue;
            }
            let line = if self.buf.is_empty() {
                chunk
            } else {
                self.buf.extend_from_slice(chunk);
                &self.buf[..]
            };
            on_frame(Frame::Line(line.strip_suffix(b"\r").unwrap_or(line)));
            self.buf.clear();
        }
    }

    /// Bytes buffered for an incomplete line.
    #[cfg(test)]
    pub(crate) fn pending(&self) -> usize {
        self.buf.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(framer: &mut LineFramer, max: usize, input: &[u8]) -> Vec<String> {
        let mut out = Vec::new();
        framer.push(max, input, |f| {
            out.push(match f {
                Frame::Line(l) => String::from_utf8_lossy(l).into_owned(),
                Frame::Overlong => "<overlong>".to_owned(),
            })
        });
        out
    }

    #[test]
    fn splits_lines_and_strips_crlf() {
        let mut f = LineFramer::default();
        assert_eq!(frames(&mut f, 10, b"ab\r\ncd\n\nef"), ["ab", "cd", ""]);
        assert_eq!(f.pending(), 2);
        assert_eq!(frames(&mut f, 10, b"g\n"), ["efg"]);
        assert_eq!(f.pending(), 0);
    }

    #[test]
    fn line_split_across_reads_byte_by_byte() {
        let mut f = LineFramer::default();
        let mut all = Vec::new();
        for b in b"hello\r\nworld\n" {
            all.extend(frames(&mut f, 5, std::slice::from_ref(b)));
        }
        assert_eq!(all, ["hello", "world"]);
    }

    #[test]
    fn overlong_line_is_reported_once_and_framer_resynchronises() {
        let mut f = LineFramer::default();
        assert_eq!(frames(&mut f, 4, b"12345"), ["<overlong>"]);
        assert_eq!(f.pending(), 0);
        assert_eq!(frames(&mut f, 4, b"6789"), Vec::<String>::new());
        assert_eq!(frames(&mut f, 4, b"0\nok\n"), ["ok"]);
        assert_eq!(frames(&mut f, 4, b"12345\nabcd\n"), ["<overlong>", "abcd"]);
    }

    #[test]
    fn exact_limit_is_accepted_with_either_line_ending() {
        let mut f = LineFramer::default();
        assert_eq!(frames(&mut f, 4, b"abcd\nabcd\r\n"), ["abcd", "abcd"]);
        assert_eq!(frames(&mut f, 4, b"abcd\r"), Vec::<String>::new());
        assert_eq!(frames(&mut f, 4, b"\n"), ["abcd"]);
    }

    #[test]
    fn buffer_never_exceeds_cap_plus_one() {
        let mut f = LineFramer::default();
        for _ in 0..100 {
            frames(&mut f, 8, b"xxx");
            assert!(f.pending() <= 9);
        }
    }
}
