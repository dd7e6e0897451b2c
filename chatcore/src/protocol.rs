// The wire protocols in full, on docs.rs beside the API. The text lives in
// PROTOCOL.md at the crate's root, so it reads as plain Markdown too.
#![doc = include_str!("../PROTOCOL.md")]
