//! What the fake servers (feature `fakes`) share: a loopback server on a runtime of its own, and faults
//! keyed by operation and request number.

use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Respond};

/// Starts a loopback server answering every request with `handler`, on a runtime of its own so blocking
/// callers (the CLI, the engine) can use it from any thread. `handler` gets the server's base URL.
pub fn serve<H: Respond + 'static>(
    handler: impl FnOnce(String) -> H,
) -> (tokio::runtime::Runtime, MockServer) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime for a fake server");
    let server = runtime.block_on(MockServer::start());
    let handler = handler(server.uri());
    runtime.block_on(Mock::given(any()).respond_with(handler).mount(&server));
    (runtime, server)
}

/// A fault served instead of the normal answer to the `nth` (0-based) request of operation `op`: a status
/// (429 carries `Retry-After: 1`), or 0 for the normal body cut in half.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusFault {
    /// Operation, as the fake names it.
    pub op: String,
    /// Which of its requests.
    pub nth: usize,
    /// Status, or 0.
    pub status: u16,
}
