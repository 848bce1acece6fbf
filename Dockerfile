# Herald: one static binary (pure-Go SQLite, no cgo), run as a non-root user.
#   docker build -t herald .
#   docker run -v herald:/data -e TELEGRAM_BOT_TOKEN=… -e PUBLIC_URL=https://… -p 8080:8080 herald
# The build image is pinned to the Go release go.mod asks for.
FROM golang:1.26.8-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=""
# The same flags as .goreleaser.yaml (TestDockerfile_BuildFlags checks it).
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/herald . \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/herald /herald
# The embedded database lives in /data unless DATABASE_URL says otherwise;
# the directory is made here and owned by the image's non-root user
# (65532), whatever builder runs this file.
COPY --from=build --chown=65532:65532 /out/data /data
VOLUME /data
WORKDIR /data
ENV DATABASE_URL=sqlite:/data/herald.db LISTEN_ADDR=:8080
EXPOSE 8080
USER 65532:65532
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 CMD ["/herald", "healthcheck"]
ENTRYPOINT ["/herald"]
