#!/usr/bin/python3
"""GStreamer's RTSP server relaying one RTSP stream, for tests/bench/bench.py:
the stack the original (Rust) neolink serves with, fed the very stream our
server gets.

    /usr/bin/python3 tests/bench/gst_relay.py SOURCE_URL [--port N]

Prints "PORT p" once it listens on 127.0.0.1 (port 0: any free one), then
serves rtsp://127.0.0.1:p/cam until SIGTERM.

Why this pipeline: neolink pushes the camera's H.264 access units into an
appsrc and lets GstRtspServer packetise them (rtph264pay) into one shared
media that every client is attached to. Here the access units come from
`rtspsrc ! rtph264depay` reading the benchmark's test server (the same
pre-encoded frames at the same pace that our server sends), and the rest
is the same: `rtph264pay name=pay0` in a shared media factory, so its
per-viewer cost is GstRtspServer's fan-out. Reading the source costs a
small constant (one 4 Mbit/s depayloader, the same for any N), counted in
its figures. Needs Debian's python3-gi and gir1.2-gst-rtsp-server-1.0
(run with /usr/bin/python3, not a virtualenv's python)."""
import signal
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402


def main():
    args = sys.argv[1:]
    if not args or args[0].startswith("-"):
        sys.exit("usage: gst_relay.py SOURCE_URL [--port N]")
    source = args[0]
    port = int(args[args.index("--port") + 1]) if "--port" in args else 0
    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(port))
    server.set_backlog(4096)  # 1000 viewers connect at once
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(
        f"( rtspsrc location={source} protocols=tcp latency=0 "
        "! rtph264depay ! rtph264pay name=pay0 pt=96 config-interval=-1 )")
    factory.set_shared(True)
    server.get_mount_points().add_factory("/cam", factory)
    if server.attach(None) == 0:
        sys.exit("gst_relay: cannot listen")
    print(f"PORT {server.get_bound_port()}", flush=True)
    loop = GLib.MainLoop()
    GLib.unix_signal_add(GLib.PRIORITY_HIGH, signal.SIGTERM, loop.quit)
    GLib.unix_signal_add(GLib.PRIORITY_HIGH, signal.SIGINT, loop.quit)
    loop.run()


if __name__ == "__main__":
    main()
