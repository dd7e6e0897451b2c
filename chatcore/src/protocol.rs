// The wire protocols in full, on docs.rs beside the API. The text lives in
// PROTOCOL.md at the crate's root, so it reads as plain Markdown too.
#![doc = include_str!("../PROTOCOL.md")]

// The crate README's example runs as a doctest, so it cannot drift from the
// API. It is compiled for doctests only and never appears in the docs.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
