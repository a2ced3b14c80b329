/*
 * events.c -- a spuser-like program on Spread's event loop (sp_events.h):
 * a timer "types" commands into a pipe (standing in for spuser's stdin,
 * attached at LOW_PRIORITY); the pipe's READ_FD callback multicasts them;
 * the mailbox's READ_FD callback (HIGH_PRIORITY) receives them; after N
 * messages it calls E_exit_events. Then the timer calls themselves:
 * E_queue moving a queued timer, E_in_queue, E_dequeue, E_delay, the
 * sp_time arithmetic, descriptor bookkeeping, E_exit_events_async_safe
 * from a signal handler, and signals interrupting the loop's wait.
 *
 *   usage: events DAEMON
 */
#include "check.h"

#include <pthread.h>

enum { N = 40 };

static mailbox mbox;
static int cmd_pipe[2];
static int typed, sent, received, memberships;
static int token_a, token_b; /* their addresses are callback data */

/* The "user": a burst of 4 command lines every 2 ms, so that several
 * messages often arrive together. */
static void type_command(int code, void *data)
{
    char line[32];
    int len;
    sp_time gap = {0, 2000};
    CHECK_EQ(code, 3);
    CHECK(data == &token_a);
    for (int k = 0; k < 4 && typed < N; k++, typed++) {
        len = snprintf(line, sizeof line, "s %d\n", typed);
        CHECK_EQ(write(cmd_pipe[1], line, (size_t)len), len);
    }
    if (typed < N)
        CHECK_EQ(E_queue(type_command, code, data, gap), 0);
}

/* The command reader: like spuser's User_command on stdin. */
static void read_command(int fd, int code, void *data)
{
    static char pending[256];
    static size_t have;
    ssize_t n;
    char *nl;

    CHECK_EQ(fd, cmd_pipe[0]);
    CHECK_EQ(code, 0);
    CHECK(data == NULL);
    n = read(fd, pending + have, sizeof pending - 1 - have);
    CHECK(n > 0);
    have += (size_t)n;
    pending[have] = '\0';
    while ((nl = strchr(pending, '\n')) != NULL) {
        int seq;
        char body[32];
        *nl = '\0';
        CHECK_EQ(sscanf(pending, "s %d", &seq), 1);
        CHECK_EQ(seq, sent);
        snprintf(body, sizeof body, "message %d", seq);
        CHECK_EQ(SP_multicast(mbox, AGREED_MESS, "evgroup", (int16)seq, (int)strlen(body), body),
                 (int)strlen(body));
        sent++;
        have -= (size_t)(nl + 1 - pending);
        memmove(pending, nl + 1, have + 1);
    }
}

/* Like spuser's Read_message. */
static void read_message(int fd, int code, void *data)
{
    static message m;
    char want[32];

    CHECK_EQ(fd, mbox);
    CHECK_EQ(code, 7);
    CHECK(data == &token_b);
    m.service_type = 0;
    m.ret = SP_receive(mbox, &m.service_type, m.sender, MAX_TEST_GROUPS, &m.num_groups, m.groups,
                       &m.mess_type, &m.endian_mismatch, MAX_TEST_BODY, m.body);
    CHECK(m.ret >= 0);
    if (Is_membership_mess(m.service_type)) {
        memberships++;
        return;
    }
    CHECK_EQ(m.service_type, AGREED_MESS);
    CHECK_EQ(m.mess_type, received);
    snprintf(want, sizeof want, "message %d", received);
    CHECK_EQ(m.ret, (int)strlen(want));
    CHECK(memcmp(m.body, want, strlen(want)) == 0);
    if (++received == N)
        E_exit_events();
}

static void too_late(int code, void *data)
{
    (void)code;
    (void)data;
    FAIL("the event loop ran 20 s: typed %d, sent %d, received %d", typed, sent, received);
}

static int fired;
static void count_fire(int code, void *data)
{
    (void)code;
    (void)data;
    fired++;
}

static void stop_loop(int code, void *data)
{
    (void)code;
    (void)data;
    E_exit_events();
}

static void time_arithmetic(void)
{
    sp_time a = {1, 600000}, b = {0, 500000}, c;
    sp_time m1, m2, w;

    c = E_add_time(a, b);
    CHECK(c.sec == 2 && c.usec == 100000);
    c = E_sub_time(c, b);
    CHECK(c.sec == 1 && c.usec == 600000);
    c = E_sub_time(b, a);
    CHECK(c.sec == -1 && c.usec == -100000);
    c = E_neg_time(a);
    CHECK(c.sec == -1 && c.usec == -600000);
    CHECK_EQ(E_compare_time(a, b), 1);
    CHECK_EQ(E_compare_time(b, a), -1);
    CHECK_EQ(E_compare_time(a, a), 0);

    w = E_get_time();
    CHECK(w.sec > 1600000000L && w.usec >= 0 && w.usec < 1000000);
    m1 = E_get_time_monotonic();
    {
        sp_time d = {0, 30000};
        E_delay(d);
    }
    m2 = E_get_time_monotonic();
    c = E_sub_time(m2, m1);
    CHECK(c.sec > 0 || c.usec >= 29000);
}

static void timer_queue(void)
{
    sp_time soon = {0, 10000}, later = {0, 30000}, stop = {0, 150000};

    CHECK_EQ(E_in_queue(count_fire, 1, NULL), 0);
    CHECK_EQ(E_queue(count_fire, 1, NULL, later), 0);
    CHECK_EQ(E_in_queue(count_fire, 1, NULL), 1);
    CHECK_EQ(E_in_queue(count_fire, 2, NULL), 0); /* another code */
    CHECK_EQ(E_in_queue(count_fire, 1, &token_a), 0); /* other data */
    CHECK_EQ(E_dequeue(count_fire, 1, NULL), 0);
    CHECK_EQ(E_in_queue(count_fire, 1, NULL), 0);
    CHECK(E_dequeue(count_fire, 1, NULL) < 0); /* not queued */

    /* Queued twice with the same (func, code, data): the second call
     * moves it, so it fires once. A different code is another timer. */
    fired = 0;
    CHECK_EQ(E_queue(count_fire, 1, NULL, soon), 0);
    CHECK_EQ(E_queue(count_fire, 1, NULL, later), 0);
    CHECK_EQ(E_queue(count_fire, 2, NULL, soon), 0);
    CHECK_EQ(E_queue(stop_loop, 0, NULL, stop), 0);
    E_handle_events();
    CHECK_EQ(fired, 2);
    CHECK_EQ(E_in_queue(count_fire, 1, NULL), 0);
}

static void on_signal(int sig)
{
    (void)sig;
    E_exit_events_async_safe();
}

static void send_signal(int code, void *data)
{
    (void)code;
    (void)data;
    raise(SIGUSR1);
}

/* Descriptor bookkeeping, thresholds, bad arguments, and leaving the loop
 * from a signal handler. */
static void descriptors(void)
{
    int p[2];
    sp_time soon = {0, 20000}, deadline = {10, 0};

    CHECK_EQ(pipe(p), 0);
    CHECK_EQ(E_num_active(HIGH_PRIORITY), 0);
    CHECK_EQ(E_attach_fd(p[0], READ_FD, read_command, 0, NULL, HIGH_PRIORITY), 0);
    CHECK_EQ(E_num_active(HIGH_PRIORITY), 1);
    CHECK_EQ(E_deactivate_fd(p[0], READ_FD), 0);
    CHECK_EQ(E_num_active(HIGH_PRIORITY), 0);
    CHECK_EQ(E_activate_fd(p[0], READ_FD), 0);
    CHECK_EQ(E_num_active(HIGH_PRIORITY), 1);
    CHECK(E_activate_fd(p[1], READ_FD) < 0); /* never attached */
    CHECK(E_num_active(NUM_PRIORITY) < 0);
    CHECK(E_attach_fd(p[0], READ_FD, read_command, 0, NULL, NUM_PRIORITY) < 0);
    CHECK(E_attach_fd(p[0], NUM_FDTYPES, read_command, 0, NULL, LOW_PRIORITY) < 0);
    CHECK(E_attach_fd(-1, READ_FD, read_command, 0, NULL, LOW_PRIORITY) < 0);
    CHECK(E_detach_fd(p[0], NUM_FDTYPES) < 0);
    CHECK_EQ(E_set_active_threshold(HIGH_PRIORITY), HIGH_PRIORITY);
    CHECK_EQ(E_set_active_threshold(LOW_PRIORITY), LOW_PRIORITY);
    CHECK(E_set_active_threshold(NUM_PRIORITY) < 0);
    CHECK_EQ(E_detach_fd_priority(p[0], READ_FD, HIGH_PRIORITY), 0);
    CHECK_EQ(E_num_active(HIGH_PRIORITY), 0);
    close(p[0]);
    close(p[1]);

    signal(SIGUSR1, on_signal);
    CHECK_EQ(E_queue(send_signal, 0, NULL, soon), 0);
    CHECK_EQ(E_queue(too_late, 1, NULL, deadline), 0);
    E_handle_events();
    CHECK_EQ(E_dequeue(too_late, 1, NULL), 0);
}

/* Signals arriving while the loop waits (handler without SA_RESTART):
 * the loop carries on and its timer fires on time. */
static pthread_t loop_thread;
static volatile sig_atomic_t usr2_seen;

static void on_usr2(int sig)
{
    (void)sig;
    usr2_seen++;
}

static void *pester(void *arg)
{
    (void)arg;
    for (int i = 0; i < 20; i++) {
        pthread_kill(loop_thread, SIGUSR2);
        sleep_ms(5);
    }
    return NULL;
}

static void interrupted_wait(void)
{
    struct sigaction sa;
    pthread_t t;
    sp_time wait = {0, 250000};
    long long t0;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr2;
    sigemptyset(&sa.sa_mask);
    CHECK_EQ(sigaction(SIGUSR2, &sa, NULL), 0);
    loop_thread = pthread_self();
    fired = 0;
    CHECK_EQ(E_queue(count_fire, 5, NULL, wait), 0);
    CHECK_EQ(E_queue(stop_loop, 5, NULL, wait), 0);
    CHECK_EQ(pthread_create(&t, NULL, pester, NULL), 0);
    t0 = now_ms();
    E_handle_events();
    CHECK_EQ(pthread_join(t, NULL), 0);
    CHECK(usr2_seen > 0);
    CHECK_EQ(fired, 1);
    CHECK(now_ms() - t0 >= 200);
}

int main(int argc, char **argv)
{
    char pg[MAX_GROUP_NAME];
    sp_time now = {0, 0}, deadline = {20, 0};

    if (argc < 2) {
        fprintf(stderr, "usage: %s DAEMON\n", argv[0]);
        return 2;
    }
    watchdog(40);
    CHECK_EQ(E_init(), 0);
    time_arithmetic();

    CONNECT(argv[1], "evuser", 1, &mbox, pg);
    CHECK_EQ(SP_join(mbox, "evgroup"), 0);
    CHECK_EQ(pipe(cmd_pipe), 0);

    CHECK_EQ(E_attach_fd(mbox, READ_FD, read_message, 7, &token_b, HIGH_PRIORITY), 0);
    CHECK_EQ(E_attach_fd(cmd_pipe[0], READ_FD, read_command, 0, NULL, LOW_PRIORITY), 0);
    CHECK_EQ(E_queue(type_command, 3, &token_a, now), 0);
    CHECK_EQ(E_queue(too_late, 0, NULL, deadline), 0);
    E_handle_events();

    CHECK_EQ(typed, N);
    CHECK_EQ(sent, N);
    CHECK_EQ(received, N);
    CHECK_EQ(memberships, 1);
    CHECK_EQ(E_dequeue(too_late, 0, NULL), 0);
    CHECK_EQ(E_detach_fd(mbox, READ_FD), 0);
    CHECK_EQ(E_detach_fd(cmd_pipe[0], READ_FD), 0);
    CHECK(E_detach_fd(cmd_pipe[0], READ_FD) < 0); /* not attached any more */

    /* A second loop: timers only. */
    timer_queue();
    descriptors();
    interrupted_wait();

    CHECK_EQ(SP_disconnect(mbox), 0);
    close(cmd_pipe[0]);
    close(cmd_pipe[1]);
    printf("events: %d messages through the event loop\n", received);
    return 0;
}
