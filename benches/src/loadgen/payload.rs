//! The message lines loadgen sends and how it recognises them on the way
//! back, plus a splitter that turns socket reads into lines without copying
//! more than a partial line.
//!
//! A message is `lg#<seq>,<intended_ns>;` padded with `x` to the requested
//! size, then `\n`. The marker may appear anywhere in a received line, so
//! the same parser works for chatd's `[room] nick: text` and for servers
//! that prefix lines differently.

/// What every loadgen message starts with.
pub const MARK: &[u8] = b"lg#";

/// Appends one message line: sequence number, intended send time (ns since
/// the run's epoch), padding to `size` bytes of text, and a newline. A
/// `size` smaller than the header gives an unpadded line.
pub fn encode(seq: u64, intended_ns: u64, size: usize, out: &mut Vec<u8>) {
    let start = out.len();
    out.extend_from_slice(MARK);
    push_decimal(seq, out);
    out.push(b',');
    push_decimal(intended_ns, out);
    out.push(b';');
    let written = out.len() - start;
    out.resize(out.len() + size.saturating_sub(written), b'x');
    out.push(b'\n');
}

fn push_decimal(mut n: u64, out: &mut Vec<u8>) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[at..]);
}

/// The sequence number and intended send time in a received line, if it
/// carries a loadgen message.
pub fn decode(line: &[u8]) -> Option<(u64, u64)> {
    let at = find_mark(line)?;
    let rest = &line[at + MARK.len()..];
    let (seq, rest) = parse_decimal(rest)?;
    let rest = rest.strip_prefix(b",")?;
    let (ns, rest) = parse_decimal(rest)?;
    rest.starts_with(b";").then_some((seq, ns))
}

fn find_mark(line: &[u8]) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = line[from..].iter().position(|&b| b == MARK[0]) {
        let at = from + i;
        if line[at..].starts_with(MARK) {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

fn parse_decimal(bytes: &[u8]) -> Option<(u64, &[u8])> {
    let len = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
    if len == 0 {
        return None;
    }
    let n = bytes[..len].iter().try_fold(0u64, |n, &b| n.checked_mul(10)?.checked_add(u64::from(b - b'0')))?;
    Some((n, &bytes[len..]))
}

/// Joins socket reads into complete lines. Only the bytes of a line split
/// across reads are copied; everything else is handed out in place.
#[derive(Debug, Default)]
pub struct Lines {
    partial: Vec<u8>,
}

impl Lines {
    /// Calls `on_line` for each complete line (without `\n` or `\r\n`) in
    /// `partial + data`, keeping the bytes after the last newline.
    pub fn feed(&mut self, mut data: &[u8], mut on_line: impl FnMut(&[u8])) {
        if !self.partial.is_empty() {
            match data.iter().position(|&b| b == b'\n') {
                Some(nl) => {
                    self.partial.extend_from_slice(&data[..nl]);
                    on_line(trim_cr(&self.partial));
                    self.partial.clear();
                    data = &data[nl + 1..];
                }
                None => {
                    self.partial.extend_from_slice(data);
                    return;
                }
            }
        }
        let mut lines = data.split(|&b| b == b'\n');
        let mut pending = lines.next();
        for next in lines {
            if let Some(line) = pending {
                on_line(trim_cr(line));
            }
            pending = Some(next);
        }
        if let Some(tail) = pending {
            self.partial.extend_from_slice(tail);
        }
    }

    /// Bytes waiting for the rest of their line.
    pub fn pending(&self) -> usize {
        self.partial.len()
    }
}

fn trim_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_to_the_requested_size_and_decodes_back() {
        let mut out = Vec::new();
        encode(42, 1_234_567_890, 64, &mut out);
        assert_eq!(out.len(), 65);
        assert!(out.starts_with(b"lg#42,1234567890;xxx"));
        assert_eq!(out.last(), Some(&b'\n'));
        assert_eq!(decode(&out[..64]), Some((42, 1_234_567_890)));
        let line = [b"[room] lg1n7: ".as_slice(), &out[..64]].concat();
        assert_eq!(decode(&line), Some((42, 1_234_567_890)));
    }

    #[test]
    fn small_sizes_are_not_truncated() {
        let mut out = Vec::new();
        encode(u64::MAX, 0, 4, &mut out);
        assert_eq!(decode(&out), Some((u64::MAX, 0)));
        assert_eq!(decode(b"lg#18446744073709551616,0;"), None);
    }

    #[test]
    fn lines_without_a_message_are_not_decoded() {
        for line in [&b"* lg1 joined room"[..], b"lg#", b"lg#12", b"lg#1,2", b"lg#a,2;", b"l lg lg#5,6x;", b""] {
            assert_eq!(decode(line), None, "{:?}", String::from_utf8_lossy(line));
        }
        assert_eq!(decode(b"llg#5,6;"), Some((5, 6)));
    }

    #[test]
    fn lines_split_anywhere_come_out_whole() {
        let input = b"one\r\ntwo\n\nthree\nfour";
        for cut in 0..input.len() {
            let mut lines = Lines::default();
            let mut got = Vec::new();
            lines.feed(&input[..cut], |l| got.push(l.to_vec()));
            lines.feed(&input[cut..], |l| got.push(l.to_vec()));
            assert_eq!(got, [&b"one"[..], b"two", b"", b"three"], "cut at {cut}");
            assert_eq!(lines.pending(), 4);
        }
    }
}
