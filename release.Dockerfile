# The release image: GoReleaser (dockers_v2) copies in the binary it built
# for each platform; the layout is the Dockerfile's.
FROM gcr.io/distroless/static-debian12:nonroot
ARG TARGETPLATFORM
COPY ${TARGETPLATFORM}/herald /herald
COPY --chown=65532:65532 deploy/data/ /data/
VOLUME /data
WORKDIR /data
ENV DATABASE_URL=sqlite:/data/herald.db LISTEN_ADDR=:8080
EXPOSE 8080
USER 65532:65532
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 CMD ["/herald", "healthcheck"]
ENTRYPOINT ["/herald"]
