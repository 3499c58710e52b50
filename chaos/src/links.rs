//! The links the chaos monkey can break: a [`FaultProxy`] in front of Postgres, one in front of
//! Redis and one in front of the Redis the event buses use, and the connection URLs rewritten to
//! go through them ([`through_proxy`]).

use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;

use url::Url;

use crate::proxy::{FaultMode, FaultProxy};

/// A dependency link the monkey can break.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    /// The Postgres pools.
    Postgres,
    /// The Redis pools (health probes, cache, rate limiter).
    Redis,
    /// The event buses' Redis connections.
    Bus,
}

/// The proxies in front of each dependency (`None`: not configured, e.g. no Redis).
#[derive(Clone, Default)]
pub struct Links {
    /// In front of Postgres.
    pub postgres: Option<Arc<FaultProxy>>,
    /// In front of Redis.
    pub redis: Option<Arc<FaultProxy>>,
    /// In front of the event buses' Redis.
    pub bus: Option<Arc<FaultProxy>>,
}

/// The connection URLs to use when the links are proxied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Routed {
    /// Postgres, through its proxy.
    pub database_url: String,
    /// Redis, through its proxy (`None`: no Redis).
    pub redis_url: Option<String>,
    /// The event buses' Redis, through their own proxy (`None`: no Redis).
    pub bus_url: Option<String>,
}

impl Links {
    /// Starts a proxy in front of Postgres and two in front of Redis (when configured) and
    /// returns them with the URLs that go through them.
    pub fn start(database_url: &str, redis_url: Option<&str>) -> Result<(Self, Routed), String> {
        let proxied = |url: &str, default_port: u16| -> Result<(Arc<FaultProxy>, String), String> {
            let upstream = upstream(url, default_port)?;
            let proxy = Arc::new(FaultProxy::start(upstream));
            let routed = through_proxy(url, proxy.addr())?;
            Ok((proxy, routed))
        };
        let (postgres, database_url) = proxied(database_url, 5432)?;
        let (redis, bus) = match redis_url {
            Some(url) => (Some(proxied(url, 6379)?), Some(proxied(url, 6379)?)),
            None => (None, None),
        };
        let routed = Routed {
            database_url,
            redis_url: redis.as_ref().map(|(_, url)| url.clone()),
            bus_url: bus.as_ref().map(|(_, url)| url.clone()),
        };
        let links = Self {
            postgres: Some(postgres),
            redis: redis.map(|(proxy, _)| proxy),
            bus: bus.map(|(proxy, _)| proxy),
        };
        Ok((links, routed))
    }

    /// Sets `link`'s proxy to `mode` (nothing when the link is not proxied).
    pub fn set(&self, link: Link, mode: FaultMode) {
        let proxy = match link {
            Link::Postgres => &self.postgres,
            Link::Redis => &self.redis,
            Link::Bus => &self.bus,
        };
        if let Some(proxy) = proxy {
            proxy.set_mode(mode);
        }
    }
}

/// The address a `postgres://` or `redis://` URL connects to (`default_port` when it names
/// none).
fn upstream(url: &str, default_port: u16) -> Result<SocketAddr, String> {
    let parsed = Url::parse(url).map_err(|e| format!("cannot parse the URL: {e}"))?;
    let host = parsed
        .host_str()
        .filter(|h| !h.is_empty())
        .ok_or("the URL names no host (a Unix socket cannot be proxied)")?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let port = parsed.port().unwrap_or(default_port);
    (host, port)
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {host}: {e}"))?
        .next()
        .ok_or_else(|| format!("{host} resolves to no address"))
}

/// `url` with its host and port replaced by `proxy`'s (user, password, database and query
/// kept).
pub fn through_proxy(url: &str, proxy: SocketAddr) -> Result<String, String> {
    let mut parsed = Url::parse(url).map_err(|e| format!("cannot parse the URL: {e}"))?;
    parsed
        .set_ip_host(proxy.ip())
        .map_err(|()| "the URL cannot take a host")?;
    parsed
        .set_port(Some(proxy.port()))
        .map_err(|()| "the URL cannot take a port")?;
    Ok(parsed.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_routed_through_the_proxy_keeping_the_rest() {
        let proxy: SocketAddr = "127.0.0.1:41234".parse().unwrap();
        assert_eq!(
            through_proxy(
                "postgres://postgres:pw@db.internal:5433/scale?sslmode=disable",
                proxy
            )
            .unwrap(),
            "postgres://postgres:pw@127.0.0.1:41234/scale?sslmode=disable"
        );
        assert_eq!(
            through_proxy("redis://127.0.0.1:6379/2", proxy).unwrap(),
            "redis://127.0.0.1:41234/2"
        );
        assert!(through_proxy("not a url", proxy).is_err());
    }

    #[test]
    fn the_upstream_defaults_its_port() {
        assert_eq!(
            upstream("postgres://postgres@127.0.0.1/scale", 5432).unwrap(),
            "127.0.0.1:5432".parse().unwrap()
        );
        assert_eq!(
            upstream("redis://127.0.0.1:7000", 6379).unwrap(),
            "127.0.0.1:7000".parse().unwrap()
        );
        assert!(upstream("unix:///tmp/redis.sock", 6379).is_err());
    }
}
