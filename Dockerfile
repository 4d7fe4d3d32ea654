# libneolink: neolink-cli in a slim Debian 12 image.
# The build stage runs exactly the scripts the test suite runs
# (scripts/deps.sh, scripts/build-release.sh; checked by
# tests/integration/install_docker_build.sh), so this recipe cannot drift.
#
#   docker build -t neolink .
#   docker run -v ./config.yaml:/etc/neolink/config.yaml:ro -p 8554:8554 neolink
#
# Volume: /etc/neolink (config.yaml). Ports: 8554/tcp RTSP, 9090/tcp metrics
# and health (bound to loopback unless the config's `http` says otherwise).

FROM debian:12 AS build
WORKDIR /src
COPY scripts/deps.sh scripts/deps.sh
RUN ./scripts/deps.sh
COPY . .
RUN ./scripts/build-release.sh /out /usr/local

FROM debian:12-slim
COPY scripts/runtime-packages.txt /tmp/runtime-packages.txt
RUN apt-get update \
 && apt-get install -y --no-install-recommends $(cat /tmp/runtime-packages.txt) \
 && rm -rf /var/lib/apt/lists/* /tmp/runtime-packages.txt \
 && useradd --system --no-create-home --shell /usr/sbin/nologin neolink \
 && mkdir -p /etc/neolink
COPY --from=build /out/usr/local/bin/neolink-cli /usr/local/bin/neolink-cli
COPY --from=build /out/usr/local/lib/ /usr/local/lib/
RUN ldconfig
USER neolink
VOLUME ["/etc/neolink"]
EXPOSE 8554/tcp 9090/tcp
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
  CMD ["neolink-cli", "health", "http://127.0.0.1:9090/healthz"]
ENTRYPOINT ["neolink-cli"]
CMD ["serve", "/etc/neolink/config.yaml"]
