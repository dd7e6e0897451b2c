//! Room modes, in IRC's letters because IRC users know them and every
//! protocol can write them: `+k KEY` (joining needs the key), `+l N` (at
//! most N members), `+i` (joining needs an invitation), `+m` (only
//! operators and voiced members speak), `+s` (the room is not listed to
//! non-members), `+t` (only operators set the topic), `+n` (only members
//! speak; on unless an operator turns it off), `+b MASK` (a ban of
//! `nick!user@host`, or `~a:ACCOUNT`, an account's users), and the
//! member statuses `+o NICK` (operator) and `+v NICK` (voice).
//!
//! This file parses a mode change from its letters and arguments and holds
//! a room's modes; `moderation.rs` applies them.

use std::fmt::Write;

use crate::error::Rejection;
use crate::names::NameKey;
use crate::output::ClientId;
use crate::record::StoredModes;

/// The most bans one room keeps.
pub(crate) const MAX_BANS: usize = 32;
/// The longest key, in bytes (RFC 2812's 23).
pub(crate) const MAX_KEY_LEN: usize = 23;
/// The longest ban mask, in bytes.
pub(crate) const MAX_MASK_LEN: usize = 100;
/// The most accounts one room remembers as operators.
pub(crate) const MAX_OPERATORS: usize = 32;

/// The most invitations one room holds; the oldest goes first.
pub(crate) const MAX_INVITED: usize = 64;

/// A room's modes. Member statuses (`+o`, `+v`) live with the members.
/// Kept small, as every room has one: the ban and invitation lists, which
/// most rooms never use, are allocated on first use.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct RoomModes {
    pub(crate) key: Option<Box<str>>,
    pub(crate) limit: Option<u32>,
    pub(crate) invite_only: bool,
    pub(crate) moderated: bool,
    pub(crate) secret: bool,
    pub(crate) topic_locked: bool,
    /// `-n`: non-members may send messages to the room.
    pub(crate) external_messages: bool,
    lists: Option<Box<Lists>>,
}

/// A room's bans, invitations and remembered operators.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Lists {
    /// Ban masks (`nick!user@host` with `*` and `?`), at most [`MAX_BANS`].
    bans: Vec<Box<str>>,
    /// Clients invited in (past `+i`, a ban or a key) who have not joined
    /// yet, oldest first; bounded in `moderation.rs`. By client, not by
    /// nickname: once the invited user is gone, whoever takes the name
    /// next is not invited.
    invited: Vec<ClientId>,
    /// Accounts made operators whenever they join, oldest first, at most
    /// [`MAX_OPERATORS`].
    operators: Vec<NameKey>,
}

impl RoomModes {
    /// The modes a new room starts with: `+t` when an account owns it, so
    /// its topic is the owner's (and its operators'), as before modes.
    pub(crate) fn new(owned: bool) -> Self {
        RoomModes { topic_locked: owned, ..RoomModes::default() }
    }

    pub(crate) fn bans(&self) -> &[Box<str>] {
        self.lists.as_ref().map_or(&[], |l| &l.bans)
    }

    pub(crate) fn bans_mut(&mut self) -> &mut Vec<Box<str>> {
        &mut self.lists.get_or_insert_default().bans
    }

    pub(crate) fn invited(&self) -> &[ClientId] {
        self.lists.as_ref().map_or(&[], |l| &l.invited)
    }

    pub(crate) fn invited_mut(&mut self) -> &mut Vec<ClientId> {
        &mut self.lists.get_or_insert_default().invited
    }

    pub(crate) fn operators(&self) -> &[NameKey] {
        self.lists.as_ref().map_or(&[], |l| &l.operators)
    }

    pub(crate) fn operators_mut(&mut self) -> &mut Vec<NameKey> {
        &mut self.lists.get_or_insert_default().operators
    }

    /// What a restart keeps of these modes; `name_of` spells an account's
    /// name as registered.
    pub(crate) fn stored(&self, name_of: impl Fn(&NameKey) -> Box<str>) -> StoredModes {
        StoredModes {
            invite_only: self.invite_only,
            moderated: self.moderated,
            secret: self.secret,
            topic_locked: self.topic_locked,
            external_messages: self.external_messages,
            key: self.key.clone(),
            limit: self.limit,
            bans: self.bans().to_vec(),
            operators: self.operators().iter().map(name_of).collect(),
        }
    }

    /// Modes as stored, kept within today's limits (a store may hold more
    /// bans or operators than this build allows).
    pub(crate) fn from_stored(stored: StoredModes) -> Self {
        let StoredModes {
            invite_only,
            moderated,
            secret,
            topic_locked,
            external_messages,
            key,
            limit,
            bans,
            operators,
        } = stored;
        let mut modes = RoomModes {
            key,
            limit: limit.filter(|&n| n > 0),
            invite_only,
            moderated,
            secret,
            topic_locked,
            external_messages,
            lists: None,
        };
        if !bans.is_empty() {
            *modes.bans_mut() = bans.into_iter().take(MAX_BANS).collect();
        }
        if !operators.is_empty() {
            let mut keys: Vec<NameKey> = Vec::new();
            for key in operators.iter().map(|name| NameKey::of(name)) {
                if !keys.contains(&key) && keys.len() < MAX_OPERATORS {
                    keys.push(key);
                }
            }
            *modes.operators_mut() = keys;
        }
        modes
    }

    /// What changed from `before` to these modes, as the changes an
    /// operator would have made: flags, key, limit, then bans removed and
    /// added. Member statuses and remembered operators are left out: they
    /// are about members, and a change of them made elsewhere is about
    /// someone else's session.
    pub(crate) fn changes_from(&self, before: &RoomModes) -> Vec<ModeChange> {
        let flags = [
            (Flag::InviteOnly, before.invite_only, self.invite_only),
            (Flag::Moderated, before.moderated, self.moderated),
            (Flag::NoExternal, !before.external_messages, !self.external_messages),
            (Flag::Secret, before.secret, self.secret),
            (Flag::TopicLocked, before.topic_locked, self.topic_locked),
        ];
        let mut changes: Vec<ModeChange> = flags
            .into_iter()
            .filter(|(_, was, is)| was != is)
            .map(|(flag, _, on)| ModeChange::Flag(flag, on))
            .collect();
        if self.key != before.key {
            changes.push(ModeChange::Key(self.key.as_deref().map(String::from)));
        }
        if self.limit != before.limit {
            changes.push(ModeChange::Limit(self.limit));
        }
        let has = |bans: &[Box<str>], mask: &str| bans.iter().any(|b| b.eq_ignore_ascii_case(mask));
        for mask in before.bans().iter().filter(|mask| !has(self.bans(), mask)) {
            changes.push(ModeChange::Ban(false, mask.to_string()));
        }
        for mask in self.bans().iter().filter(|mask| !has(before.bans(), mask)) {
            changes.push(ModeChange::Ban(true, mask.to_string()));
        }
        changes
    }

    /// The modes as IRC writes them in 324: letters, then the arguments
    /// of those that take one (`+lnt 10`). The key is shown to members
    /// only.
    pub(crate) fn describe(&self, show_key: bool) -> String {
        let mut letters = String::from("+");
        let mut args = String::new();
        let flags = [
            ('i', self.invite_only),
            ('m', self.moderated),
            ('n', !self.external_messages),
            ('s', self.secret),
            ('t', self.topic_locked),
        ];
        for (letter, on) in flags {
            if on {
                letters.push(letter);
            }
        }
        if let Some(key) = &self.key {
            letters.push('k');
            let _ = write!(args, " {}", if show_key { key } else { "*" });
        }
        if let Some(limit) = self.limit {
            letters.push('l');
            let _ = write!(args, " {limit}");
        }
        letters + &args
    }
}

/// A flag mode, without an argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flag {
    InviteOnly,
    Moderated,
    NoExternal,
    Secret,
    TopicLocked,
}

/// One change a `/mode` line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ModeChange {
    Flag(Flag, bool),
    /// `+k KEY` or `-k`.
    Key(Option<String>),
    /// `+l N` or `-l`.
    Limit(Option<u32>),
    Ban(bool, String),
    /// `+b` without a mask: show the ban list.
    ListBans,
    Operator(bool, String),
    Voice(bool, String),
}

impl ModeChange {
    /// The change as IRC writes it: its sign and letter, and its argument.
    pub(crate) fn describe(&self) -> (String, Option<String>) {
        let sign = |on: bool| if on { '+' } else { '-' };
        match self {
            ModeChange::Flag(flag, on) => {
                let letter = match flag {
                    Flag::InviteOnly => 'i',
                    Flag::Moderated => 'm',
                    Flag::NoExternal => 'n',
                    Flag::Secret => 's',
                    Flag::TopicLocked => 't',
                };
                (format!("{}{letter}", sign(*on)), None)
            }
            ModeChange::Key(key) => (format!("{}k", sign(key.is_some())), key.clone()),
            ModeChange::Limit(Some(limit)) => ("+l".into(), Some(limit.to_string())),
            ModeChange::Limit(None) => ("-l".into(), None),
            ModeChange::Ban(on, mask) => (format!("{}b", sign(*on)), Some(mask.clone())),
            ModeChange::ListBans => ("+b".into(), None),
            ModeChange::Operator(on, nick) => (format!("{}o", sign(*on)), Some(nick.clone())),
            ModeChange::Voice(on, nick) => (format!("{}v", sign(*on)), Some(nick.clone())),
        }
    }
}

/// Parses mode letters (`+kl-i`) and their arguments into changes. An
/// argument a letter needs but lacks fails with `Usage`; a letter chatd
/// does not know, with `UnknownMode`; a bad key or limit, with
/// `InvalidModeParam` (whose room the caller fills in).
pub(crate) fn parse(letters: &str, args: &[&str], usage: &'static str) -> Result<Vec<ModeChange>, Rejection> {
    let mut on = true;
    let mut args = args.iter().copied();
    let mut changes = Vec::new();
    for letter in letters.chars() {
        let mut arg = || args.next().ok_or(Rejection::Usage(usage));
        let change = match letter {
            '+' => {
                on = true;
                continue;
            }
            '-' => {
                on = false;
                continue;
            }
            'i' => ModeChange::Flag(Flag::InviteOnly, on),
            'm' => ModeChange::Flag(Flag::Moderated, on),
            'n' => ModeChange::Flag(Flag::NoExternal, on),
            's' => ModeChange::Flag(Flag::Secret, on),
            't' => ModeChange::Flag(Flag::TopicLocked, on),
            'k' if on => ModeChange::Key(Some(valid_key(arg()?)?)),
            // `-k` takes no argument here (clients that send the old key
            // leave one over, which is ignored).
            'k' => ModeChange::Key(None),
            'l' if on => {
                let limit = arg()?;
                match limit.parse::<u32>() {
                    Ok(n) if n > 0 => ModeChange::Limit(Some(n)),
                    _ => {
                        return Err(Rejection::InvalidModeParam {
                            room: Box::default(),
                            mode: 'l',
                            reason: "a limit is a number above 0",
                        });
                    }
                }
            }
            'l' => ModeChange::Limit(None),
            'b' => match args.next() {
                Some(mask) => ModeChange::Ban(on, valid_ban(mask)?),
                None => ModeChange::ListBans,
            },
            'o' => ModeChange::Operator(on, arg()?.to_owned()),
            'v' => ModeChange::Voice(on, arg()?.to_owned()),
            other => return Err(Rejection::UnknownMode(other)),
        };
        changes.push(change);
    }
    Ok(changes)
}

fn valid_key(key: &str) -> Result<String, Rejection> {
    let reason = if key.is_empty() || key.contains(' ') {
        "a key is one word"
    } else if key.len() > MAX_KEY_LEN {
        "a key is at most 23 bytes"
    } else if key.chars().any(|c| c.is_control() || c == ',') {
        "a key has no commas or control characters"
    } else {
        return Ok(key.to_owned());
    };
    Err(Rejection::InvalidModeParam { room: Box::default(), mode: 'k', reason })
}

/// The prefix of an account ban (the extban spelling of ergo and
/// InspIRCd): `~a:NAME` bans whoever is logged in to an account matching
/// `NAME`, whatever its nickname or host.
const ACCOUNT_BAN: &str = "~a:";

/// A ban as kept: a mask completed to `nick!user@host`, or an account ban.
fn valid_ban(mask: &str) -> Result<String, Rejection> {
    let reason = if mask.len() > MAX_MASK_LEN {
        "a ban mask is at most 100 bytes"
    } else if mask.strip_prefix(ACCOUNT_BAN).is_some_and(str::is_empty) {
        "an account ban names the account: ~a:NAME"
    } else if mask.starts_with(ACCOUNT_BAN) {
        return Ok(mask.to_owned());
    } else if mask.starts_with('~') {
        "the only extended ban is ~a:ACCOUNT"
    } else {
        return Ok(normal_mask(mask));
    };
    Err(Rejection::InvalidModeParam { room: Box::default(), mode: 'b', reason })
}

/// Whether `ban` holds a user whose mask is `mask` (`nick!user@host`) and
/// who is logged in to `account` (its case-folded name), if any.
pub(crate) fn ban_matches(ban: &str, mask: &str, account: Option<&str>) -> bool {
    match ban.strip_prefix(ACCOUNT_BAN) {
        Some(name) => account.is_some_and(|account| mask_matches(name, account)),
        None => mask_matches(ban, mask),
    }
}

/// A ban mask completed to `nick!user@host`: `bob` bans `bob!*@*`.
fn normal_mask(mask: &str) -> String {
    match (mask.contains('!'), mask.contains('@')) {
        (false, false) => format!("{mask}!*@*"),
        (true, false) => format!("{mask}@*"),
        (false, true) => format!("*!{mask}"),
        (true, true) => mask.to_owned(),
    }
}

/// Whether `mask` (`*` any run, `?` any one character) matches `text`,
/// ignoring ASCII case as nicknames do.
pub(crate) fn mask_matches(mask: &str, text: &str) -> bool {
    let (mask, text) = (mask.as_bytes(), text.as_bytes());
    // The classic two-pointer glob: remember the last `*` and retry from it.
    let (mut m, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if m < mask.len() && (mask[m] == b'?' || mask[m].eq_ignore_ascii_case(&text[t])) {
            m += 1;
            t += 1;
        } else if m < mask.len() && mask[m] == b'*' {
            star = Some((m, t));
            m += 1;
        } else if let Some((star_m, star_t)) = star {
            m = star_m + 1;
            t = star_t + 1;
            star = Some((star_m, star_t + 1));
        } else {
            return false;
        }
    }
    mask[m..].iter().all(|&b| b == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters_and_arguments_become_changes() {
        let changes = parse("+kl-i", &["beer", "10"], "u").unwrap();
        assert_eq!(
            changes,
            [
                ModeChange::Key(Some("beer".into())),
                ModeChange::Limit(Some(10)),
                ModeChange::Flag(Flag::InviteOnly, false)
            ]
        );
        assert_eq!(parse("+b", &[], "u").unwrap(), [ModeChange::ListBans]);
        assert_eq!(parse("+b", &["bob"], "u").unwrap(), [ModeChange::Ban(true, "bob!*@*".into())]);
        assert_eq!(parse("-k", &[], "u").unwrap(), [ModeChange::Key(None)]);
        assert_eq!(parse("+k", &[], "u").unwrap_err(), Rejection::Usage("u"));
        assert_eq!(parse("+x", &[], "u").unwrap_err(), Rejection::UnknownMode('x'));
        for bad in ["with space", "", &"long".repeat(10)] {
            assert!(matches!(parse("+k", &[bad], "u"), Err(Rejection::InvalidModeParam { mode: 'k', .. })), "{bad:?}");
        }
        assert!(matches!(parse("+l", &["0"], "u"), Err(Rejection::InvalidModeParam { mode: 'l', .. })));
    }

    #[test]
    fn account_bans_match_accounts_only() {
        assert_eq!(parse("+b", &["~a:Troll"], "u").unwrap(), [ModeChange::Ban(true, "~a:Troll".into())]);
        for bad in ["~a:", "~q:x", "~"] {
            assert!(matches!(parse("+b", &[bad], "u"), Err(Rejection::InvalidModeParam { mode: 'b', .. })), "{bad}");
        }
        assert!(ban_matches("~a:troll", "x!x@h", Some("troll")));
        assert!(ban_matches("~a:TR*", "x!x@h", Some("troll")));
        assert!(!ban_matches("~a:troll", "troll!troll@h", None), "a guest under the name is not the account");
        assert!(ban_matches("troll!*@*", "troll!troll@h", None));
    }

    #[test]
    fn masks_match_like_irc() {
        assert!(mask_matches("bar!*@*", "Bar!Bar@chatd"));
        assert!(mask_matches("*!*@chatd", "x!y@chatd"));
        assert!(mask_matches("b?r!*@*", "bar!bar@chatd"));
        assert!(!mask_matches("bar!*@*", "barn!barn@chatd"));
        assert!(!mask_matches("*x", "abc"));
        assert!(mask_matches("a*b*c", "aXXbYYc"));
    }

    #[test]
    fn modes_are_described_in_irc_order() {
        let modes = RoomModes { key: Some("k".into()), limit: Some(5), moderated: true, ..RoomModes::new(true) };
        assert!(modes.bans().is_empty() && modes.invited().is_empty());
        assert_eq!(modes.describe(true), "+mntkl k 5");
        assert_eq!(modes.describe(false), "+mntkl * 5");
    }
}
