//! One thread's connection to Redis, made again after it breaks, with a
//! backoff between attempts so that a Redis that is down is not hammered.

use std::time::{Duration, Instant};

use redis::{Client, Connection, RedisError};

use super::{CONNECT_TIMEOUT, REPLY_TIMEOUT, connection_broken};

/// The first wait before connecting again; it doubles up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(50);
const MAX_BACKOFF: Duration = Duration::from_secs(2);

pub(super) struct Link {
    client: Client,
    conn: Option<Connection>,
    /// How long each reply may take: more than the reader's block.
    read_timeout: Duration,
    /// `CLIENT SETNAME`, so that an operator's `CLIENT LIST` tells the
    /// connections apart.
    name: String,
    backoff: Duration,
    next_attempt: Instant,
}

impl Link {
    pub(super) fn new(client: Client, name: String, read_timeout: Duration) -> Self {
        Self { client, conn: None, read_timeout, name, backoff: FIRST_BACKOFF, next_attempt: Instant::now() }
    }

    /// The connection, made now if there is none and the backoff allows;
    /// the error of a failed attempt.
    pub(super) fn get(&mut self) -> Result<&mut Connection, Option<RedisError>> {
        if self.conn.is_none() {
            if Instant::now() < self.next_attempt {
                return Err(None);
            }
            match self.open() {
                Ok(conn) => {
                    self.backoff = FIRST_BACKOFF;
                    self.conn = Some(conn);
                }
                Err(error) => {
                    self.wait_before_next();
                    return Err(Some(error));
                }
            }
        }
        Ok(self.conn.as_mut().expect("connected just above"))
    }

    fn open(&self) -> redis::RedisResult<Connection> {
        let mut conn = self.client.get_connection_with_timeout(CONNECT_TIMEOUT)?;
        conn.set_read_timeout(Some(self.read_timeout))?;
        conn.set_write_timeout(Some(REPLY_TIMEOUT))?;
        redis::cmd("CLIENT").arg("SETNAME").arg(&self.name).query::<()>(&mut conn)?;
        Ok(conn)
    }

    /// Notes that a command failed with `error`: a broken connection is
    /// dropped, to be made again after the backoff. Returns whether it was.
    pub(super) fn failed(&mut self, error: &RedisError) -> bool {
        if !connection_broken(error) {
            return false;
        }
        self.conn = None;
        self.wait_before_next();
        true
    }

    fn wait_before_next(&mut self) {
        self.next_attempt = Instant::now() + self.backoff;
        self.backoff = (self.backoff * 2).min(MAX_BACKOFF);
    }

    pub(super) fn is_connected(&self) -> bool {
        self.conn.is_some()
    }

    /// How long until the next connection attempt; zero when connected.
    pub(super) fn wait(&self) -> Duration {
        if self.conn.is_some() { Duration::ZERO } else { self.next_attempt.saturating_duration_since(Instant::now()) }
    }
}
