//! Input that is refused before any command runs: overlong lines, bad
//! UTF-8, control characters, unknown commands, blank lines.

use super::{rejected, rejected_bytes};
use crate::Config;
use crate::error::Rejection;
use crate::sim::Sim;

fn in_room(config: Config) -> (Sim, crate::ClientId, crate::ClientId) {
    let mut sim = Sim::new(config);
    let a = sim.connect_as("alice");
    let b = sim.connect_as("bob");
    sim.send(a, "/create rust");
    sim.send(b, "/join rust");
    sim.clear();
    (sim, a, b)
}

#[test]
fn overlong_line_is_discarded_once_and_the_next_line_works() {
    let (mut sim, a, b) = in_room(super::relaxed().with_max_line_bytes(16));
    let too_long = "! line too long (over 16 bytes); it was discarded";
    // The error comes as soon as the cap is passed, before the newline.
    assert_eq!(rejected_bytes(&mut sim, a, b"0123456789abcdefX"), [too_long]);
    assert_eq!(rejected_bytes(&mut sim, a, b"more of the same line"), Vec::<String>::new());
    sim.input(a, b" still\nafter\n").unwrap();
    assert_eq!(sim.take(a), Vec::<String>::new());
    assert_eq!(sim.take(b), ["[rust] alice: after"]);
    // Exactly the cap is fine, with `\n` or `\r\n`.
    sim.input(a, b"0123456789abcdef\n0123456789abcdef\r\n").unwrap();
    assert_eq!(sim.take(b), ["[rust] alice: 0123456789abcdef", "[rust] alice: 0123456789abcdef"]);
    assert_eq!(rejected(&mut sim, a, "0123456789abcdefg"), [too_long]);
}

#[test]
fn lines_may_arrive_in_pieces() {
    let (mut sim, a, b) = in_room(super::relaxed());
    for byte in b"hel" {
        sim.input(a, std::slice::from_ref(byte)).unwrap();
    }
    assert_eq!(sim.take(b), Vec::<String>::new());
    sim.input(a, b"lo\r").unwrap();
    sim.input(a, b"\nsecond\nthi").unwrap();
    assert_eq!(sim.take(b), ["[rust] alice: hello", "[rust] alice: second"]);
    sim.input(a, b"rd\n").unwrap();
    assert_eq!(sim.take(b), ["[rust] alice: third"]);
}

#[test]
fn invalid_utf8_is_refused() {
    let (mut sim, a, b) = in_room(super::relaxed());
    let reply = ["! line is not valid UTF-8; it was discarded"];
    assert_eq!(rejected_bytes(&mut sim, a, b"caf\xe9\n"), reply);
    assert_eq!(rejected_bytes(&mut sim, a, b"/nick \xff\xfe\n"), reply);
    assert_eq!(rejected_bytes(&mut sim, a, b"\xc3\n"), reply);
    assert_eq!(sim.take(b), Vec::<String>::new());
    sim.send(a, "café ✓");
    assert_eq!(sim.take(b), ["[rust] alice: café ✓"]);
}

#[test]
fn control_characters_are_refused() {
    let (mut sim, a, b) = in_room(super::relaxed());
    let reply = ["! control characters are not allowed; line discarded"];
    for line in ["\x1b[2Jgotcha", "bell\x07", "nul\0", "a\rb", "/nick x\x7f", "del\u{9b}", "/quit \x01"] {
        assert_eq!(rejected(&mut sim, a, line), reply, "{line:?}");
    }
    assert_eq!(sim.take(b), Vec::<String>::new());
    assert!(sim.is_connected(a));
}

#[test]
fn unknown_commands_name_help() {
    let (mut sim, a, _) = in_room(super::relaxed());
    assert_eq!(
        rejected(&mut sim, a, "/frobnicate now"),
        [r#"! unknown command "/frobnicate"; type /help for the list"#]
    );
    assert_eq!(rejected(&mut sim, a, "/"), [r#"! unknown command "/"; type /help for the list"#]);
    assert_eq!(rejected(&mut sim, a, "/ nick"), [r#"! unknown command "/"; type /help for the list"#]);
    assert_eq!(rejected(&mut sim, a, "/Über"), [r#"! unknown command "/Über"; type /help for the list"#]);
}

#[test]
fn blank_lines_are_ignored() {
    let (mut sim, a, b) = in_room(super::relaxed());
    assert_eq!(rejected_bytes(&mut sim, a, b"\n\r\n   \n\t\n"), Vec::<String>::new());
    assert_eq!(sim.take(b), Vec::<String>::new());
}

/// The position of each variant in the list below. Exhaustive, so a new
/// variant does not compile until it is listed.
fn position(rejection: &Rejection) -> usize {
    use Rejection as R;
    match rejection {
        R::LineTooLong { .. } => 0,
        R::InvalidUtf8 => 1,
        R::ControlCharacter => 2,
        R::UnknownCommand(_) => 3,
        R::Usage(_) => 4,
        R::BadJson { .. } => 5,
        R::NickInvalid(_) => 6,
        R::NickTaken(_) => 7,
        R::RoomInvalid(_) => 8,
        R::RoomExists(_) => 9,
        R::NoSuchRoom(_) => 10,
        R::RoomLimit { .. } => 11,
        R::TooManyRooms { .. } => 12,
        R::AlreadyInRoom(_) => 13,
        R::NotInRoom(_) => 14,
        R::InLobby => 15,
        R::RoomRequired => 16,
        R::NoSuchNick(_) => 17,
        R::Flood => 18,
        R::NickRegistered(_) => 19,
        R::NickLocked(_) => 20,
        R::AccountExists(_) => 21,
        R::AccountLimit { .. } => 22,
        R::PasswordMismatch => 23,
        R::PasswordTooShort { .. } => 24,
        R::LoginFailed { .. } => 25,
        R::LockedOut { .. } => 26,
        R::TooManyRegistrations { .. } => 27,
        R::LoginRequired => 28,
        R::TlsRequired(_) => 60,
        R::BannedNickChange { .. } => 62,
        R::AuthInProgress => 29,
        R::AlreadyLoggedIn(_) => 30,
        R::HashFailed => 31,
        R::BlockedByRecipient(_) => 32,
        R::MailboxFull(_) => 33,
        R::NeverSeen(_) => 34,
        R::CannotBlockSelf => 35,
        R::BlockLimit { .. } => 36,
        R::NotBlocked(_) => 37,
        R::StorageUnavailable => 38,
        R::ServerBusy => 39,
        R::TooManyRoomsCreated { .. } => 40,
        R::NotRoomOwner(_) => 41,
        R::OfflineNeedsAccount(_) => 42,
        R::LayoutCharacter => 43,
        R::NotTopicSetter(_) => 44,
        R::TopicTooLong { .. } => 45,
        R::AccountBusy => 46,
        R::HistoryNeedsAccount => 47,
        R::NoSuchAccount(_) => 48,
        R::NotOperator(_) => 49,
        R::NotOnChannel { .. } => 50,
        R::AlreadyOnChannel { .. } => 51,
        R::Banned(_) => 52,
        R::InviteOnly(_) => 53,
        R::BadRoomKey(_) => 54,
        R::RoomFull(_) => 55,
        R::CannotSpeak(_) => 56,
        R::UnknownMode(_) => 57,
        R::InvalidModeParam { .. } => 58,
        R::BanListFull { .. } => 59,
        R::OperatorListFull { .. } => 61,
        R::BadRequestId => 63,
        R::NotRegistered => 64,
        R::AlreadyRegistered => 65,
        R::NoNicknameGiven => 66,
        R::NoOrigin => 67,
        R::NoRecipient(_) => 68,
        R::NoTextToSend => 69,
        R::IrcLineTooLong => 70,
        R::MalformedLine => 71,
        R::UnknownIrcCommand(_) => 72,
        R::NotAChannel(_) => 73,
        R::TooManyTargets { .. } => 74,
        R::InvalidCapCommand(_) => 75,
        R::UsersModeOther => 76,
        R::ServerPasswordIncorrect => 77,
        R::SaslAborted => 78,
        R::SaslAlreadyAuthenticated => 79,
        R::SaslMechanism => 80,
        R::SaslInProgress => 81,
        R::SaslTooLong => 82,
        R::SaslFailed(_) => 83,
        R::ChatHistoryParams(_) => 84,
        R::ChatHistoryTarget => 85,
        R::CtcpUnsupported => 86,
        R::UnknownMessage { .. } => 87,
        R::DeleteForbidden(_) => 88,
        R::AlreadyDeleted { .. } => 89,
        R::NothingToDelete(_) => 90,
        R::TokenRefused { .. } => 91,
        R::NoSuchToken(_) => 92,
        R::PasswordLikeToken => 93,
        R::TokensDisabled => 94,
        R::NotServerOperator => 95,
        R::BroadcastLimit { .. } => 96,
        R::NoOperHost => 97,
        R::OperPasswordMismatch => 98,
        R::ReadNeedsAccount => 99,
        R::ReadMarkerLimit { .. } => 100,
        R::MarkReadParams(_) => 101,
        R::SessionLimit { .. } => 102,
        R::AlwaysOnNeedsAccount => 103,
        R::AlwaysOnForced { .. } => 104,
        R::NoSuchMsgid { .. } => 105,
        R::MarkReadNeedsTarget => 106,
    }
}

#[test]
fn every_rejection_has_a_stable_code() {
    use crate::NameError;
    let all = [
        (Rejection::LineTooLong { limit: 1 }, "line_too_long"),
        (Rejection::InvalidUtf8, "invalid_utf8"),
        (Rejection::ControlCharacter, "control_character"),
        (Rejection::UnknownCommand("/x".into()), "unknown_command"),
        (Rejection::Usage("/x"), "usage"),
        (Rejection::BadJson { column: 1 }, "bad_json"),
        (Rejection::NickInvalid(NameError::Empty), "nick_invalid"),
        (Rejection::NickTaken("a".into()), "nick_taken"),
        (Rejection::RoomInvalid(NameError::Empty), "room_invalid"),
        (Rejection::RoomExists("r".into()), "room_exists"),
        (Rejection::NoSuchRoom("r".into()), "no_such_room"),
        (Rejection::RoomLimit { max: 1 }, "room_limit"),
        (Rejection::TooManyRooms { max: 1 }, "too_many_rooms"),
        (Rejection::AlreadyInRoom("r".into()), "already_in_room"),
        (Rejection::NotInRoom("r".into()), "not_in_room"),
        (Rejection::InLobby, "in_lobby"),
        (Rejection::RoomRequired, "room_required"),
        (Rejection::NoSuchNick("n".into()), "no_such_nick"),
        (Rejection::Flood, "flood"),
        (Rejection::NickRegistered("n".into()), "nick_registered"),
        (Rejection::NickLocked("n".into()), "nick_locked"),
        (Rejection::AccountExists("n".into()), "account_exists"),
        (Rejection::AccountLimit { max: 1 }, "account_limit"),
        (Rejection::PasswordMismatch, "password_mismatch"),
        (Rejection::PasswordTooShort { min: 8 }, "password_too_short"),
        (Rejection::LoginFailed { attempts_left: 1 }, "login_failed"),
        (Rejection::LockedOut { retry_after_secs: 1 }, "locked_out"),
        (Rejection::TooManyRegistrations { retry_after_secs: 1 }, "too_many_registrations"),
        (Rejection::LoginRequired, "login_required"),
        (Rejection::AuthInProgress, "auth_in_progress"),
        (Rejection::AlreadyLoggedIn("n".into()), "already_logged_in"),
        (Rejection::HashFailed, "hash_failed"),
        (Rejection::BlockedByRecipient("n".into()), "blocked"),
        (Rejection::MailboxFull("n".into()), "mailbox_full"),
        (Rejection::NeverSeen("n".into()), "never_seen"),
        (Rejection::CannotBlockSelf, "cannot_block_self"),
        (Rejection::BlockLimit { max: 1 }, "block_limit"),
        (Rejection::NotBlocked("n".into()), "not_blocked"),
        (Rejection::StorageUnavailable, "storage_unavailable"),
        (Rejection::ServerBusy, "server_busy"),
        (Rejection::TooManyRoomsCreated { retry_after_secs: 1 }, "too_many_rooms_created"),
        (Rejection::NotRoomOwner("r".into()), "not_room_owner"),
        (Rejection::OfflineNeedsAccount("a".into()), "offline_needs_account"),
        (Rejection::LayoutCharacter, "layout_character"),
        (Rejection::NotTopicSetter("r".into()), "not_topic_setter"),
        (Rejection::TopicTooLong { max: 1 }, "topic_too_long"),
        (Rejection::AccountBusy, "account_busy"),
        (Rejection::HistoryNeedsAccount, "history_needs_account"),
        (Rejection::NoSuchAccount("n".into()), "no_such_account"),
        (Rejection::NotOperator("r".into()), "not_operator"),
        (Rejection::NotOnChannel { nick: "n".into(), room: "r".into() }, "not_on_channel"),
        (Rejection::AlreadyOnChannel { nick: "n".into(), room: "r".into() }, "already_on_channel"),
        (Rejection::Banned("r".into()), "banned"),
        (Rejection::InviteOnly("r".into()), "invite_only"),
        (Rejection::BadRoomKey("r".into()), "bad_room_key"),
        (Rejection::RoomFull("r".into()), "room_full"),
        (Rejection::CannotSpeak("r".into()), "cannot_speak"),
        (Rejection::UnknownMode('x'), "unknown_mode"),
        (Rejection::InvalidModeParam { room: "r".into(), mode: 'k', reason: "r" }, "invalid_mode_param"),
        (Rejection::BanListFull { room: "r".into(), max: 1 }, "ban_list_full"),
        (Rejection::TlsRequired("port 6697".into()), "tls_required"),
        (Rejection::OperatorListFull { room: "r".into(), max: 1 }, "operator_list_full"),
        (Rejection::BannedNickChange { nick: "n".into(), room: "r".into() }, "banned_nick_change"),
        (Rejection::BadRequestId, "bad_id"),
        (Rejection::NotRegistered, "not_registered"),
        (Rejection::AlreadyRegistered, "already_registered"),
        (Rejection::NoNicknameGiven, "no_nickname_given"),
        (Rejection::NoOrigin, "no_origin"),
        (Rejection::NoRecipient("PRIVMSG"), "no_recipient"),
        (Rejection::NoTextToSend, "no_text"),
        (Rejection::IrcLineTooLong, "irc_line_too_long"),
        (Rejection::MalformedLine, "malformed_line"),
        (Rejection::UnknownIrcCommand("X".into()), "unknown_irc_command"),
        (Rejection::NotAChannel("r".into()), "not_a_channel"),
        (Rejection::TooManyTargets { target: "n".into(), command: "KICK", max: 4 }, "too_many_targets"),
        (Rejection::InvalidCapCommand("X".into()), "invalid_cap_command"),
        (Rejection::UsersModeOther, "users_mode_other"),
        (Rejection::ServerPasswordIncorrect, "server_password_incorrect"),
        (Rejection::SaslAborted, "sasl_aborted"),
        (Rejection::SaslAlreadyAuthenticated, "sasl_already_authenticated"),
        (Rejection::SaslMechanism, "sasl_mechanism"),
        (Rejection::SaslInProgress, "sasl_in_progress"),
        (Rejection::SaslTooLong, "sasl_too_long"),
        (Rejection::SaslFailed(crate::credentials::PlainError::NotBase64), "sasl_failed"),
        (Rejection::ChatHistoryParams("x"), "chathistory_params"),
        (Rejection::ChatHistoryTarget, "chathistory_target"),
        (Rejection::CtcpUnsupported, "ctcp_unsupported"),
        (Rejection::UnknownMessage { room: "r".into(), seq: 1, kept: 1 }, "unknown_message"),
        (Rejection::DeleteForbidden("r".into()), "delete_forbidden"),
        (Rejection::AlreadyDeleted { room: "r".into(), seq: 1 }, "already_deleted"),
        (Rejection::NothingToDelete("r".into()), "nothing_to_delete"),
        (Rejection::TokenRefused { attempts_left: 1 }, "token_refused"),
        (Rejection::NoSuchToken("0".into()), "no_such_token"),
        (Rejection::PasswordLikeToken, "password_like_token"),
        (Rejection::TokensDisabled, "tokens_disabled"),
        (Rejection::NotServerOperator, "not_server_operator"),
        (Rejection::BroadcastLimit { per_minute: 1, retry_secs: 1 }, "broadcast_limit"),
        (Rejection::NoOperHost, "no_oper_host"),
        (Rejection::OperPasswordMismatch, "oper_password_mismatch"),
        (Rejection::ReadNeedsAccount, "read_needs_account"),
        (Rejection::ReadMarkerLimit { max: 1 }, "read_marker_limit"),
        (Rejection::MarkReadParams("x"), "markread_params"),
        (Rejection::SessionLimit { account: "a".into(), max: 1 }, "session_limit"),
        (Rejection::AlwaysOnNeedsAccount, "always_on_needs_account"),
        (Rejection::AlwaysOnForced { on: true }, "always_on_forced"),
        (Rejection::NoSuchMsgid { room: "r".into(), msgid: "x".into() }, "no_such_msgid"),
        (Rejection::MarkReadNeedsTarget, "markread_needs_target"),
    ];
    for (n, (rejection, code)) in all.iter().enumerate() {
        assert_eq!(position(rejection), n, "{rejection:?} is listed out of place");
        assert_eq!(rejection.code(), *code);
    }
    let mut codes: Vec<_> = all.iter().map(|(_, c)| c).collect();
    codes.sort();
    codes.dedup();
    assert_eq!(codes.len(), all.len(), "codes are distinct");
    // The public list holds each of those codes once, and nothing else.
    let mut listed: Vec<_> = crate::ERROR_CODES.iter().map(|e| e.code).collect();
    listed.sort_unstable();
    assert_eq!(listed, codes.into_iter().copied().collect::<Vec<_>>(), "ERROR_CODES is every refusal's code");
    for entry in crate::ERROR_CODES {
        assert!(entry.code.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'), "{entry:?}");
    }
    let mut busy: Vec<_> = crate::ERROR_CODES.iter().filter(|e| e.busy).map(|e| e.code).collect();
    busy.sort_unstable();
    assert_eq!(busy, ["account_busy", "auth_in_progress", "server_busy"]);
}
