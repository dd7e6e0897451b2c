//! One-row commit latency and 64-row group-commit throughput of the
//! `postgres` and `sqlx` clients, each on one connection, on a table shaped
//! like chatd's `messages`. The table is the run's own and dropped after.

use std::time::{Duration, Instant};

use clap::{Parser, ValueEnum};
use sqlx::{Connection as _, PgConnection};

#[derive(Parser)]
struct Args {
    /// The database to measure in (a table of the run's own is made there).
    #[arg(long)]
    url: String,
    /// One-row transactions per client.
    #[arg(long, default_value_t = 2_000)]
    single: usize,
    /// Group commits per client and way of writing.
    #[arg(long, default_value_t = 300)]
    groups: usize,
    /// Rows per group commit.
    #[arg(long, default_value_t = 64)]
    rows: usize,
    /// Which clients to measure.
    #[arg(long, value_enum, default_values_t = [Client::Postgres, Client::Sqlx])]
    client: Vec<Client>,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Client {
    Postgres,
    Sqlx,
}

const INSERT: &str = "INSERT INTO pg_clients_bench (room_key, seq, sender, text, ts_ms) VALUES ($1, $2, $3, $4, $5)";
const INSERT_MANY: &str = "INSERT INTO pg_clients_bench (room_key, seq, sender, text, ts_ms)
     SELECT * FROM UNNEST($1::text[], $2::bigint[], $3::text[], $4::text[], $5::bigint[])";

/// A 64-byte message, as loadgen sends.
const TEXT: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde";

fn main() {
    let args = Args::parse();
    let mut admin = postgres::Client::connect(&args.url, postgres::NoTls).expect("connect");
    admin
        .batch_execute(
            "DROP TABLE IF EXISTS pg_clients_bench;
             CREATE TABLE pg_clients_bench (
                 id BIGSERIAL PRIMARY KEY, room_key TEXT NOT NULL, seq BIGINT NOT NULL,
                 sender TEXT NOT NULL, text TEXT NOT NULL, ts_ms BIGINT NOT NULL,
                 UNIQUE (room_key, seq))",
        )
        .expect("create the table");
    let mut seq = 0_i64;
    for client in &args.client {
        match client {
            Client::Postgres => postgres_client(&args, &mut seq),
            Client::Sqlx => smol::block_on(sqlx_client(&args, &mut seq)),
        }
    }
    admin.batch_execute("DROP TABLE pg_clients_bench").expect("drop the table");
}

fn postgres_client(args: &Args, seq: &mut i64) {
    let mut client = postgres::Client::connect(&args.url, postgres::NoTls).expect("connect");
    let insert = client.prepare(INSERT).unwrap();
    let insert_many = client.prepare(INSERT_MANY).unwrap();
    let mut latencies = Vec::with_capacity(args.single);
    for _ in 0..args.single {
        *seq += 1;
        let start = Instant::now();
        let mut tx = client.transaction().unwrap();
        tx.execute(&insert, &[&"r", &*seq, &"alice", &TEXT, &0_i64]).unwrap();
        tx.commit().unwrap();
        latencies.push(start.elapsed());
    }
    report("postgres", "1-row commit", &latencies, 1);
    let mut latencies = Vec::with_capacity(args.groups);
    for _ in 0..args.groups {
        let start = Instant::now();
        let mut tx = client.transaction().unwrap();
        for _ in 0..args.rows {
            *seq += 1;
            tx.execute(&insert, &[&"r", &*seq, &"alice", &TEXT, &0_i64]).unwrap();
        }
        tx.commit().unwrap();
        latencies.push(start.elapsed());
    }
    report("postgres", &format!("{}-row group, a statement a row", args.rows), &latencies, args.rows);
    let mut latencies = Vec::with_capacity(args.groups);
    for _ in 0..args.groups {
        let (rooms, seqs, senders, texts, times) = columns(args.rows, seq);
        let start = Instant::now();
        let mut tx = client.transaction().unwrap();
        tx.execute(&insert_many, &[&rooms, &seqs, &senders, &texts, &times]).unwrap();
        tx.commit().unwrap();
        latencies.push(start.elapsed());
    }
    report("postgres", &format!("{}-row group, one UNNEST insert", args.rows), &latencies, args.rows);
}

async fn sqlx_client(args: &Args, seq: &mut i64) {
    let mut conn = PgConnection::connect(&args.url).await.expect("connect");
    let mut latencies = Vec::with_capacity(args.single);
    for _ in 0..args.single {
        *seq += 1;
        let start = Instant::now();
        let mut tx = conn.begin().await.unwrap();
        sqlx::query(INSERT).bind("r").bind(*seq).bind("alice").bind(TEXT).bind(0_i64).execute(&mut *tx).await.unwrap();
        tx.commit().await.unwrap();
        latencies.push(start.elapsed());
    }
    report("sqlx", "1-row commit", &latencies, 1);
    let mut latencies = Vec::with_capacity(args.groups);
    for _ in 0..args.groups {
        let start = Instant::now();
        let mut tx = conn.begin().await.unwrap();
        for _ in 0..args.rows {
            *seq += 1;
            sqlx::query(INSERT)
                .bind("r")
                .bind(*seq)
                .bind("alice")
                .bind(TEXT)
                .bind(0_i64)
                .execute(&mut *tx)
                .await
                .unwrap();
        }
        tx.commit().await.unwrap();
        latencies.push(start.elapsed());
    }
    report("sqlx", &format!("{}-row group, a statement a row", args.rows), &latencies, args.rows);
    let mut latencies = Vec::with_capacity(args.groups);
    for _ in 0..args.groups {
        let (rooms, seqs, senders, texts, times) = columns(args.rows, seq);
        let start = Instant::now();
        let mut tx = conn.begin().await.unwrap();
        sqlx::query(INSERT_MANY)
            .bind(rooms)
            .bind(seqs)
            .bind(senders)
            .bind(texts)
            .bind(times)
            .execute(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        latencies.push(start.elapsed());
    }
    report("sqlx", &format!("{}-row group, one UNNEST insert", args.rows), &latencies, args.rows);
}

type Columns = (Vec<String>, Vec<i64>, Vec<String>, Vec<String>, Vec<i64>);

fn columns(rows: usize, seq: &mut i64) -> Columns {
    let seqs = (0..rows)
        .map(|_| {
            *seq += 1;
            *seq
        })
        .collect();
    (vec!["r".into(); rows], seqs, vec!["alice".into(); rows], vec![TEXT.into(); rows], vec![0; rows])
}

fn report(client: &str, what: &str, latencies: &[Duration], rows: usize) {
    let mut sorted = latencies.to_vec();
    sorted.sort();
    let at = |q: f64| sorted[((sorted.len() - 1) as f64 * q) as usize];
    let total: Duration = sorted.iter().sum();
    let commits = sorted.len() as f64 / total.as_secs_f64();
    println!(
        "{client:9} {what:34} p50 {:>7.1} µs  p99 {:>7.1} µs  {:>8.0} commits/s  {:>9.0} rows/s",
        at(0.5).as_secs_f64() * 1e6,
        at(0.99).as_secs_f64() * 1e6,
        commits,
        commits * rows as f64,
    );
}
