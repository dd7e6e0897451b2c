//! Every limit the engine enforces, in one place, each with its default and
//! the resource it bounds.

use std::time::Duration;

/// The engine's limits and switches.
///
/// Every field bounds something; the engine's memory is at most roughly
///
/// ```text
/// max_clients × (max_line_bytes + max_rooms_per_client × 16 + ~300)
///   + max_rooms × history_len × (max_line_bytes + max_nick_len + ~64)
/// ```
///
/// plus whatever output the embedder has not yet drained with
/// [`Engine::poll_output`](crate::Engine::poll_output).
///
/// ```
/// let config = chatcore::Config { max_clients: 50, history_len: 20, ..Default::default() };
/// assert_eq!(config.max_nick_len, 32);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Most clients connected at once. A connection beyond it gets a one-line
    /// farewell and is closed. Bounds the per-client state (line buffer,
    /// nickname, memberships). Default: 1024.
    pub max_clients: usize,
    /// Longest accepted input line in bytes, not counting the line ending.
    /// A longer line is discarded with an error and the framer resumes at the
    /// next newline. Bounds each client's input buffer. Default: 2048.
    pub max_line_bytes: usize,
    /// Longest nickname in bytes (nicknames are ASCII). Default: 32.
    pub max_nick_len: usize,
    /// Longest room name in bytes (room names are ASCII). Default: 32.
    pub max_room_name_len: usize,
    /// Most rooms that may exist. `/create` beyond it is refused. Bounds the
    /// room table and, with `history_len`, the history kept in memory.
    /// Default: 1024.
    pub max_rooms: usize,
    /// Messages each room keeps and replays to a member who joins. Bounds the
    /// history memory per room and what a newcomer must receive. Default: 100.
    pub history_len: usize,
    /// Rooms one client may be a member of at once (JSON clients may sit in
    /// several; text clients switch, so they use one). Default: 16.
    pub max_rooms_per_client: usize,
    /// Lines a client may send in a burst before flood control applies.
    /// Default: 10.
    pub flood_burst: u32,
    /// Lines per second a client may send on average; a line beyond the
    /// allowance is refused with a `flood` error and not acted on.
    /// `0` turns flood control off. Default: 4.
    pub flood_lines_per_sec: u32,
    /// How long a new connection may stay silent: one that has sent no
    /// complete line within it is closed. Bounds how long a connection that
    /// never speaks holds a client slot. `Duration::ZERO` disables.
    /// Default: 60 s.
    pub registration_timeout: Duration,
    /// Whether connects and disconnects are announced to every client in the
    /// Lobby (clients that are in no room), as well as to those who share a
    /// room with the user. Default: `false`.
    pub announce_lobby_presence: bool,
    /// The server name shown in the welcome line. Default: `"chatd"`.
    pub server_name: String,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            max_clients: 1024,
            max_line_bytes: 2048,
            max_nick_len: 32,
            max_room_name_len: 32,
            max_rooms: 1024,
            history_len: 100,
            max_rooms_per_client: 16,
            flood_burst: 10,
            flood_lines_per_sec: 4,
            registration_timeout: Duration::from_secs(60),
            announce_lobby_presence: false,
            server_name: "chatd".to_owned(),
        }
    }
}
