/**
 * @file neolink.h
 * The whole public API of libneolink in one include. Every header below also
 * compiles on its own, so including only what you use is just as good.
 *
 *     #include <neolink/neolink.h>
 *     cc app.c $(pkg-config --cflags --libs neolink)
 *
 * Several headers use libavcodec's types (AVPacket, AVCodecParameters), so
 * libavcodec's headers must be on the include path; `pkg-config neolink`
 * adds them (the .pc file requires libavcodec and libavutil).
 *
 * See docs/API.md for the overview, the ownership and threading rules, the
 * error model and the stability policy.
 *
 * @section env Environment requirements
 *
 * What libneolink does, and does not do, to the process it lives in:
 *
 * - **Signals.** The library never installs or changes a signal handler
 *   and never raises a signal itself. The only signal-mask change it makes
 *   is momentary: to start a thread with every signal blocked it blocks
 *   them on the calling thread around pthread_create() and restores the
 *   previous mask before returning.
 *   Every socket write uses MSG_NOSIGNAL, so a peer that hangs up gives an
 *   NL_EPIPE / NL_ECONNRESET error on that connection instead of SIGPIPE:
 *   the host need not ignore SIGPIPE (but may). What a signal means is the
 *   host's decision (a server maps SIGTERM/SIGINT to nl_server_shutdown()
 *   and SIGHUP to nl_server_reload(); `neolink-cli simulate` reads its
 *   signals from a signalfd polled next to nl_loop_fd()).
 *   The one deliberate exception: the server's watchdog (only when the
 *   configuration sets watchdog_timeout) calls abort() when the loop thread
 *   stops making progress, so a supervisor restarts the process.
 *
 * - **Threads.** Work that can block runs off the loop; these are the only
 *   threads the library starts. Each is joined with a deadline by the call
 *   that destroys its owner (one that misses it is logged and counted, see
 *   nl_hw_stats.workers_abandoned), except the resolver, which is detached
 *   and frees itself without touching the camera:
 *     - the simulated camera (sim.h): one encoder thread per stream being
 *       watched, started at the first viewer, stopped after the last;
 *     - transcoders (hwenc.h): one worker thread per nl_transcoder, plus a
 *       short-lived closer thread when nl_hwenc_close() is given a timeout;
 *     - camera sessions (camera.h): one short-lived resolver thread per
 *       connection attempt to a host *name* (numeric addresses resolve
 *       inline), because getaddrinfo() blocks;
 *     - the server (server.h): one watchdog thread when the configuration
 *       asks for one.
 *   The simulator's encoder threads and the resolver threads block every
 *   signal, so process-directed signals reach the host's threads. Transcoder
 *   and watchdog threads inherit the creating thread's signal mask: a host
 *   that routes signals to one thread should block them on the loop thread
 *   before creating those objects (or use a signalfd).
 *   No library thread ever calls a host callback: callbacks run on the loop
 *   thread (log callbacks are the exception, see common.h nl_log_fn).
 *
 * - **Process-global state.** The library keeps no global object registry:
 *   two nl_ctx / nl_loop pairs in one process are fully independent (two
 *   NVR plugins can each embed their own). It never calls
 *   av_log_set_callback(), av_log_set_level() or avformat_network_init():
 *   libav's process-wide logging belongs to the host (libav and x264/x265
 *   messages therefore go wherever the host sent them, stderr by default).
 *   The only process-wide setting is the allocator, and only when the host
 *   calls nl_allocator_set(). The process-wide counters of hwenc.h
 *   (nl_hw_get_stats) are read-only observations.
 *   The server reads NOTIFY_SOCKET / WATCHDOG_USEC / WATCHDOG_PID (systemd)
 *   and the configuration reads the password_env variables it names; nothing
 *   else reads or writes the environment.
 *
 * - **Locale.** Everything that goes on the wire or into a file a program
 *   reads (Baichuan XML, RTSP, SDP, HTTP dates, Prometheus numbers,
 *   configuration durations and sizes) is produced and parsed without the C
 *   library's locale-dependent number and date routines, so a host that ran
 *   setlocale(LC_ALL, "") keeps working. Human-oriented text (log lines such
 *   as "reconnecting in 1.50 s") uses printf and follows LC_NUMERIC. Names
 *   such as "aes" or "debug" are matched case-insensitively with
 *   strcasecmp(), which follows LC_CTYPE: use lower case in locales with
 *   unusual case rules (Turkish dotless i). The simulated camera reports
 *   its clock in the process's local time zone (TZ), like a real camera.
 *
 * - **Out of memory.** A failed allocation is returned as NL_ENOMEM (or
 *   NL_EARENA when an arena's byte cap is reached) and leaves the object
 *   usable or cleanly destroyed; the library never aborts or exits on OOM.
 *   Media payloads that cannot be allocated are counted as lost packets.
 *
 * - **File descriptors.** Every descriptor the library opens itself
 *   (sockets, epoll, eventfds, configuration and password files) is
 *   close-on-exec, every socket is non-blocking, and each is owned and
 *   closed by the object that opened it. nl_loop_fd() is the only one
 *   handed out, and it stays the loop's. Descriptors opened inside libav or
 *   libva (a VAAPI render node) follow those libraries' rules.
 *
 * - **Stdio.** The library never writes to stdout or stderr; every message
 *   goes to the log callback of the nl_ctx it belongs to.
 */
#ifndef NEOLINK_NEOLINK_H
#define NEOLINK_NEOLINK_H

#include "neolink/common.h"
#include "neolink/version.h"
#include "neolink/error.h"
#include "neolink/alloc.h"
#include "neolink/arena.h"
#include "neolink/context.h"
#include "neolink/loop.h"
#include "neolink/media.h"
#include "neolink/camera.h"
#include "neolink/rtsp.h"
#include "neolink/hwenc.h"
#include "neolink/config.h"
#include "neolink/config_import.h"
#include "neolink/server.h"
#include "neolink/sim.h"

#endif
