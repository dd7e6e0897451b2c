//! What [`Engine::check_invariants`] reports: the rule an engine's state
//! broke. Its own module, so that the world's parts can check their own
//! rules and say which one broke without importing the world back.

use crate::ClientId;
#[cfg(doc)]
use crate::Engine;

/// A broken invariant: a bug in the engine, never the peer's fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvariantViolation {
    /// More clients are connected than `Config::max_clients`.
    #[error("{count} clients connected, over max_clients {max}")]
    TooManyClients {
        /// Clients connected.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// More rooms exist than `Config::max_rooms`.
    #[error("{count} rooms exist, over max_rooms {max}")]
    TooManyRoomsExist {
        /// Rooms that exist.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// A client's stored nickname key is not its nickname case-folded.
    #[error("{client} has nick {nick:?} but key {key:?}")]
    NickKeyMismatch {
        /// The client.
        client: ClientId,
        /// Its nickname.
        nick: String,
        /// The key stored with it.
        key: String,
    },
    /// The nickname index does not map a client's nickname to that client
    /// (another client holds the same case-folded nickname, or it is missing).
    #[error("nick {nick:?} of {client} is indexed to {indexed:?}")]
    NickNotIndexed {
        /// The client.
        client: ClientId,
        /// Its nickname.
        nick: String,
        /// Whom the index maps the nickname to.
        indexed: Option<ClientId>,
    },
    /// The nickname index holds an entry for no connected client with that
    /// nickname.
    #[error("nick index entry {key:?} -> {client} matches no client")]
    StaleNick {
        /// The folded nickname.
        key: String,
        /// The client it maps to.
        client: ClientId,
    },
    /// A room's key is not its name case-folded.
    #[error("room {name:?} is stored under key {key:?}")]
    RoomKeyMismatch {
        /// The room's name.
        name: String,
        /// The key it is stored under.
        key: String,
    },
    /// A client lists a membership in a room that does not exist.
    #[error("{client} is in room {room:?}, which does not exist")]
    MissingRoom {
        /// The client.
        client: ClientId,
        /// The folded room name.
        room: String,
    },
    /// A client lists the same room twice.
    #[error("{client} lists room {room:?} twice")]
    DuplicateMembership {
        /// The client.
        client: ClientId,
        /// The folded room name.
        room: String,
    },
    /// A client lists a room whose member set lacks it.
    #[error("{client} lists room {room:?}, whose members lack it")]
    NotAMember {
        /// The client.
        client: ClientId,
        /// The folded room name.
        room: String,
    },
    /// A room's member set holds a client that is not connected or does
    /// not list the room.
    #[error("room {room:?} has member {client}, which does not list it")]
    UnlistedMember {
        /// The folded room name.
        room: String,
        /// The member.
        client: ClientId,
    },
    /// A room records a member's codec other than the one it speaks.
    #[error("room {room:?} records the wrong codec for {client}")]
    CodecMismatch {
        /// The folded room name.
        room: String,
        /// The member.
        client: ClientId,
    },
    /// The session index lists accounts no client is logged in to.
    #[error("the session index has {indexed} accounts, but clients are logged in to {logged_in}")]
    SessionIndex {
        /// Accounts with an entry in the index.
        indexed: usize,
        /// Accounts some client is logged in to.
        logged_in: usize,
    },
    /// A room does not show an account once: none of its connections
    /// there is its presence, or more than one is.
    #[error("room {room:?} shows the user of {client} other than once")]
    PresenceMismatch {
        /// The folded room name.
        room: String,
        /// A member of the account shown other than once.
        client: ClientId,
    },
    /// A room lists as absent an account that is not always-on, does
    /// not know it is there, or has a connection in it.
    #[error("room {room:?} lists {account:?} as absent, wrongly")]
    AbsentMismatch {
        /// The folded room name.
        room: String,
        /// The folded account name.
        account: String,
    },
    /// A room keeps more history than `Config::history_len`.
    #[error("room {room:?} keeps {len} messages, over history_len {max}")]
    HistoryOverCap {
        /// The folded room name.
        room: String,
        /// Messages kept.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A room's history is not numbered in increasing order below the
    /// room's next message number.
    #[error("room {room:?} keeps history out of order")]
    HistoryOrder {
        /// The folded room name.
        room: String,
    },
    /// A room waits for a missing message while it has no local members,
    /// or holds messages it has delivered, more than
    /// `Config::cluster_max_held`, or without a backfill due (or with one
    /// due that no room waits for).
    #[error("room {room:?} waits for a missing message wrongly")]
    ClusterGap {
        /// The folded room name.
        room: String,
    },
    /// A room holds more bans, invitations or operator accounts than it
    /// may, or an operator account twice.
    #[error("room {room:?} holds lists over their bounds, or an operator twice")]
    RoomListsOverCap {
        /// The folded room name.
        room: String,
    },
    /// A text client is in more than one room.
    #[error("text client {client} is in {rooms} rooms")]
    TextInSeveralRooms {
        /// The client.
        client: ClientId,
        /// Its room count.
        rooms: usize,
    },
    /// A JSON client is in more than `Config::max_rooms_per_client` rooms.
    #[error("{client} is in {rooms} rooms, over max_rooms_per_client {max}")]
    TooManyRooms {
        /// The client.
        client: ClientId,
        /// Its room count.
        rooms: usize,
        /// The limit.
        max: usize,
    },
    /// A client's timer and the engine's timer set disagree, or the timer
    /// would fire after the client's real next deadline, or a client that
    /// has spoken (with login not required) still has a registration
    /// deadline.
    #[error("deadlines of {client} are inconsistent")]
    DeadlineMismatch {
        /// The client.
        client: ClientId,
    },
    /// The timer set holds entries for clients that do not own them.
    #[error("{armed} timers armed for {owned} clients with a timer")]
    StaleTimers {
        /// Entries in the timer set.
        armed: usize,
        /// Clients that record an armed timer.
        owned: usize,
    },
    /// A logged-in client's account is missing, or its nickname is not the
    /// account's name.
    #[error("{client} is logged in to {account:?} inconsistently")]
    AccountMismatch {
        /// The client.
        client: ClientId,
        /// The folded account name.
        account: String,
    },
    /// More accounts exist than `Config::max_accounts`.
    #[error("{count} accounts exist, over max_accounts {max}")]
    TooManyAccounts {
        /// Accounts that exist.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// The index of who blocks whom disagrees with the clients' block
    /// lists, or a block list is over `Config::max_blocks`.
    #[error("block index inconsistent for {client} and {name:?}")]
    BlockIndex {
        /// The client.
        client: ClientId,
        /// The folded blocked name.
        name: String,
    },
    /// A block carried across renames is kept for a client that has gone
    /// (it should have gone with it).
    #[error("blocks carried for {client}, who is not connected")]
    CarriedBlocks {
        /// The departed client.
        client: ClientId,
    },
    /// Kept offline whispers disagree with the total, or a mailbox is over
    /// its limit.
    #[error("offline messages: {total} counted, {kept} kept")]
    OfflineCount {
        /// The engine's running total.
        total: usize,
        /// Messages in every mailbox.
        kept: usize,
    },
    /// The running count of clients speaking a codec, which
    /// `Engine::stats` reports, differs from the clients that speak it.
    #[error("{kept} clients counted as speaking {codec}, yet {speaking} do")]
    CodecCount {
        /// The codec, by name.
        codec: &'static str,
        /// The engine's running count.
        kept: usize,
        /// Connected clients speaking it.
        speaking: usize,
    },
    /// A kept whisper is numbered at or above the number the next whisper
    /// gets, which a new one would then reuse.
    #[error("a kept whisper is numbered {seq}, yet the next whisper gets {next}")]
    WhisperNumbering {
        /// The kept whisper's number.
        seq: u64,
        /// The number the next whisper gets.
        next: u64,
    },
    /// A client's outstanding hash or verify request is not the one the
    /// engine has on file for it.
    #[error("auth request of {client} is inconsistent")]
    AuthMismatch {
        /// The client.
        client: ClientId,
    },
    /// The Lobby's index disagrees with the clients in no room.
    #[error("{client} is in the Lobby index inconsistently")]
    LobbyIndex {
        /// The client.
        client: ClientId,
    },
    /// The index of offline accounts by last-seen time disagrees with the
    /// accounts.
    #[error("account {account:?} is in the last-seen index inconsistently")]
    SeenIndex {
        /// The folded account name.
        account: String,
    },
    /// More sources are tracked for login failures or registrations than
    /// `Config::max_tracked_sources`.
    #[error("{count} sources tracked, over max_tracked_sources {max}")]
    TooManySources {
        /// Entries in the larger table.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// The most users at once, which LUSERS reports, is below the users now.
    #[error("the most users at once counted {peak}, yet {users} are online")]
    PeakBelowUsers {
        /// The most users at once, as counted.
        peak: usize,
        /// Users online now, as counted.
        users: usize,
    },
    /// WHOWAS remembers more departures than its bound.
    #[error("{kept} departures remembered, over the bound of {max}")]
    WhowasOverCap {
        /// Departures remembered.
        kept: usize,
        /// The bound.
        max: usize,
    },
    /// LUSERS's counts of users and of IRC clients still registering
    /// differ from the clients connected.
    #[error(
        "{users} users and {registering} registering counted, yet {connected} clients are connected, {unwelcomed} of them IRC clients not yet welcomed"
    )]
    VisitorCount {
        /// Users, as counted.
        users: usize,
        /// IRC clients registering, as counted.
        registering: usize,
        /// Clients connected.
        connected: usize,
        /// Connected IRC clients not yet welcomed.
        unwelcomed: usize,
    },
    /// A client's name claim under way is not the one the engine has on
    /// file for it, or its held lines outnumber `flood_burst`.
    #[error("name claim of {client} is inconsistent")]
    ClaimMismatch {
        /// The client.
        client: ClientId,
    },
    /// A room lists a remote member the remote table does not place in it,
    /// or the other way round, or lists it in more rooms than a client may be in.
    #[error("remote member {nick:?} of room {room:?} is inconsistent")]
    RemoteMember {
        /// The folded room name.
        room: String,
        /// The folded nickname.
        nick: String,
    },
    /// More remote users are known than `Config::max_clients`.
    #[error("{count} remote users known, over max_clients {max}")]
    TooManyRemoteUsers {
        /// Remote users known.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// The session tokens by account do not match the tokens by id.
    #[error("the session tokens of account {account:?} are indexed inconsistently")]
    TokenIndex {
        /// The folded account name.
        account: String,
    },
    /// A connected client's id is one the engine never issued.
    #[error("{client} is connected under an id never issued")]
    UnissuedId {
        /// The client.
        client: ClientId,
    },
    /// A room holds a read marker of an account that does not exist or
    /// does not list the room among those it marked, a conversation
    /// marker names no account, or an account keeps more markers than
    /// `Config::max_read_markers`.
    #[error("read markers of account {account:?} are inconsistent")]
    ReadMarkers {
        /// The folded account name.
        account: String,
    },
}
