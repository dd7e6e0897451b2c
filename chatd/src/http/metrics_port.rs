//! The metrics port (`--metrics-listen`): `/metrics` and `/healthz` only,
//! apart from the public HTTP port so that what the figures tell is not
//! served to whoever can load the chat page. And the answer a health check
//! or a scrape still gets when chatd has no descriptor left but its
//! reserve.

use std::net::TcpStream;
use std::time::Duration;

use smol::Async;

use super::page::{Response, Status};
use super::request::{self, HeadError};
use super::{Http, answer, refuse_unknown_host, scrape, within};
use crate::arrival::Arrival;

/// How long a connection let in on the reserve descriptor has to send its
/// request: it was waiting in the backlog, so its head has usually
/// arrived already, and the reserve is lent to one connection at a time.
const AT_LIMIT_HEAD: Duration = Duration::from_millis(500);

/// Serves one request on the metrics port, then closes. Only to the names
/// the HTTP port answers to: a page that rebinds its name to loopback
/// must not scrape it either.
pub(crate) async fn serve_metrics(stream: Async<TcpStream>, arrival: Arrival, http: &Http) {
    let peer = arrival.peer;
    let response = match request::read_head(&stream).await {
        Ok((head, _)) => match refuse_unknown_host(&head, &arrival, http) {
            Some(refused) => refused,
            None => route(&head, http, true).await,
        },
        Err(HeadError::Closed | HeadError::Io(_)) => return,
        Err(error) => Response::text(Status::BadRequest, &error.to_string()),
    };
    tracing::debug!(%peer, status = ?response.status(), "metrics port request");
    answer(&stream, response).await;
}

/// Answers a connection let in on the reserve descriptor once no other is
/// left: a health check (and, on the metrics port, a scrape) as usual,
/// anything else `503` with `why`. Gives the connection back for the loan
/// of the reserve to close it.
pub(crate) async fn answer_at_limit(
    stream: TcpStream,
    http: &Http,
    metrics_port: bool,
    why: &str,
) -> Option<TcpStream> {
    let stream = Async::new(stream).ok()?;
    let busy = || super::too_many_connections_response(why);
    let response = match within(AT_LIMIT_HEAD, request::read_head(&stream)).await {
        Some(Ok((head, _))) if head.path == "/healthz" || (metrics_port && head.path == "/metrics") => {
            route(&head, http, metrics_port).await
        }
        _ => busy(),
    };
    answer(&stream, response).await;
    stream.into_inner().ok()
}

/// What the metrics port (or, with `metrics_port` false, the reserve on
/// the public port) answers to `head`.
async fn route(head: &request::Head, http: &Http, metrics_port: bool) -> Response {
    match (head.method.as_str(), head.path.as_str()) {
        ("GET", "/healthz") => http.health(),
        ("GET", "/metrics") if metrics_port => scrape(http).await,
        ("GET", _) => Response::text(Status::NotFound, "not found"),
        _ => Response::text(Status::MethodNotAllowed, "only GET is served here").header("Allow", "GET"),
    }
}
