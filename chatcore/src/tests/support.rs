//! Tests of the engine's logic speak JSON Lines: they assert on each reply's
//! `type`, its fields and the `code` of a refusal, which stay put when the
//! text protocol's wording changes.
#![cfg(feature = "json")]

use serde_json::Value;

use super::rejected;
use crate::ClientId;
use crate::sim::Sim;

/// Sends `request` from a JSON client that must be refused, leaving the
/// state unchanged and nobody else told (as [`rejected`]), and returns the
/// refusal's `code` and `message`.
pub(crate) fn refusal(sim: &mut Sim, client: ClientId, request: &Value) -> (String, String) {
    let reply = rejected(sim, client, &request.to_string());
    assert_eq!(reply.len(), 1, "{request}: {reply:?}");
    let error: Value = serde_json::from_str(&reply[0]).unwrap_or_else(|e| panic!("{request}: {reply:?}: {e}"));
    assert_eq!(error["type"], "error", "{request}: {error}");
    let field = |key: &str| error[key].as_str().unwrap_or_else(|| panic!("{request}: no {key} in {error}")).to_owned();
    (field("code"), field("message"))
}

/// The `code` of the refusal of `request` (see [`refusal`]).
pub(crate) fn refused(sim: &mut Sim, client: ClientId, request: &Value) -> String {
    refusal(sim, client, request).0
}
