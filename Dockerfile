# Herald: one static binary (pure-Go SQLite, no cgo), run as a non-root user.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/herald .

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/herald /herald
# The embedded database lives in /data unless DATABASE_URL says otherwise.
WORKDIR /data
ENV DATABASE_URL=sqlite:/data/herald.db LISTEN_ADDR=:8080
EXPOSE 8080
USER nonroot:nonroot
ENTRYPOINT ["/herald"]
