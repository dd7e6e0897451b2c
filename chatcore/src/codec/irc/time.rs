//! IRCv3 `server-time`: milliseconds since the Unix epoch written as
//! `YYYY-MM-DDThh:mm:ss.sssZ` (UTC), and read back for `CHATHISTORY
//! ... timestamp=`.

use crate::time::{civil_from_days, days_from_civil};

const MS_PER_DAY: u64 = 86_400_000;

/// `unix_ms` as an IRCv3 timestamp.
pub(crate) fn format(unix_ms: u64) -> String {
    let days = unix_ms / MS_PER_DAY;
    let in_day = unix_ms % MS_PER_DAY;
    let (year, month, day) = civil_from_days(days);
    let (hour, minute) = (in_day / 3_600_000, in_day / 60_000 % 60);
    let (second, milli) = (in_day / 1000 % 60, in_day % 1000);
    format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}.{milli:03}Z")
}

/// An IRCv3 timestamp as milliseconds since the epoch: the form
/// [`format`] writes, with the fraction optional. `None` for anything
/// else, or a time before 1970.
pub(crate) fn parse(text: &str) -> Option<u64> {
    let text = text.strip_suffix('Z')?;
    let (date, time) = text.split_once('T')?;
    let mut date_parts = date.splitn(3, '-');
    let year: u64 = number(date_parts.next()?, 4)?;
    let month: u64 = number(date_parts.next()?, 2)?;
    let day: u64 = number(date_parts.next()?, 2)?;
    let (clock, fraction) = time.split_once('.').map_or((time, None), |(c, f)| (c, Some(f)));
    let mut clock_parts = clock.splitn(3, ':');
    let hour: u64 = number(clock_parts.next()?, 2)?;
    let minute: u64 = number(clock_parts.next()?, 2)?;
    let second: u64 = number(clock_parts.next()?, 2)?;
    let milli = match fraction {
        None => 0,
        Some(f) if !f.is_empty() && f.len() <= 9 && f.bytes().all(|b| b.is_ascii_digit()) => {
            // Only the first three digits count; pad short fractions.
            let mut digits = f.bytes().chain(std::iter::repeat(b'0')).take(3);
            digits.try_fold(0u64, |acc, b| Some(acc * 10 + u64::from(b - b'0')))?
        }
        Some(_) => return None,
    };
    if !(1970..=9999).contains(&year)
        || !(1..=12).contains(&month)
        || !(1..=days_in_month(year, month)).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let days = days_from_civil(year, month, day);
    Some(days * MS_PER_DAY + ((hour * 60 + minute) * 60 + second) * 1000 + milli)
}

/// Exactly `width` ASCII digits.
fn number(text: &str, width: usize) -> Option<u64> {
    (text.len() == width && text.bytes().all(|b| b.is_ascii_digit())).then(|| text.parse().ok()).flatten()
}

fn is_leap(year: u64) -> bool {
    year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400))
}

fn days_in_month(year: u64, month: u64) -> u64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_instants() {
        assert_eq!(format(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(format(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(format(1_796_146_513_123), "2026-12-01T17:35:13.123Z");
        assert_eq!(parse("2026-12-01T17:35:13.123Z"), Some(1_796_146_513_123));
        assert_eq!(parse("2026-12-01T17:35:13Z"), Some(1_796_146_513_000));
        assert_eq!(parse("2026-12-01T17:35:13.1Z"), Some(1_796_146_513_100));
    }

    #[test]
    fn refuses_what_is_not_a_timestamp() {
        for bad in [
            "",
            "2026-12-01T17:35:13",
            "2026-13-01T00:00:00Z",
            "2025-02-29T00:00:00Z",
            "1969-12-31T23:59:59Z",
            "2026-12-01 17:35:13Z",
            "2026-1-01T17:35:13Z",
            "2026-12-01T17:35:13.Z",
            "+026-12-01T17:35:13Z",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }

    proptest! {
        #[test]
        fn format_then_parse_is_identity(ms in 0u64..253_402_300_799_999) {
            prop_assert_eq!(parse(&format(ms)), Some(ms));
        }
    }
}
