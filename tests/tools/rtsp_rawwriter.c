/* Baseline for tests/bench/rtsp_fanout.sh: the cheapest possible fan-out.
 * One thread writes one buffer per frame to each of N loopback TCP clients
 * (one send() per frame per client, like the RTSP server's TCP path) while a
 * second thread drains them; prints the writer thread's CPU time and bytes.
 *
 *   rtsp_rawwriter [--clients N] [--duration S] [--bitrate BPS] [--fps F] */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static atomic_int done;
static int ep;

static void *drain(void *arg)
{
    static char buf[1 << 16];
    struct epoll_event evs[64];
    while (!atomic_load(&done)) {
        int n = epoll_wait(ep, evs, 64, 100);
        for (int i = 0; i < n; i++)
            while (recv(evs[i].data.fd, buf, sizeof buf, MSG_DONTWAIT) > 0)
                ;
    }
    return NULL;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    int n = 200, duration = 30, fps = 25;
    long bitrate = 4000000;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--clients"))
            n = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--duration"))
            duration = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--bitrate"))
            bitrate = atol(argv[i + 1]);
        else if (!strcmp(argv[i], "--fps"))
            fps = atoi(argv[i + 1]);
    }
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    socklen_t sl = sizeof sa;
    bind(lfd, (struct sockaddr *)&sa, sizeof sa);
    listen(lfd, 1024);
    getsockname(lfd, (struct sockaddr *)&sa, &sl);
    ep = epoll_create1(0);
    int *wfd = calloc((size_t)n, sizeof *wfd);
    for (int i = 0; i < n; i++) {
        int c = socket(AF_INET, SOCK_STREAM, 0);
        connect(c, (struct sockaddr *)&sa, sizeof sa);
        wfd[i] = accept(lfd, NULL, NULL);
        fcntl(wfd[i], F_SETFL, O_NONBLOCK);
        struct epoll_event ev = {.events = EPOLLIN, .data.fd = c};
        epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev);
    }
    pthread_t th;
    pthread_create(&th, NULL, drain, NULL);
    size_t frame = (size_t)(bitrate / 8 / fps);
    char *buf = calloc(1, frame);
    unsigned long long bytes = 0;
    struct rusage r0, r1;
    getrusage(RUSAGE_THREAD, &r0);
    double t0 = now_s();
    for (long k = 0; k < (long)duration * fps; k++) {
        for (int i = 0; i < n; i++) {
            ssize_t w = send(wfd[i], buf, frame, MSG_NOSIGNAL | MSG_DONTWAIT);
            if (w > 0)
                bytes += (unsigned long long)w;
        }
        double next = t0 + (double)(k + 1) / fps, d = next - now_s();
        if (d > 0) {
            struct timespec ts = {(time_t)d, (long)((d - (long)d) * 1e9)};
            nanosleep(&ts, NULL);
        }
    }
    getrusage(RUSAGE_THREAD, &r1);
    atomic_store(&done, 1);
    pthread_join(th, NULL);
    double cpu = (double)(r1.ru_utime.tv_sec - r0.ru_utime.tv_sec + r1.ru_stime.tv_sec -
                          r0.ru_stime.tv_sec) +
                 (double)(r1.ru_utime.tv_usec - r0.ru_utime.tv_usec + r1.ru_stime.tv_usec -
                          r0.ru_stime.tv_usec) /
                     1e6;
    printf("rawwriter clients=%d seconds=%d bytes=%llu cpu_s=%.3f\n", n, duration, bytes, cpu);
    free(buf);
    free(wfd);
    return 0;
}
