//! Slow WebSocket clients: connections to this very server that authenticate, then send
//! WebSocket pings (the largest a control frame carries, each answered by a pong as large) and
//! never read the answers, with a tiny receive buffer, so the server's bounded outbox fills and
//! the server drops them (close 1013).

use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::Duration;

use futures_util::SinkExt;
use tokio::net::TcpSocket;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

/// Receive buffer of a slow client: small, so a few thousand unread pongs fill it.
const RECEIVE_BUFFER: u32 = 4096;
/// Pings written between two flushes.
const BATCH: usize = 64;

/// Where the slow clients connect and how they authenticate.
pub struct WsTarget {
    /// The server's address, known once it listens.
    addr: OnceLock<SocketAddr>,
    /// Mints a fresh bearer token (signed with the process's JWT secret).
    token: Box<dyn Fn() -> String + Send + Sync>,
}

/// How one slow client ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlowEnd {
    /// The server closed it (what the fault is after).
    Dropped,
    /// The fault ended first.
    Outlasted,
}

impl WsTarget {
    /// A target whose tokens `token` mints; its address is set by [`WsTarget::listening_on`].
    pub fn new(token: impl Fn() -> String + Send + Sync + 'static) -> Self {
        Self {
            addr: OnceLock::new(),
            token: Box::new(token),
        }
    }

    /// Records the address the server listens on (the first call wins).
    pub fn listening_on(&self, addr: SocketAddr) {
        let _ = self.addr.set(addr);
    }

    /// Runs one slow client until the server drops it or `until`; `Err` when it could not
    /// connect.
    pub async fn slow_client(&self, until: Instant) -> Result<SlowEnd, String> {
        let addr = *self
            .addr
            .get()
            .ok_or("the server's address is not known yet")?;
        let mut request = format!("ws://{addr}/api/v1/ws/jobs")
            .into_client_request()
            .map_err(|e| e.to_string())?;
        let offer = format!("bearer, {}", (self.token)());
        request.headers_mut().insert(
            "sec-websocket-protocol",
            offer
                .parse()
                .map_err(|_| "the token is not a header value")?,
        );
        let socket = TcpSocket::new_v4().map_err(|e| e.to_string())?;
        socket
            .set_recv_buffer_size(RECEIVE_BUFFER)
            .map_err(|e| e.to_string())?;
        let stream = socket.connect(addr).await.map_err(|e| e.to_string())?;
        let (mut ws, _) = tokio_tungstenite::client_async(request, stream)
            .await
            .map_err(|e| format!("WebSocket handshake: {e}"))?;
        // A control frame carries at most 125 bytes; the server echoes them in its pong.
        let ping = Message::Ping(vec![b'x'; 125].into());
        // Only ever written: the answers pile up until the server gives up on this client.
        while Instant::now() < until {
            let batch = async {
                for _ in 0..BATCH {
                    ws.feed(ping.clone()).await?;
                }
                ws.flush().await
            };
            match tokio::time::timeout_at(until, batch).await {
                Ok(Ok(())) => tokio::time::sleep(Duration::from_millis(1)).await,
                Ok(Err(_)) => return Ok(SlowEnd::Dropped),
                Err(_) => break,
            }
        }
        Ok(SlowEnd::Outlasted)
    }
}
