//! Giving memory back to the system once a wave of connections is over.
//!
//! glibc's allocator keeps what its threads free for reuse, in per-thread
//! arenas, and returns it to the system only from the top of each heap.
//! After a wave of 20,000 half-sent request heads, chatd held about
//! 150 MiB resident that nothing used any more; `malloc_trim(0)` took it
//! back to 7.8 MiB (see `benches/README.md`, *Slow request heads from many
//! addresses*). Other allocators, and other systems, give memory back by
//! themselves: there this does nothing.

/// Returns the allocator's free memory to the system. Costs a walk of the
/// heap, so it is for the end of a wave, not for every connection.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub(crate) fn give_back() {
    // SAFETY: `malloc_trim` takes no pointer and works on glibc's own
    // arenas under their locks; it may be called from any thread at any
    // time.
    #[allow(unsafe_code)]
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Returns the allocator's free memory to the system: nothing to do here.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub(crate) fn give_back() {}
