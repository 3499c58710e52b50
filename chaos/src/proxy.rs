//! A loopback TCP proxy whose link to the upstream can be cut, stalled, slowed or made flaky on
//! demand.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// What the proxy does with connections.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FaultMode {
    /// Forward bytes both ways.
    Pass,
    /// Close every open connection and every new one at once (the dependency is down).
    Down,
    /// Accept connections but never answer (the dependency hangs).
    Hang,
    /// Forward bytes both ways, each chunk held back by this long in each direction (the
    /// dependency answers slowly); open connections stay open when switching from `Pass`.
    Slow(Duration),
    /// Forward bytes both ways, but refuse each new connection, and cut an open one at each
    /// chunk, with this probability (0..=1): the dependency fails now and then.
    Flaky(f64),
}

impl FaultMode {
    /// Whether connections are forwarded in this mode.
    fn forwards(mode: Option<Self>) -> bool {
        matches!(
            mode,
            Some(FaultMode::Pass | FaultMode::Slow(_) | FaultMode::Flaky(_))
        )
    }

    /// Whether a connection or chunk is dropped now: a draw against a `Flaky` probability.
    fn drops(mode: Option<Self>) -> bool {
        match mode {
            Some(FaultMode::Flaky(p)) => rand::random::<f64>() < p,
            _ => false,
        }
    }
}

/// A running proxy on `127.0.0.1`; it stops when dropped.
pub struct FaultProxy {
    addr: SocketAddr,
    mode: watch::Sender<Option<FaultMode>>,
}

impl FaultProxy {
    /// Starts forwarding a fresh loopback port to `upstream` (e.g. `127.0.0.1:5432`) on a thread
    /// of its own, so it keeps working whatever runtime the caller uses.
    pub fn start(upstream: SocketAddr) -> Self {
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind fault proxy");
        std_listener
            .set_nonblocking(true)
            .expect("non-blocking listener");
        let addr = std_listener.local_addr().expect("proxy address");
        let (mode, watcher) = watch::channel(Some(FaultMode::Pass));
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("fault proxy runtime");
            rt.block_on(async move {
                let listener = TcpListener::from_std(std_listener).expect("tokio listener");
                accept_loop(listener, upstream, watcher).await;
            });
        });
        Self { addr, mode }
    }

    /// The address clients should connect to instead of the upstream.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Switches the proxy's behaviour; open connections are cut unless the mode forwards
    /// (`Pass`, `Slow`, `Flaky`).
    pub fn set_mode(&self, mode: FaultMode) {
        self.mode.send_replace(Some(mode));
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.mode.send_replace(None);
    }
}

async fn accept_loop(
    listener: TcpListener,
    upstream: SocketAddr,
    mut mode: watch::Receiver<Option<FaultMode>>,
) {
    loop {
        tokio::select! {
            changed = mode.changed() => {
                if changed.is_err() || mode.borrow().is_none() {
                    return;
                }
            }
            accepted = listener.accept() => {
                let Ok((client, _)) = accepted else { continue };
                let current = *mode.borrow();
                match current {
                    mode if FaultMode::drops(mode) => drop(client),
                    Some(FaultMode::Pass | FaultMode::Slow(_) | FaultMode::Flaky(_)) => {
                        tokio::spawn(forward(client, upstream, mode.clone()));
                    }
                    Some(FaultMode::Hang) => {
                        tokio::spawn(hold(client, mode.clone()));
                    }
                    Some(FaultMode::Down) | None => drop(client),
                }
            }
        }
    }
}

/// Copies bytes both ways until both sides close, either fails, or the mode stops forwarding.
async fn forward(
    client: TcpStream,
    upstream: SocketAddr,
    mut mode: watch::Receiver<Option<FaultMode>>,
) {
    let Ok(server) = TcpStream::connect(upstream).await else {
        return;
    };
    let (client_read, client_write) = client.into_split();
    let (server_read, server_write) = server.into_split();
    let (upstream_mode, downstream_mode) = (mode.clone(), mode.clone());
    let both_ways = async {
        tokio::try_join!(
            pipe(client_read, server_write, upstream_mode),
            pipe(server_read, client_write, downstream_mode),
        )
    };
    tokio::select! {
        _ = both_ways => {}
        _ = mode.wait_for(|m| !FaultMode::forwards(*m)) => {
            tracing::debug!("fault proxy cut a connection");
        }
    }
}

/// Copies `from` to `to` until `from` closes, holding each chunk back while the mode is `Slow`
/// and failing at a chunk by chance while it is `Flaky`.
async fn pipe(
    mut from: OwnedReadHalf,
    mut to: OwnedWriteHalf,
    mode: watch::Receiver<Option<FaultMode>>,
) -> io::Result<()> {
    let mut buf = vec![0; 16 * 1024];
    loop {
        let n = from.read(&mut buf).await?;
        if n == 0 {
            return to.shutdown().await;
        }
        if FaultMode::drops(*mode.borrow()) {
            return Err(io::Error::new(
                io::ErrorKind::ConnectionReset,
                "fault proxy dropped a chunk",
            ));
        }
        let delay = match *mode.borrow() {
            Some(FaultMode::Slow(delay)) => delay,
            _ => Duration::ZERO,
        };
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        to.write_all(&buf[..n]).await?;
    }
}

/// Keeps a connection open without answering until the mode changes.
async fn hold(client: TcpStream, mut mode: watch::Receiver<Option<FaultMode>>) {
    let _ = mode.wait_for(|m| *m != Some(FaultMode::Hang)).await;
    drop(client);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An upstream that echoes every connection.
    async fn echo() -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut conn, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let (mut read, mut write) = conn.split();
                    let _ = tokio::io::copy(&mut read, &mut write).await;
                });
            }
        });
        addr
    }

    /// Whether one round trip through the proxy comes back.
    async fn round_trip(proxy: &FaultProxy) -> bool {
        let Ok(mut conn) = TcpStream::connect(proxy.addr()).await else {
            return false;
        };
        let mut answer = [0; 4];
        let trip = async {
            conn.write_all(b"ping").await?;
            conn.read_exact(&mut answer).await
        };
        tokio::time::timeout(Duration::from_secs(2), trip)
            .await
            .is_ok_and(|r| r.is_ok())
            && &answer == b"ping"
    }

    #[tokio::test]
    async fn a_flaky_proxy_drops_by_its_probability() {
        let proxy = FaultProxy::start(echo().await);
        assert!(round_trip(&proxy).await);
        proxy.set_mode(FaultMode::Flaky(1.0));
        assert!(!round_trip(&proxy).await);
        proxy.set_mode(FaultMode::Flaky(0.0));
        assert!(round_trip(&proxy).await);
    }
}
