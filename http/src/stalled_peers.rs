//! Cutting peers that stop taking data. A client that never reads (a WebSocket subscriber that
//! stopped reading, a download left paused) fills its receive window; once the server's send
//! buffer is full too, the connection would stay open for as long as the client keeps it, even
//! after the server gave up on it (a close frame cannot be delivered through a full window).
//! With `TCP_USER_TIMEOUT` set on every accepted socket, the kernel aborts a connection whose
//! sent data stays unacknowledged — zero-window probes included — for longer than the timeout:
//! the server's next read or write fails, actix drops the connection and the peer gets a reset.

use std::any::Any;
use std::time::Duration;

use actix_web::dev::Extensions;
use actix_web::rt::net::TcpStream;
use socket2::SockRef;

/// An `on_connect` hook for [`actix_web::HttpServer::on_connect`] that sets `TCP_USER_TIMEOUT`
/// to `timeout` on every accepted TCP connection (others, such as Unix sockets, are left alone).
pub fn cut_after(timeout: Duration) -> impl Fn(&dyn Any, &mut Extensions) + Send + Sync + Clone {
    move |connection, _| {
        if let Some(stream) = connection.downcast_ref::<TcpStream>() {
            if let Err(err) = SockRef::from(stream).set_tcp_user_timeout(Some(timeout)) {
                tracing::warn!(error = %err, "cannot set TCP_USER_TIMEOUT on a connection");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{ErrorKind, Write};

    /// A peer that reads nothing: the server side's writes fail once the timeout has passed
    /// with the window shut, and the peer then sees a reset.
    #[actix_web::test]
    async fn a_peer_that_reads_nothing_is_cut() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let reader =
            socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
        reader.set_recv_buffer_size(4096).unwrap();
        reader
            .connect(&listener.local_addr().unwrap().into())
            .unwrap();
        let (accepted, _) = listener.accept().unwrap();
        accepted.set_nonblocking(true).unwrap();
        let stream = TcpStream::from_std(accepted).unwrap();
        cut_after(Duration::from_millis(300))(&stream as &dyn Any, &mut Extensions::new());

        let mut stream = stream.into_std().unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        let error = loop {
            assert!(
                std::time::Instant::now() < deadline,
                "the stalled connection was never cut"
            );
            match stream.write(&[0; 65536]) {
                Ok(_) => {}
                Err(err) if err.kind() == ErrorKind::WouldBlock => {
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(err) => break err,
            }
        };
        assert_eq!(error.kind(), ErrorKind::TimedOut, "{error}");
    }
}
