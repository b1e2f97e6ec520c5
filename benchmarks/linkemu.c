/*
 * linkemu: an emulated point-to-point link between two network namespaces, on TUN devices.
 *
 * This kernel has no netem, so the testbed benchmarks (e2e_vs_real.py, channel_vs_linux.py)
 * compile this file at run time. It opens one TUN device in each of two namespaces and
 * carries IP packets between them, per direction:
 *
 *   - a FIFO drop-tail queue of `queue` packets, the one being serialised included;
 *   - serialisation of the wire size (IP length + `overhead` bytes) at `rate` bit/s;
 *   - random loss, independent per packet with probability `loss`, decided after
 *     serialisation (a lost packet still used the link);
 *   - one-way propagation delay `delay` seconds after serialisation.
 *
 * The same rules as sei's Link (splitetimpera/sim/channel.py), so a sei scenario with the
 * same numbers describes this link. One thread per direction, SCHED_FIFO, timer slack
 * 1 ns, so that release times hold to a few microseconds.
 *
 * Usage:
 *   linkemu NS_A TUN_A NS_B TUN_B RATE_AB DELAY_AB LOSS_AB RATE_BA DELAY_BA LOSS_BA
 *           QUEUE OVERHEAD SEED [LOGFILE]
 * Namespaces are names under /var/run/netns. It prints "ready" once both devices exist,
 * and on SIGTERM or SIGINT prints one JSON line of counters per direction and exits
 * (the devices disappear with it). With LOGFILE every packet is written as a CSV line.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#define SLOTS 32768 /* queued plus propagating packets per direction */
#define MAXPKT 2048

typedef struct {
    uint64_t in_ns, departure_ns, release_ns;
    uint32_t len;
    int lost;
    unsigned char data[MAXPKT];
} slot_t;

typedef struct {
    const char *name;
    int fd_in, fd_out;
    double rate_Bps, delay_s, loss;
    uint32_t queue, overhead;
    uint64_t rng;
    slot_t *ring;
    uint64_t head, tail, departed; /* ring indices: [head, tail) waiting; [departed, tail) in queue */
    uint64_t free_at_ns;
    /* counters */
    uint64_t packets_in, bytes_in, dropped, lost, delivered, bytes_delivered, overflow, late_ns_max;
    uint64_t late_100us; /* releases more than 100 us after their time */
    FILE *log;
} dir_t;

static volatile sig_atomic_t stop_flag = 0;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

static void on_signal(int sig) { (void)sig; stop_flag = 1; }

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* splitmix64: a small, well-mixed generator; one stream per direction. */
static uint64_t next_u64(uint64_t *s) {
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static double uniform(uint64_t *s) { return (next_u64(s) >> 11) * (1.0 / 9007199254740992.0); }

static int open_tun(const char *ns, const char *dev) {
    char path[256];
    snprintf(path, sizeof path, "/var/run/netns/%s", ns);
    int nsfd = open(path, O_RDONLY | O_CLOEXEC);
    if (nsfd < 0) { perror(path); return -1; }
    if (setns(nsfd, CLONE_NEWNET) < 0) { perror("setns"); close(nsfd); return -1; }
    close(nsfd);
    int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    if (fd < 0) { perror("/dev/net/tun"); return -1; }
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
    strncpy(ifr.ifr_name, dev, IFNAMSIZ - 1);
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) { perror("TUNSETIFF"); close(fd); return -1; }
    return fd;
}

/* Packets in the queue now (serialising or waiting), the FIFO's departure times. */
static uint32_t backlog(dir_t *d, uint64_t now) {
    while (d->departed < d->tail && d->ring[d->departed % SLOTS].departure_ns <= now) d->departed++;
    return (uint32_t)(d->tail - d->departed);
}

static void log_packet(dir_t *d, const slot_t *s, const char *what) {
    if (!d->log) return;
    const unsigned char *p = s->data;
    unsigned proto = s->len >= 20 ? p[9] : 0, ihl = s->len >= 20 ? (p[0] & 15u) * 4u : 0;
    unsigned long seq = 0, ack = 0, flags = 0;
    if (proto == 6 && s->len >= ihl + 20) {
        const unsigned char *t = p + ihl;
        seq = ((unsigned long)t[4] << 24) | (t[5] << 16) | (t[6] << 8) | t[7];
        ack = ((unsigned long)t[8] << 24) | (t[9] << 16) | (t[10] << 8) | t[11];
        flags = t[13];
    }
    pthread_mutex_lock(&log_lock);
    fprintf(d->log, "%s,%s,%llu,%llu,%llu,%u,%u,%lu,%lu,%lu\n", d->name, what,
            (unsigned long long)s->in_ns, (unsigned long long)s->departure_ns,
            (unsigned long long)s->release_ns, s->len, proto, seq, ack, flags);
    pthread_mutex_unlock(&log_lock);
}

static void accept_packet(dir_t *d, slot_t *scratch, ssize_t n) {
    uint64_t now = now_ns();
    d->packets_in++;
    d->bytes_in += (uint64_t)n;
    if (backlog(d, now) >= d->queue) {
        d->dropped++;
        scratch->in_ns = now; scratch->len = (uint32_t)n;
        scratch->departure_ns = scratch->release_ns = 0;
        log_packet(d, scratch, "drop");
        return;
    }
    if (d->tail - d->head >= SLOTS) { d->overflow++; return; }
    slot_t *s = &d->ring[d->tail % SLOTS];
    memcpy(s->data, scratch->data, (size_t)n);
    s->len = (uint32_t)n;
    s->in_ns = now;
    uint64_t start = d->free_at_ns > now ? d->free_at_ns : now;
    uint64_t serialise = (uint64_t)(((double)n + d->overhead) / d->rate_Bps * 1e9 + 0.5);
    s->departure_ns = start + serialise;
    d->free_at_ns = s->departure_ns;
    s->release_ns = s->departure_ns + (uint64_t)(d->delay_s * 1e9 + 0.5);
    s->lost = d->loss > 0 && uniform(&d->rng) < d->loss;
    d->tail++;
}

static void *run_direction(void *arg) {
    dir_t *d = arg;
    struct sched_param sp = {.sched_priority = 50};
    pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp); /* best effort */
    prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
    slot_t *scratch = malloc(sizeof *scratch);
    struct pollfd pfd = {.fd = d->fd_in, .events = POLLIN};
    while (!stop_flag) {
        uint64_t now = now_ns();
        /* release everything due */
        while (d->head < d->tail && d->ring[d->head % SLOTS].release_ns <= now) {
            slot_t *s = &d->ring[d->head % SLOTS];
            if (s->lost) {
                d->lost++;
                log_packet(d, s, "lost");
            } else {
                if (write(d->fd_out, s->data, s->len) == (ssize_t)s->len) {
                    d->delivered++;
                    d->bytes_delivered += s->len;
                }
                uint64_t late = now - s->release_ns;
                if (late > d->late_ns_max) d->late_ns_max = late;
                if (late > 100000) d->late_100us++;
                log_packet(d, s, "sent");
            }
            d->head++;
            now = now_ns();
        }
        /* wait for a packet or the next release, at most 50 ms (to see a stop) */
        uint64_t wait = 50000000ull;
        if (d->head < d->tail) {
            uint64_t due = d->ring[d->head % SLOTS].release_ns;
            wait = due > now ? due - now : 0;
            if (wait > 50000000ull) wait = 50000000ull;
        }
        struct timespec ts = {.tv_sec = (time_t)(wait / 1000000000ull), .tv_nsec = (long)(wait % 1000000000ull)};
        int r = ppoll(&pfd, 1, &ts, NULL);
        if (r > 0 && (pfd.revents & POLLIN)) {
            /* drain what is there without blocking */
            for (;;) {
                ssize_t n = read(d->fd_in, scratch->data, MAXPKT);
                if (n <= 0) break;
                accept_packet(d, scratch, n);
            }
        } else if (r < 0 && errno != EINTR) {
            perror("ppoll");
            break;
        }
    }
    free(scratch);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc < 14) {
        fprintf(stderr,
                "usage: %s NS_A TUN_A NS_B TUN_B RATE_AB DELAY_AB LOSS_AB RATE_BA DELAY_BA LOSS_BA "
                "QUEUE OVERHEAD SEED [LOGFILE]\n",
                argv[0]);
        return 2;
    }
    int fa = open_tun(argv[1], argv[2]);
    int fb = open_tun(argv[3], argv[4]);
    if (fa < 0 || fb < 0) return 1;
    fcntl(fa, F_SETFL, O_NONBLOCK);
    fcntl(fb, F_SETFL, O_NONBLOCK);
    FILE *log = NULL;
    if (argc > 14) {
        log = fopen(argv[14], "w");
        if (!log) { perror(argv[14]); return 1; }
        fprintf(log, "dir,event,in_ns,departure_ns,release_ns,len,proto,seq,ack,flags\n");
    }
    uint64_t seed = strtoull(argv[13], NULL, 10);
    dir_t ab = {.name = "ab", .fd_in = fa, .fd_out = fb, .rate_Bps = atof(argv[5]) / 8.0,
                .delay_s = atof(argv[6]), .loss = atof(argv[7]), .log = log};
    dir_t ba = {.name = "ba", .fd_in = fb, .fd_out = fa, .rate_Bps = atof(argv[8]) / 8.0,
                .delay_s = atof(argv[9]), .loss = atof(argv[10]), .log = log};
    ab.queue = ba.queue = (uint32_t)atoi(argv[11]);
    ab.overhead = ba.overhead = (uint32_t)atoi(argv[12]);
    ab.rng = seed * 2 + 1;
    ba.rng = seed * 2 + 2;
    if (ab.rate_Bps <= 0 || ba.rate_Bps <= 0 || ab.queue == 0) {
        fprintf(stderr, "rate and queue must be > 0\n");
        return 2;
    }
    ab.ring = calloc(SLOTS, sizeof(slot_t));
    ba.ring = calloc(SLOTS, sizeof(slot_t));
    if (!ab.ring || !ba.ring) { perror("calloc"); return 1; }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    pthread_t t1, t2;
    pthread_create(&t1, NULL, run_direction, &ab);
    pthread_create(&t2, NULL, run_direction, &ba);
    printf("ready\n");
    fflush(stdout);
    while (!stop_flag) pause();
    pthread_join(t1, NULL);
    pthread_join(t2, NULL);
    dir_t *dirs[2] = {&ab, &ba};
    for (int i = 0; i < 2; i++) {
        dir_t *d = dirs[i];
        printf("{\"dir\": \"%s\", \"packets_in\": %llu, \"bytes_in\": %llu, \"dropped\": %llu, "
               "\"lost\": %llu, \"delivered\": %llu, \"bytes_delivered\": %llu, \"overflow\": %llu, "
               "\"late_max_s\": %.9f, \"late_over_100us\": %llu}\n",
               d->name, (unsigned long long)d->packets_in, (unsigned long long)d->bytes_in,
               (unsigned long long)d->dropped, (unsigned long long)d->lost,
               (unsigned long long)d->delivered, (unsigned long long)d->bytes_delivered,
               (unsigned long long)d->overflow, d->late_ns_max / 1e9,
               (unsigned long long)d->late_100us);
    }
    if (log) fclose(log);
    return 0;
}
