//! Every limit the engine enforces, in one place, each with its default and
//! the resource it bounds.

use std::time::Duration;

mod always_on;
pub mod ranges;
mod validate;

pub use always_on::{AlwaysOn, ParseAlwaysOnError};
pub use validate::ConfigError;

use crate::cloak::Hosts;

/// Declares [`Config`]: for each setting, its field, its default, a getter
/// that carries its documentation and a `with_*` setter. A setting is one
/// entry here, so the three cannot drift apart.
macro_rules! settings {
    (
        $(#[$struct_meta:meta])*
        pub struct Config {
            $(
                $(#[$meta:meta])*
                $name:ident: $ty:ty = $default:expr, $set:ident;
            )*
        }
        by reference {
            $(
                $(#[$ref_meta:meta])*
                $ref_name:ident: $ref_ty:ty as &$ref_get:ty = $ref_default:expr, $ref_set:ident;
            )*
        }
    ) => {
        $(#[$struct_meta])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        #[non_exhaustive]
        pub struct Config {
            $(pub(crate) $name: $ty,)*
            $(pub(crate) $ref_name: $ref_ty,)*
        }

        impl Default for Config {
            fn default() -> Self {
                Self { $($name: $default,)* $($ref_name: $ref_default,)* }
            }
        }

        impl Config {
            $(
                $(#[$meta])*
                #[must_use]
                pub fn $name(&self) -> $ty {
                    self.$name
                }

                #[doc = concat!("Sets [`", stringify!($name), "`](Self::", stringify!($name), "), whose documentation says what it bounds and its default.")]
                #[must_use = "a setter returns the changed config"]
                pub fn $set(mut self, value: $ty) -> Self {
                    self.$name = value;
                    self
                }
            )*
            $(
                $(#[$ref_meta])*
                #[must_use]
                pub fn $ref_name(&self) -> &$ref_get {
                    &self.$ref_name
                }

                #[doc = concat!("Sets [`", stringify!($ref_name), "`](Self::", stringify!($ref_name), "), whose documentation says what it bounds and its default.")]
                #[must_use = "a setter returns the changed config"]
                pub fn $ref_set(mut self, value: impl Into<$ref_ty>) -> Self {
                    self.$ref_name = value.into();
                    self
                }
            )*
        }
    };
}

settings! {
    /// The engine's limits and switches.
    ///
    /// Built from [`Config::default`] with a chain of `with_*` setters, one
    /// per setting, each taking the value and returning it:
    ///
    /// ```
    /// use chatcore::Config;
    /// use std::time::Duration;
    ///
    /// let config = Config::default().with_max_clients(50).with_idle_timeout(Duration::from_secs(600));
    /// assert_eq!((config.max_clients(), config.max_nick_len()), (50, 32));
    /// ```
    ///
    /// Setters on the value rather than a separate builder: a `Config` is
    /// already the value that [`Engine::new`](crate::Engine::new) checks,
    /// so a builder would only repeat every field; taking and returning
    /// the value makes a configuration one expression, which a test or an
    /// embedder can pass straight to `Engine::new`. Setters do not check:
    /// some rules join two settings (the idle warning must come before the
    /// idle timeout), so [`Config::validate`] checks them all at once, and
    /// `Engine::new` refuses a config it fails. The struct is
    /// `#[non_exhaustive]` and its fields private, so a new setting is a
    /// new setter, not a breaking change. Each getter says what its setting
    /// bounds and asserts its default.
    ///
    /// Every limit bounds something; the engine's memory is at most roughly
    ///
    /// ```text
    ///   max_clients × (~800 + max_line_bytes + max_rooms_per_client × 16 + max_blocks × 80)
    /// + max_rooms × (~500 + max_topic_len + history_len × (max_line_bytes + max_nick_len + ~40))
    /// + max_accounts × (~250 + max_blocks × 80 + max_known_sources × 24 + max_session_tokens × ~120 + max_read_markers × 120 + ~160)
    /// + max_offline_total × (max_line_bytes + max_nick_len + ~48)
    /// + max_tracked_sources × ~150 × 3      (failed logins, registrations, room creations)
    /// + max_rooms × cluster_max_held × (max_line_bytes + max_nick_len + ~80)   (with `cluster`, rooms with a gap)
    /// ```
    ///
    /// plus whatever output the embedder has not yet drained with
    /// [`Engine::poll_output`](crate::Engine::poll_output).
    ///
    /// Measured with a counting allocator (`benches/tests/alloc.rs`): 523 bytes
    /// per idle client in the Lobby and 528 in a room (a client is indexed by
    /// name for paged lists: in the nickname index, and while in the Lobby in
    /// the Lobby's too; names are shared, not copied, between the indexes; its
    /// host is `chatd` there, and a cloak is 17 bytes longer),
    /// 510 bytes per empty room, 2,116 bytes per kept history entry of a
    /// 2,048-byte line. At the
    /// defaults the worst case is about **590 MB**: history 217 MB (every room
    /// full of the longest lines), accounts 316 MB (100,000 accounts each
    /// blocking 32 names), kept whispers 43 MB, clients 6 MB, tracked sources
    /// 4.5 MB. The defaults are chosen so that this fits a 1 GB VPS beside
    /// chatd's own use (its per-connection state, SQLite's 64 MiB page cache
    /// and its send queues): guests alone can reach only the history term, and
    /// only within `max_rooms_created_per_source`; the account terms cost a
    /// registration each (`max_registrations_per_source`, an argon2 hash).
    ///
    /// Each setting accepts only a sane range, listed with its reason in
    /// [`ranges`]; [`Config::validate`] refuses anything outside it.
    pub struct Config {
        /// Most clients connected at once. A connection beyond it gets a one-line
        /// farewell and is closed. Bounds the per-client state (line buffer,
        /// nickname, memberships) and so the engine's share of memory per
        /// connection. Default: 1024.
        ///
        /// ```
        /// assert_eq!(chatcore::Config::default().max_clients(), 1024);
        /// ```
        max_clients: usize = 1024, with_max_clients;
        /// Longest accepted input line in bytes, not counting the line ending.
        /// A longer line is discarded with an error and the framer resumes at the
        /// next newline. Bounds each client's input buffer, and each message kept
        /// in history. Default: 2048.
        ///
        /// ```
        /// assert_eq!(chatcore::Config::default().max_line_bytes(), 2048);
        /// ```
        max_line_bytes: usize = 2048, with_max_line_bytes;
        /// Longest nickname in bytes (nicknames are ASCII). Bounds every name the
        /// engine keeps and sends: in indexes, history entries and lists.
        /// Default: 32.
        ///
        /// ```
        /// assert_eq!(chatcore::Config::default().max_nick_len(), 32);
        /// ```
        max_nick_len: usize = 32, with_max_nick_len;
        /// Longest room name in bytes (room names are ASCII). Bounds each room's
        /// name wherever it is kept and sent. Default: 32.
        ///
        /// ```
        /// assert_eq!(chatcore::Config::default().max_room_name_len(), 32);
        /// ```
        max_room_name_len: usize = 32, with_max_room_name_len;
        /// Most rooms that may exist. `/create` beyond it is refused. Bounds the
        /// room table and, with `history_len`, the history kept in memory.
        /// Default: 1024.
        ///
        /// ```
        /// assert_eq!(chatcore::Config::default().max_rooms(), 1024);
        /// ```
        max_rooms: usize = 1024, with_max_rooms;
        /// Messages each room keeps and replays to a member who joins. Bounds the
        /// history memory per room and what a newcomer must receive. Default: 100.
        ///
        /// ```
        /// assert_eq!(chatcore::Config::default().history_len(), 100);
        /// ```
        history_len: usize = 100, with_history_len;
        /// Rooms one client may be a member of at once (JSON and IRC clients may
        /// sit in several; text clients switch, so they use one). Bounds each
        /// client's memberships, and so what one client's message can fan out to.
        /// Default: 16.
        ///
        /// ```
        /// assert_eq!(chatcore::Config::default().max_rooms_per_client(), 16);
        /// ```
        max_rooms_per_client: usize = 16, with_max_rooms_per_client;
        /// Lines a client may send in a burst before flood control applies.
        /// Bounds how much work one client can cause at once. Default: 10.
        ///
        /// ```
        /// assert_eq!(chatcore::Config::default().flood_burst(), 10);
        /// ```
        flood_burst: u32 = 10, with_flood_burst;
        /// Lines per second a client may send on average; a line beyond the
        /// allowance is refused with a `flood` error and not acted on. Bounds the
        /// work one client can cause over time. `0` turns flood control off.
        /// Default: 4.
        ///
        /// ```
        /// assert_eq!(chatcore::Config::default().flood_lines_per_sec(), 4);
        /// ```
        flood_lines_per_sec: u32 = 4, with_flood_lines_per_sec;
        /// How long a new connection may stay silent: one that has sent no
        /// complete line within it (IRC: not registered; with `require_login`: not
        /// logged in) is closed. Bounds how long a connection that never speaks
        /// holds a client slot. `Duration::ZERO` disables. Default: 60 s.
        ///
        /// ```
        /// assert_eq!(chatcore::Config::default().registration_timeout(), std::time::Duration::from_secs(60));
        /// ```
        registration_timeout: Duration = Duration::from_secs(60), with_registration_timeout;
        /// Whether connects and disconnects are announced to every client in the
        /// Lobby (clients that are in no room), as well as to those who share a
        /// room with the user. A switch; bounds nothing. Default: `false`.
        ///
        /// ```
        /// assert_eq!(chatcore::Config::default().announce_lobby_presence(), false);
        /// ```
        announce_lobby_presence: bool = false, with_announce_lobby_presence;
        /// Whether only logged-in users may do more than `/register`, `/login`,
        /// `/help` and `/quit`. With it, `registration_timeout` runs until the
        /// client logs in. A switch; bounds nothing. Default: `false` (guests may
        /// chat).
        ///
        /// ```
        /// assert_eq!(chatcore::Config::default().require_login(), false);
        /// ```
        require_login: bool = false, with_require_login;
        /// How long a client may stay silent before it is disconnected (after a
        /// warning `idle_warning` earlier). Bounds how long an abandoned or
        /// half-open connection holds a slot. `Duration::ZERO` disables.
        /// Default: 120 s.
        ///
        /// ```
        /// assert_eq!(chatcore::Config::default().idle_timeout(), std::time::Duration::from_secs(120));
        /// ```
        idle_timeout: Duration = Duration::from_secs(120), with_idle_timeout;
        /// How long before the idle disconnect the client is warned; must be
        /// shorter than `idle_timeout`. Bounds nothing: it gives a quiet client
        /// the chance to stay. `Duration::ZERO`: no warning. Default: 30 s.
        ///
        /// ```
        /// assert_eq!(chatcore::Config::default().idle_warning(), std::time::Duration::from_secs(30));
        /// ```
        idle_warning: Duration = Duration::from_secs(30), with_idle_warning;
        /// Most accounts that may exist; one more registration is refused.
        /// Bounds the account table. Default: 100,000.
        ///
        /// ```
        /// assert_eq!(chatcore::Config::default().max_accounts(), 100_000);
        /// ```
        max_accounts: usize = 100_000, with_max_accounts;
        /// Shortest accepted password, in bytes. A policy, not a bound: it makes
        /// guessing slower. Default: 8 (OWASP's minimum).
        ///
        /// ```
        /// assert_eq!(chatcore::Config::default().min_password_len(), 8);
        /// ```
        min_password_len: usize = 8, with_min_password_len;
        /// Failed logins for one account from one source, within
        /// `login_failure_window`, after which that source is refused for that
        /// account for `block_duration`. Bounds how fast one source can guess a
        /// password. Default: 3.
        ///
        /// ```
        /// assert_eq!(chatcore::Config::default().max_login_failures(), 3);
        /// ```
        max_login_failures: u32 = 3, with_max_login_failures;
        /// The window in which failed logins are counted, for
        /// `max_login_failures` and `max_account_failures`. Bounds how long a
        /// failure is remembered. Default: 5 minutes.
        ///
        /// ```
        /// assert_eq!(chatcore::Config::default().login_failure_window(), std::time::Duration::from_secs(300));
        /// ```
        login_failure_window: Duration = Duration::from_secs(300), with_login_failure_window;
        /// How long a source is refused for an account after
        /// `max_login_failures`. Bounds, with it, how fast one source can guess.
        /// Default: 60 s.
        ///
        /// ```
        /// assert_eq!(chatcore::Config::default().block_duration(), std::time::Duration::from_secs(60));
        /// ```
        block_duration: Duration = Duration::from_secs(60), with_block_duration;
        /// Accounts one source may register per `registration_window`; one more
        /// is refused. Bounds how fast one machine can fill `max_accounts` (each
        /// registration also costs the embedder a password hash). Default: 5.
        ///
        /// ```
        /// assert_eq!(chatcore::Config::default().max_registrations_per_source(), 5);
        /// ```
        max_registrations_per_source: u32 = 5, with_max_registrations_per_source;
        /// The window for `max_registrations_per_source`. Default: 1 hour.
        ///
        /// ```
        /// assert_eq!(chatcore::Config::default().registration_window(), std::time::Duration::from_secs(3600));
        /// ```
        registration_window: Duration = Duration::from_secs(3600), with_registration_window;
        /// Sources tracked for failed logins, registrations and room creations;
        /// when full, the entry whose window ends first is dropped. Bounds those
        /// tables. Default: 10,000.
        ///
        /// ```
        /// assert_eq!(chatcore::Config::default().max_tracked_sources(), 10_000);
        /// ```
        max_tracked_sources: usize = 10_000, with_max_tracked_sources;
        /// Whispers kept for one offline account until it logs in; one more is
        /// refused with a clear error to its sender. Bounds each mailbox.
        /// Default: 50.
        ///
        /// ```
        /// assert_eq!(chatcore::Config::default().max_offline_messages(), 50);
        /// ```
        max_offline_messages: usize = 50, with_max_offline_messages;
        /// Whispers kept for all offline accounts together. Bounds the memory of
        /// every mailbox at once (about `max_line_bytes` + 80 bytes each).
        /// Default: 20,000.
        ///
        /// ```
        /// assert_eq!(chatcore::Config::default().max_offline_total(), 20_000);
        /// ```
        max_offline_total: usize = 20_000, with_max_offline_total;
        /// Names one user may block. Bounds each block list (about 80 bytes a
        /// name), which an account keeps while offline. Default: 32.
        ///
        /// ```
        /// assert_eq!(chatcore::Config::default().max_blocks(), 32);
        /// ```
        max_blocks: usize = 32, with_max_blocks;
        /// Read markers one account keeps: one per room or conversation
        /// it marked read (`/read`, JSON `read`, IRC `MARKREAD`), about 120
        /// bytes each (the marker and the account's index of it), kept
        /// while it is offline. A marker for a new target beyond it is
        /// refused (`read_marker_limit`) once the markers of rooms that are
        /// gone are forgotten. Default: 256.
        ///
        /// ```
        /// assert_eq!(chatcore::Config::default().max_read_markers(), 256);
        /// ```
        max_read_markers: usize = 256, with_max_read_markers;
        /// Connections one account may have logged in at once ("devices":
        /// a phone, a laptop, an IRC client), on any protocol. Bounds what
        /// one user costs (each connection is a client, within
        /// `max_clients`) and the copies of each whisper to it. A login
        /// past it is refused, and nothing else is disturbed. Default: 10.
        ///
        /// ```
        /// assert_eq!(chatcore::Config::default().max_sessions_per_account(), 10);
        /// ```
        max_sessions_per_account: usize = 10, with_max_sessions_per_account;
        /// Whether an account stays in its rooms while none of its
        /// connections is: each user's choice (`/always-on`), or forced on
        /// or off for everyone. An always-on account costs its rooms one
        /// name each while away (at most `max_rooms_per_client` rooms per
        /// account) and keeps its name reserved. Ignored in a cluster
        /// (`cluster`), where presence belongs to connections. Default:
        /// [`AlwaysOn::Optional`].
        ///
        /// ```
        /// assert_eq!(chatcore::Config::default().always_on(), chatcore::AlwaysOn::Optional);
        /// ```
        always_on: AlwaysOn = AlwaysOn::Optional, with_always_on;
        /// Messages per `/history` page. Bounds one answer. Default: 50.
        ///
        /// ```
        /// assert_eq!(chatcore::Config::default().history_page_len(), 50);
        /// ```
        history_page_len: usize = 50, with_history_page_len;
        /// Names or rooms per answer to `/users`, `/who`, `/list` and `/since`
        /// (and their JSON and IRC forms, NAMES included): a longer list is sent a
        /// page at a time, each page with the total and the name to ask for the
        /// next one from. Bounds one answer to about this many times
        /// `max_nick_len` (or `max_room_name_len`) bytes, whatever the number of
        /// users or rooms. Default: 100.
        ///
        /// ```
        /// assert_eq!(chatcore::Config::default().list_page_len(), 100);
        /// ```
        list_page_len: usize = 100, with_list_page_len;
        /// Whispers kept per conversation between two accounts, for
        /// `/history @NICK` (with `emit_records`): the embedder's store keeps the
        /// newest this many of each pair of accounts and forgets older ones (for
        /// rooms, chatd's `--retain-messages` does this). Bounds the store, not
        /// memory: the engine holds no conversation, only the number the next
        /// whisper gets. `0`: whispers are not kept. Default: 1,000.
        ///
        /// ```
        /// assert_eq!(chatcore::Config::default().conversation_history_len(), 1_000);
        /// ```
        conversation_history_len: usize = 1_000, with_conversation_history_len;
        /// Longest room topic in bytes; a longer one is refused. Bounds each
        /// room's topic (IRC servers commonly allow 390). Default: 390.
        ///
        /// ```
        /// assert_eq!(chatcore::Config::default().max_topic_len(), 390);
        /// ```
        max_topic_len: usize = 390, with_max_topic_len;
        /// How long a room created by a logged-in user may stay empty before it
        /// is removed with its history. Bounds how long the rooms of people who
        /// left keep a place under `max_rooms`. `Duration::ZERO`: never.
        /// Default: 30 days.
        ///
        /// ```
        /// assert_eq!(chatcore::Config::default().room_idle_expiry(), std::time::Duration::from_secs(30 * 86_400));
        /// ```
        room_idle_expiry: Duration = Duration::from_secs(30 * 86_400), with_room_idle_expiry;
        /// The same for a room a guest created: guests come and go, and their
        /// rooms should not fill `max_rooms` for good. Bounds how long a guest's
        /// empty room stays. Default: 1 hour.
        ///
        /// ```
        /// assert_eq!(chatcore::Config::default().guest_room_idle_expiry(), std::time::Duration::from_secs(3_600));
        /// ```
        guest_room_idle_expiry: Duration = Duration::from_secs(3_600), with_guest_room_idle_expiry;
        /// Rooms one source, and one account, may create per
        /// `room_creation_window`; one more is refused. Bounds how fast one machine
        /// can fill `max_rooms`. Default: 10.
        ///
        /// ```
        /// assert_eq!(chatcore::Config::default().max_rooms_created_per_source(), 10);
        /// ```
        max_rooms_created_per_source: u32 = 10, with_max_rooms_created_per_source;
        /// The window for `max_rooms_created_per_source`. Default: 1 hour.
        ///
        /// ```
        /// assert_eq!(chatcore::Config::default().room_creation_window(), std::time::Duration::from_secs(3_600));
        /// ```
        room_creation_window: Duration = Duration::from_secs(3_600), with_room_creation_window;
        /// Failed logins to one account, from all sources together within
        /// `login_failure_window`, after which that account refuses logins from
        /// sources it has never logged in from, for `account_block_duration`.
        /// Bounds guessing spread over many addresses. Default: 10.
        ///
        /// ```
        /// assert_eq!(chatcore::Config::default().max_account_failures(), 10);
        /// ```
        max_account_failures: u32 = 10, with_max_account_failures;
        /// How long an account refuses unknown sources after
        /// `max_account_failures`. Default: 15 minutes.
        ///
        /// ```
        /// assert_eq!(chatcore::Config::default().account_block_duration(), std::time::Duration::from_secs(15 * 60));
        /// ```
        account_block_duration: Duration = Duration::from_secs(15 * 60), with_account_block_duration;
        /// Sources remembered per account as known (it logged in from them); the
        /// oldest is forgotten first. Known sources are exempt from the
        /// per-account throttle, so the owner is never locked out by others.
        /// Bounds that list per account (24 bytes a source). Default: 8.
        ///
        /// ```
        /// assert_eq!(chatcore::Config::default().max_known_sources(), 8);
        /// ```
        max_known_sources: usize = 8, with_max_known_sources;
        /// Days a session token (`/token`) lets its holder log in without a
        /// password; 0 turns tokens off (`/token` is refused). Bounds how long
        /// a stolen token is worth anything. Default: 30.
        ///
        /// ```
        /// assert_eq!(chatcore::Config::default().session_token_days(), 30);
        /// ```
        session_token_days: u32 = 30, with_session_token_days;
        /// Live session tokens kept per account; issuing one more revokes the
        /// oldest. Bounds the token table (about 120 bytes a token) at
        /// `max_accounts` × this. Default: 10.
        ///
        /// ```
        /// assert_eq!(chatcore::Config::default().max_session_tokens(), 10);
        /// ```
        max_session_tokens: usize = 10, with_max_session_tokens;
        /// Whether durable facts are emitted as
        /// [`Output::Persist`](crate::Output::Persist) records, and older history
        /// is fetched from the embedder's store
        /// ([`Output::FetchHistory`](crate::Output::FetchHistory)). Off, the
        /// engine keeps only what is in memory. A switch; bounds nothing.
        /// Default: `false`.
        ///
        /// ```
        /// assert_eq!(chatcore::Config::default().emit_records(), false);
        /// ```
        emit_records: bool = false, with_emit_records;
        /// Whether this engine is one node of several serving one chat
        /// through the embedder's store and notifier (see
        /// [`cluster`](crate::cluster)): a room message is published
        /// ([`ClusterRequest::Publish`](crate::ClusterRequest::Publish)) and
        /// delivered in the order of the number the store gives it, names
        /// are claimed across nodes, and presence is told to and taken from
        /// the others, as [`Output::Cluster`](crate::Output::Cluster)
        /// requests and their answers. Off, no such request is ever made and
        /// every path is the single node's. A switch; bounds nothing.
        /// Default: `false`.
        ///
        /// ```
        /// assert_eq!(chatcore::Config::default().cluster(), false);
        /// assert!(chatcore::Config::default().with_cluster(true).cluster());
        /// ```
        cluster: bool = false, with_cluster;
        /// With `cluster`: how long a room waits for a missing message (one
        /// numbered below another that arrived) before it asks the embedder
        /// for it ([`ClusterRequest::Backfill`](crate::ClusterRequest::Backfill)),
        /// and again after as long if it still has not come. Bounds how long
        /// a lost notification delays a room. Default: 250 ms.
        ///
        /// ```
        /// assert_eq!(chatcore::Config::default().cluster_gap_wait(), std::time::Duration::from_millis(250));
        /// ```
        cluster_gap_wait: Duration = Duration::from_millis(250), with_cluster_gap_wait;
        /// With `cluster`: messages a room holds while it waits for a missing
        /// one before them. One more and the room drops all it holds, and the
        /// backfill brings them again. Bounds the memory of a room with a gap
        /// to this many messages (each up to `max_line_bytes` + `max_nick_len`
        /// + ~80 bytes). Default: 1,024.
        ///
        /// ```
        /// assert_eq!(chatcore::Config::default().cluster_max_held(), 1_024);
        /// ```
        cluster_max_held: usize = 1_024, with_cluster_max_held;
        /// Broadcasts (`/broadcast`, IRC `WALLOPS`) one server operator may
        /// send per minute; one more within the minute is refused
        /// (`broadcast_limit`). Bounds how often one operator can write to
        /// every connected client. Default: 5.
        ///
        /// ```
        /// assert_eq!(chatcore::Config::default().operator_broadcasts_per_minute(), 5);
        /// ```
        operator_broadcasts_per_minute: u32 = 5, with_operator_broadcasts_per_minute;
    }
    by reference {
        /// The server name shown in the welcome line, and the source of IRC
        /// replies. Bounds nothing (its range is 1 to 63 visible ASCII
        /// characters). Default: `"chatd"`.
        ///
        /// ```
        /// assert_eq!(chatcore::Config::default().server_name(), "chatd");
        /// ```
        server_name: String as &str = "chatd".to_owned(), with_server_name;
        /// How users' hosts (the `host` of `nick!user@host`) are shown in IRC
        /// prefixes, `WHO` and `WHOIS`, and matched by bans: a keyed hash of
        /// where each connects from ([`Hosts::Cloaked`], with a key the embedder
        /// keeps), the address itself ([`Hosts::Addresses`]), or the same word
        /// for everyone ([`Hosts::Hidden`]). Bounds nothing; costs a host of at
        /// most 25 bytes per client. Default: `Hidden`.
        ///
        /// ```
        /// assert_eq!(chatcore::Config::default().hosts(), &chatcore::Hosts::Hidden);
        /// ```
        hosts: Hosts as &Hosts = Hosts::Hidden, with_hosts;
        /// The accounts that are server operators while a client is logged
        /// in to them (names compared without regard to ASCII case), besides
        /// those granted in the store
        /// ([`Record::OperatorGranted`](crate::Record::OperatorGranted)).
        /// An operator may `/broadcast` to everyone, `/kill` a connection,
        /// drop any room and see more in IRC's `INFO`. Bounds nothing but
        /// its own length (at most
        /// [`ranges::OPERATORS`](crate::ranges::OPERATORS) names). Default:
        /// none.
        ///
        /// ```
        /// assert!(chatcore::Config::default().operators().is_empty());
        /// let config = chatcore::Config::default().with_operators(vec!["alice".to_owned()]);
        /// assert_eq!(config.operators(), ["alice".to_owned()]);
        /// ```
        operators: Vec<String> as &[String] = Vec::new(), with_operators;
    }
}
