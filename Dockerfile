# syntax=docker/dockerfile:1
# The SCALE service image. Targets: `api` (the default, `scale serve --role api`) and `worker`
# (`scale serve --role worker`); see docs/deploy.md. Needs BuildKit (cache mounts).

# The build stage and the runtime stage share one Debian release, so the binary finds the glibc
# it was linked against.
ARG RUST_IMAGE=rust:1.95-slim-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

FROM ${RUST_IMAGE} AS build
WORKDIR /src
COPY . .
# The crates.io downloads and the target directory live in cache mounts, kept between builds:
# a source change recompiles only the workspace crates. The binary is copied out of the mount.
RUN --mount=type=cache,target=/usr/local/cargo/registry,sharing=locked \
    --mount=type=cache,target=/usr/local/cargo/git,sharing=locked \
    --mount=type=cache,target=/src/target,sharing=locked \
    cargo build --release --locked --bin scale \
    && install -D -m 0755 target/release/scale /out/scale

# What every role runs: the binary (pure-Rust TLS and Postgres client: it links only glibc and
# libgcc_s, both in the Debian base), the CA bundle for Sentry's HTTPS and the base's bash for the
# health check, as an unprivileged user.
FROM ${RUNTIME_IMAGE} AS runtime
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /out/scale /usr/local/bin/scale
ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
    BIND_ADDR=0.0.0.0:8000 \
    LOG_FORMAT=json
USER 10001:10001
EXPOSE 8000
# Liveness over the API port (every role serves it): one HTTP request with bash's /dev/tcp, healthy
# on a 200 status line. The port is BIND_ADDR's.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 CMD ["bash", "-c", \
    "exec 3<>/dev/tcp/127.0.0.1/${BIND_ADDR##*:} && printf 'GET /api/v1/health HTTP/1.1\\r\\nHost: localhost\\r\\nConnection: close\\r\\n\\r\\n' >&3 && read -r _ status _ <&3 && [ \"$status\" = 200 ]"]
ENTRYPOINT ["/usr/local/bin/scale"]

# Runs training jobs (and serves the HTTP app, health included, like every role).
FROM runtime AS worker
CMD ["serve", "--role", "worker"]

# Serves the API and never runs training jobs. Last, so a build without --target makes it.
FROM runtime AS api
CMD ["serve", "--role", "api"]
