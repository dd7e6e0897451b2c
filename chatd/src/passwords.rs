//! Password hashing for the engine's `HashPassword` and `VerifyPassword`
//! requests: argon2id with OWASP's minimum parameters (19 MiB of memory,
//! 2 passes, 1 lane) on a small pool of threads of chatd's own, so that
//! the engine task never waits on it and hashing has a fixed memory bound.
//!
//! * At most `threads` hashes or checks run at once, one per worker thread.
//!   Each worker allocates its 19 MiB block on its first job and reuses it
//!   for every job after, so hashing holds at most `threads` × 19 MiB
//!   however many logins arrive at once, and the allocator is never asked
//!   for more.
//! * At most `queue` more wait for a worker. One more is refused at once
//!   ([`Pool::submit`] gives it back): the engine tells that client the
//!   server is busy, which counts as nothing against it or the account.
//! * A login for a name without an account runs the same argon2 work as a
//!   wrong password for a real one, so the answer's timing does not tell
//!   which names have accounts. Every check is counted ([`Checks`]) by
//!   whether it used chatd's own parameters, for the metrics, and that
//!   count is how the tests see the work was done.

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash as Phc, Salt};
use argon2::password_hash::{self, try_generate_salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use async_channel::{Receiver, Sender};
use chatcore::{AuthRequestId, Password, PasswordHash};

/// Memory per hash in KiB (OWASP: at least 19 MiB for argon2id with t = 2).
pub(crate) const MEMORY_KIB: u32 = 19 * 1024;
/// Passes over memory.
pub(crate) const PASSES: u32 = 2;
/// Lanes.
pub(crate) const LANES: u32 = 1;
/// argon2's 1 KiB blocks in one hash's memory: one per KiB, as the memory
/// is a multiple of 4 × lanes.
const BLOCKS: usize = MEMORY_KIB as usize;
/// Bytes of hash output kept in the PHC string (argon2's default).
const OUTPUT_LEN: usize = Params::DEFAULT_OUTPUT_LEN;
/// The salt of the stand-in check made for names without an account. Any
/// salt does: only the work counts, and the answer is always `false`.
const STAND_IN_SALT: &[u8] = b"no such account.";

/// What one argon2 computation does besides its password and salt: all
/// that decides its cost.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Work {
    algorithm: Algorithm,
    version: Version,
    /// Memory, passes, lanes and output length (and any key id or data).
    params: Params,
}

impl Work {
    /// argon2id with the parameters of every hash chatd makes.
    fn chatd() -> Work {
        let params = Params::new(MEMORY_KIB, PASSES, LANES, Some(OUTPUT_LEN))
            .expect("the constants are valid argon2 parameters");
        Work { algorithm: Algorithm::Argon2id, version: Version::V0x13, params }
    }

    /// The work a stored PHC string asks for, its output length that of its hash.
    fn of(phc: &Phc) -> password_hash::Result<Work> {
        let algorithm = Algorithm::try_from(phc.algorithm.as_str())?;
        let version = phc.version.map(Version::try_from).transpose()?.unwrap_or_default();
        Ok(Work { algorithm, version, params: Params::try_from(phc)? })
    }

    fn argon2(&self) -> Argon2<'static> {
        Argon2::new(self.algorithm, self.version, self.params.clone())
    }
}

/// Password checks run since chatd started, each one argon2 computation,
/// by whether it used chatd's own [`Work`]: every worker adds to it, the
/// metrics read it.
#[derive(Debug, Default)]
pub(crate) struct Checks {
    with_chatd_params: AtomicU64,
    with_other_params: AtomicU64,
}

impl Checks {
    fn count(&self, work: &Work) {
        let counter = if *work == Work::chatd() { &self.with_chatd_params } else { &self.with_other_params };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// The counts now.
    pub(crate) fn run(&self) -> ChecksRun {
        ChecksRun {
            with_chatd_params: self.with_chatd_params.load(Ordering::Relaxed),
            with_other_params: self.with_other_params.load(Ordering::Relaxed),
        }
    }
}

/// [`Checks`] at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct ChecksRun {
    /// With the parameters of the hashes chatd makes: checks against those
    /// hashes, and the stand-in check for a name without an account.
    pub(crate) with_chatd_params: u64,
    /// With a stored hash's other parameters (one chatd did not make).
    pub(crate) with_other_params: u64,
}

/// How much password work may be under way at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Limits {
    /// Worker threads: hashes and checks that run at once.
    pub(crate) threads: usize,
    /// Requests that may wait for a worker.
    pub(crate) queue: usize,
}

/// One request from the engine.
#[derive(Debug)]
pub(crate) enum Job {
    /// Hash a new account's password with a fresh salt.
    Hash { request: AuthRequestId, password: Password },
    /// Check a password against an account's hash; `None` for a name
    /// without an account.
    Verify { request: AuthRequestId, password: Password, hash: Option<PasswordHash> },
}

/// A finished job, for the engine.
#[derive(Debug)]
pub(crate) enum Answer {
    /// A password was hashed (or hashing failed).
    Hashed(AuthRequestId, Option<PasswordHash>),
    /// A password was checked.
    Verified(AuthRequestId, bool),
}

impl Job {
    fn request(&self) -> AuthRequestId {
        match self {
            Job::Hash { request, .. } | Job::Verify { request, .. } => *request,
        }
    }
}

/// The worker threads and the queue in front of them. Dropping it closes
/// the queue; each worker ends after its current job.
#[derive(Debug)]
pub(crate) struct Pool {
    jobs: Sender<Job>,
    /// Jobs queued or running; at most `capacity`.
    admitted: Arc<AtomicUsize>,
    capacity: usize,
    checks: Arc<Checks>,
}

impl Pool {
    /// Starts `limits.threads` workers; each calls `answer` with every
    /// [`Answer`], on its own thread (as the store reports, the pool knows
    /// nothing of who listens).
    pub(crate) fn start(limits: Limits, answer: impl Fn(Answer) + Send + Sync + 'static) -> io::Result<Pool> {
        let (jobs, waiting) = async_channel::unbounded();
        let admitted = Arc::new(AtomicUsize::new(0));
        let checks = Arc::new(Checks::default());
        let answer = Arc::new(answer);
        for i in 0..limits.threads {
            let (waiting, admitted, answer) = (waiting.clone(), admitted.clone(), answer.clone());
            let hasher = Hasher { memory: Vec::new(), checks: checks.clone() };
            std::thread::Builder::new()
                .name(format!("chatd-hash-{i}"))
                .spawn(move || work(hasher, &waiting, &admitted, &*answer))
                .map_err(|e| io::Error::new(e.kind(), format!("cannot start a password thread: {e}")))?;
        }
        Ok(Pool { jobs, admitted, capacity: limits.threads + limits.queue, checks })
    }

    /// The password checks the workers have run so far.
    pub(crate) fn checks_run(&self) -> ChecksRun {
        self.checks.run()
    }

    /// Queues `job`, or gives back its request if `threads + queue` jobs
    /// are already queued or running (the server is busy).
    pub(crate) fn submit(&self, job: Job) -> Result<(), AuthRequestId> {
        let admit =
            self.admitted.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| (n < self.capacity).then_some(n + 1));
        if admit.is_err() {
            return Err(job.request());
        }
        // The queue is unbounded; `admitted` is what bounds it. It closes
        // only if every worker is gone, and then nobody would answer.
        self.jobs.try_send(job).map_err(|refused| {
            self.admitted.fetch_sub(1, Ordering::AcqRel);
            refused.into_inner().request()
        })
    }
}

/// A worker thread: takes jobs until the queue closes.
fn work(mut hasher: Hasher, jobs: &Receiver<Job>, admitted: &AtomicUsize, answer: &impl Fn(Answer)) {
    while let Ok(job) = jobs.recv_blocking() {
        let answered = match job {
            Job::Hash { request, password } => Answer::Hashed(request, hasher.hash(&password)),
            Job::Verify { request, password, hash } => {
                Answer::Verified(request, hasher.verify(&password, hash.as_ref()))
            }
        };
        // Its slot is free before the engine hears, so a retry is not refused for it.
        admitted.fetch_sub(1, Ordering::AcqRel);
        answer(answered);
    }
}

/// argon2id with a memory block of its own, allocated on the first use and
/// reused by every hash and check after.
#[derive(Default)]
struct Hasher {
    memory: Vec<Block>,
    /// Where it counts each check it runs.
    checks: Arc<Checks>,
}

impl Hasher {
    /// Hashes with a fresh random salt into a PHC string; `None` if it failed
    /// (the engine then tells the user to try again).
    fn hash(&mut self, password: &Password) -> Option<PasswordHash> {
        match self.try_hash(password.expose().as_bytes()) {
            Ok(phc) => Some(PasswordHash::new(phc.to_string())),
            Err(error) => {
                tracing::error!(%error, "password hashing failed");
                None
            }
        }
    }

    fn try_hash(&mut self, password: &[u8]) -> password_hash::Result<Phc> {
        let salt = try_generate_salt()?;
        let work = Work::chatd();
        let mut out = [0; OUTPUT_LEN];
        self.compute(&work, password, &salt, &mut out)?;
        Ok(Phc {
            algorithm: work.algorithm.ident(),
            version: Some(work.version.into()),
            params: ParamsString::try_from(&work.params)?,
            salt: Some(Salt::new(&salt)?),
            hash: Some(Output::new(&out)?),
        })
    }

    /// Checks a password against a stored PHC string; a malformed hash counts
    /// as a mismatch. With no hash (a name without an account), checks against
    /// a stand-in with chatd's own parameters, so the answer (`false`) costs
    /// what a check against a hash chatd made costs.
    fn verify(&mut self, password: &Password, hash: Option<&PasswordHash>) -> bool {
        let password = password.expose().as_bytes();
        let Some(hash) = hash else {
            let mut out = [0; OUTPUT_LEN];
            let _ = self.check(&Work::chatd(), password, STAND_IN_SALT, &mut out);
            return false;
        };
        match self.matches(password, hash.expose()) {
            Ok(matches) => matches,
            Err(error) => {
                tracing::error!(%error, "a stored password hash is malformed");
                false
            }
        }
    }

    /// Computes the hash with the stored hash's own algorithm, parameters
    /// and salt, and compares in constant time (`Output`'s `==`).
    fn matches(&mut self, password: &[u8], hash: &str) -> password_hash::Result<bool> {
        let phc = Phc::new(hash)?;
        let (Some(salt), Some(expected)) = (&phc.salt, &phc.hash) else {
            return Err(password_hash::Error::EncodingInvalid);
        };
        let work = Work::of(&phc)?;
        let mut buffer = [0; Output::MAX_LENGTH];
        let out = buffer.get_mut(..expected.len()).ok_or(password_hash::Error::OutputSize)?;
        self.check(&work, password, salt, out)?;
        Ok(Output::new(out)? == *expected)
    }

    /// [`Hasher::compute`] for a password check, counted.
    fn check(&mut self, work: &Work, password: &[u8], salt: &[u8], out: &mut [u8]) -> argon2::Result<()> {
        self.checks.count(work);
        self.compute(work, password, salt, out)
    }

    /// Runs argon2 in this hasher's block. A stored hash asking for more
    /// memory than chatd's parameters (chatd makes none) gets a block of
    /// its own for that one check, so the kept block never grows.
    fn compute(&mut self, work: &Work, password: &[u8], salt: &[u8], out: &mut [u8]) -> argon2::Result<()> {
        let argon2 = work.argon2();
        let needed = work.params.block_count();
        if needed > BLOCKS {
            return argon2.hash_password_into(password, salt, out);
        }
        if self.memory.is_empty() {
            self.memory = vec![Block::new(); BLOCKS];
        }
        argon2.hash_password_into_with_memory(password, salt, out, &mut self.memory[..needed])
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use argon2::password_hash::{PasswordHasher, PasswordVerifier};

    use super::*;

    #[test]
    fn hashes_are_salted_argon2id_and_verify_only_the_right_password() {
        let mut hasher = Hasher::default();
        let first = hasher.hash(&Password::new("correct horse")).unwrap();
        let second = hasher.hash(&Password::new("correct horse")).unwrap();
        assert!(first.expose().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{}", first.expose());
        assert_ne!(first, second, "each hash has its own salt");
        assert!(!first.expose().contains("correct horse"));
        assert!(hasher.verify(&Password::new("correct horse"), Some(&first)));
        assert!(!hasher.verify(&Password::new("correct horsE"), Some(&first)));
        assert!(!hasher.verify(&Password::new("x"), Some(&PasswordHash::new("not a phc string"))));
        assert_eq!(BLOCKS, Work::chatd().params.block_count());
        assert_eq!(hasher.memory.len(), BLOCKS, "one block, kept");
    }

    #[test]
    fn hashes_agree_with_the_argon2_crates_own() {
        let library = Work::chatd().argon2();
        let mut hasher = Hasher::default();
        let ours = hasher.hash(&Password::new("correct horse")).unwrap();
        let phc = Phc::new(ours.expose()).unwrap();
        assert!(library.verify_password(b"correct horse", &phc).is_ok());
        assert!(library.verify_password(b"wrong horse", &phc).is_err());
        let theirs = library.hash_password(b"correct horse").unwrap().to_string();
        assert!(hasher.verify(&Password::new("correct horse"), Some(&PasswordHash::new(theirs.clone()))));
        assert!(!hasher.verify(&Password::new("wrong horse"), Some(&PasswordHash::new(theirs))));
        // Other parameters are checked too, in a block of their own.
        let heavier =
            Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::new(MEMORY_KIB * 2, 1, 1, None).unwrap());
        let heavier = heavier.hash_password(b"correct horse").unwrap().to_string();
        assert!(hasher.verify(&Password::new("correct horse"), Some(&PasswordHash::new(heavier))));
        assert_eq!(hasher.memory.len(), BLOCKS, "the kept block did not grow");
        // The crate's defaults are chatd's parameters; the heavier hash's are not.
        assert_eq!(hasher.checks.run(), ChecksRun { with_chatd_params: 2, with_other_params: 1 });
    }

    #[test]
    fn a_name_without_an_account_costs_one_check_with_chatds_own_parameters_and_never_matches() {
        let mut hasher = Hasher::default();
        let real = hasher.hash(&Password::new("correct horse")).unwrap();
        assert_eq!(hasher.checks.run(), ChecksRun::default(), "hashing is no check");
        // A hash chatd made asks for chatd's work: algorithm, version, memory,
        // passes, lanes and output length.
        assert_eq!(Work::of(&Phc::new(real.expose()).unwrap()).unwrap(), Work::chatd());
        assert!(!hasher.verify(&Password::new("wrong horse"), Some(&real)));
        assert_eq!(hasher.checks.run(), ChecksRun { with_chatd_params: 1, with_other_params: 0 });
        // With no account the same work is done once more, and even the
        // password that is right for another name does not match.
        assert!(!hasher.verify(&Password::new("correct horse"), None));
        assert_eq!(hasher.checks.run(), ChecksRun { with_chatd_params: 2, with_other_params: 0 });
    }

    /// Login requests as the engine makes them (their ids cannot be made otherwise).
    fn login_requests(n: usize) -> Vec<Job> {
        let mut engine = chatcore::Engine::new(chatcore::Config::default()).unwrap();
        let now = chatcore::Now::system();
        for i in 0..n {
            let client = engine.handle_connect(now, chatcore::ConnectInfo::default());
            // One name each: one name's checks from one source go one at a time.
            engine.handle_input(now, client, format!("/login nobody{i} Zq8-guess\n").as_bytes()).unwrap();
        }
        std::iter::from_fn(|| engine.poll_output())
            .filter_map(|output| match output {
                chatcore::Output::VerifyPassword { request, password, hash } => {
                    Some(Job::Verify { request, password, hash })
                }
                _ => None,
            })
            .collect()
    }

    #[test]
    fn the_pool_refuses_what_exceeds_its_threads_and_queue_and_takes_more_once_answered() {
        let (done, answers) = async_channel::unbounded();
        let pool = Pool::start(Limits { threads: 1, queue: 1 }, move |answer| {
            let _ = done.send_blocking(answer);
        })
        .unwrap();
        let mut jobs = login_requests(5).into_iter();
        let mut next = || jobs.next().unwrap();
        let (first, second, third) = (next(), next(), next());
        let (one, two, three) = (first.request(), second.request(), third.request());
        // One runs, one waits (a check takes milliseconds; these take microseconds).
        assert_eq!(pool.submit(first), Ok(()));
        assert_eq!(pool.submit(second), Ok(()));
        assert_eq!(pool.submit(third), Err(three));
        let mut answered = Vec::new();
        for _ in 0..2 {
            match answers.recv_blocking().unwrap() {
                Answer::Verified(request, matches) => answered.push((request, matches)),
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(answered, [(one, false), (two, false)]);
        // Both slots are free again.
        assert_eq!(pool.submit(next()), Ok(()));
        assert_eq!(pool.submit(next()), Ok(()));
        let deadline = Instant::now() + Duration::from_secs(10);
        while answers.len() < 2 {
            assert!(Instant::now() < deadline, "the pool stopped answering");
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}
