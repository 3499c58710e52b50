//! A loopback TCP proxy whose link to the upstream can be cut or stalled on demand.

use std::net::SocketAddr;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// What the proxy does with connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultMode {
    /// Forward bytes both ways.
    Pass,
    /// Close every open connection and every new one at once (the dependency is down).
    Down,
    /// Accept connections but never answer (the dependency hangs).
    Hang,
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

    /// Switches the proxy's behaviour; open connections are cut unless the mode is `Pass`.
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
                    Some(FaultMode::Pass) => {
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

/// Copies bytes until either side closes or the mode leaves `Pass`.
async fn forward(
    mut client: TcpStream,
    upstream: SocketAddr,
    mut mode: watch::Receiver<Option<FaultMode>>,
) {
    let Ok(mut server) = TcpStream::connect(upstream).await else {
        return;
    };
    tokio::select! {
        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
        _ = mode.wait_for(|m| *m != Some(FaultMode::Pass)) => {
            tracing::debug!("fault proxy cut a connection");
        }
    }
}

/// Keeps a connection open without answering until the mode changes.
async fn hold(client: TcpStream, mut mode: watch::Receiver<Option<FaultMode>>) {
    let _ = mode.wait_for(|m| *m != Some(FaultMode::Hang)).await;
    drop(client);
}
