# syntax=docker/dockerfile:1
#
# Parley's chatd image: the web app built with Node, the server built with Go
# into one static binary that embeds it, and a distroless runtime that runs it
# as a non-root user. Every base image has a pinned version; the Go and npm
# dependencies are pinned by go.sum and package-lock.json.
#
#   docker build -t parley-chatd .
#   docker run -p 8080:8080 -e PARLEY_MYSQL_DSN=... -e PARLEY_REDIS_URL=... parley-chatd
#
# For a reproducible image, build with the commit's time as
# --build-arg SOURCE_DATE_EPOCH=$(git log -1 --format=%ct).

ARG NODE_VERSION=20.20.2
ARG GO_VERSION=1.26.8

# --- web app -----------------------------------------------------------------
FROM node:${NODE_VERSION}-bookworm-slim AS webapp
WORKDIR /src/webapp
COPY webapp/package.json webapp/package-lock.json ./
RUN --mount=type=cache,target=/root/.npm \
    npm ci --no-audit --no-fund
COPY webapp/ ./
RUN npm run build

# --- server ------------------------------------------------------------------
FROM golang:${GO_VERSION}-bookworm AS server
WORKDIR /src
# A static binary, no local toolchain switch, no paths or VCS stamps of the
# build machine inside.
ENV CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS="-trimpath -buildvcs=false"
COPY . .
COPY --from=webapp /src/webapp/dist/app ./webapp/dist/app
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    go build -ldflags="-s -w -buildid=" -o /out/chatd ./cmd/chatd && \
    go build -ldflags="-s -w -buildid=" -o /out/healthcheck ./deploy/healthcheck && \
    mkdir -p /out/data/blobs

# --- runtime -----------------------------------------------------------------
# static-debian12 has CA certificates and tzdata but no shell: the health
# check is the small Go program built above.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=server /out/chatd /out/healthcheck /
# Uploaded files, unless PARLEY_S3_ENDPOINT is set: a directory nonroot
# owns, which a volume mounted on /data starts as.
COPY --from=server --chown=nonroot:nonroot /out/data /data
ENV PARLEY_BLOB_DIR=/data/blobs
USER nonroot:nonroot
# The API, WebSocket and web app; the admin listener (/metrics, pprof) is
# published to nobody: chatd's default keeps it on the container's loopback,
# compose.yaml opens it to the internal network only.
ENV PARLEY_ADDR=:8080
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
    CMD ["/healthcheck", "/healthz"]
# chatd drains on SIGTERM: live connections are told to reconnect elsewhere,
# then it waits up to PARLEY_SHUTDOWN_TIMEOUT for in-flight requests.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/chatd"]
