/*
 * threads.c -- one mailbox used from several threads: a thread blocked in
 * SP_receive while two others send 1,000 messages on the same mailbox;
 * two threads receiving from one mailbox (each message once); SP_poll
 * while a receive is blocked; and SP_disconnect / SP_kill from the main
 * thread while a receiver is blocked: it returns a negative code, no
 * crash, no hang; SP_disconnect while another thread is sending; and
 * sessions opened, used and closed by several threads at once; signals
 * interrupting a blocked SP_receive.
 *
 *   usage: threads DAEMON
 */
#include "check.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>

enum { PER_SENDER = 500, SENDERS = 2 };

static mailbox shared_mbox;

static void *send_thread(void *arg)
{
    int who = (int)(size_t)arg;
    char body[16];
    for (int i = 0; i < PER_SENDER; i++) {
        int len = snprintf(body, sizeof body, "%d:%d", who, i);
        int r = SP_multicast(shared_mbox, AGREED_MESS, "g", (int16)who, len, body);
        if (r != len)
            FAIL("sender %d: SP_multicast #%d: %d", who, i, r);
    }
    return NULL;
}

/* Receives SENDERS * PER_SENDER messages; each sender's arrive in order. */
static void *receive_all(void *arg)
{
    static message m;
    int next[SENDERS] = {0};
    (void)arg;
    for (int n = 0; n < SENDERS * PER_SENDER; n++) {
        int who, seq;
        m.service_type = 0;
        m.ret = SP_receive(shared_mbox, &m.service_type, m.sender, MAX_TEST_GROUPS, &m.num_groups,
                           m.groups, &m.mess_type, &m.endian_mismatch, 100, m.body);
        if (m.ret < 0)
            FAIL("receive #%d: %d (%s)", n, m.ret, SP_strerror(m.ret));
        CHECK_EQ(m.service_type, AGREED_MESS);
        m.body[m.ret] = '\0';
        CHECK_EQ(sscanf(m.body, "%d:%d", &who, &seq), 2);
        CHECK(who >= 0 && who < SENDERS);
        CHECK_EQ(m.mess_type, who);
        if (seq != next[who])
            FAIL("from sender %d: message %d, expected %d", who, seq, next[who]);
        next[who]++;
    }
    return NULL;
}

static void receive_while_sending(const char *daemon_name)
{
    pthread_t rx, tx[SENDERS];
    char pg[MAX_GROUP_NAME];
    message *m = malloc(sizeof *m);
    CHECK(m != NULL);

    CONNECT(daemon_name, "shared", 1, &shared_mbox, pg);
    CHECK_EQ(SP_join(shared_mbox, "g"), 0);
    EXPECT_MEMB(shared_mbox, m, "g", CAUSED_BY_JOIN, 1);
    free(m);

    CHECK_EQ(pthread_create(&rx, NULL, receive_all, NULL), 0);
    sleep_ms(100); /* let the receiver block */
    for (int i = 0; i < SENDERS; i++)
        CHECK_EQ(pthread_create(&tx[i], NULL, send_thread, (void *)(size_t)i), 0);
    for (int i = 0; i < SENDERS; i++)
        CHECK_EQ(pthread_join(tx[i], NULL), 0);
    CHECK_EQ(pthread_join(rx, NULL), 0);
    CHECK_EQ(SP_poll(shared_mbox), 0);
    CHECK_EQ(SP_disconnect(shared_mbox), 0);
}

/* Two receivers on one mailbox share the messages: each arrives once. */
enum { SHARED_MSGS = 200 };
static atomic_int seen[SHARED_MSGS];
static atomic_int total_seen;
static mailbox pair_mbox;

static void *receive_share(void *arg)
{
    message *m = malloc(sizeof *m);
    (void)arg;
    CHECK(m != NULL);
    for (;;) {
        int seq;
        m->service_type = 0;
        m->ret = SP_receive(pair_mbox, &m->service_type, m->sender, MAX_TEST_GROUPS,
                            &m->num_groups, m->groups, &m->mess_type, &m->endian_mismatch, 100,
                            m->body);
        if (m->ret < 0)
            FAIL("shared receive: %d", m->ret);
        m->body[m->ret] = '\0';
        seq = atoi(m->body);
        if (seq < 0) /* the end marker: one per receiver */
            break;
        CHECK(seq < SHARED_MSGS);
        CHECK_EQ(atomic_fetch_add(&seen[seq], 1), 0);
        atomic_fetch_add(&total_seen, 1);
    }
    free(m);
    return NULL;
}

static void two_receivers(const char *daemon_name)
{
    pthread_t a, b;
    mailbox snd;
    char pg[MAX_GROUP_NAME], body[16];

    CONNECT(daemon_name, "pair", 0, &pair_mbox, pg);
    CONNECT(daemon_name, "pairsnd", 0, &snd, pg);
    CHECK_EQ(pthread_create(&a, NULL, receive_share, NULL), 0);
    CHECK_EQ(pthread_create(&b, NULL, receive_share, NULL), 0);
    for (int i = 0; i < SHARED_MSGS; i++) {
        int len = snprintf(body, sizeof body, "%d", i);
        CHECK_EQ(SP_multicast(snd, RELIABLE_MESS, "#pair#localhost", 0, len, body), len);
    }
    CHECK_EQ(SP_multicast(snd, RELIABLE_MESS, "#pair#localhost", 0, 2, "-1"), 2);
    CHECK_EQ(SP_multicast(snd, RELIABLE_MESS, "#pair#localhost", 0, 2, "-1"), 2);
    CHECK_EQ(pthread_join(a, NULL), 0);
    CHECK_EQ(pthread_join(b, NULL), 0);
    CHECK_EQ(atomic_load(&total_seen), SHARED_MSGS);
    CHECK_EQ(SP_disconnect(pair_mbox), 0);
    CHECK_EQ(SP_disconnect(snd), 0);
}

/* A receiver blocked on a mailbox that the main thread closes. */
static mailbox closing_mbox;
static atomic_int closing_done;
static atomic_int closing_result;

static void *blocked_receive(void *arg)
{
    message *m = malloc(sizeof *m);
    (void)arg;
    CHECK(m != NULL);
    m->service_type = 0;
    atomic_store(&closing_result,
                 SP_receive(closing_mbox, &m->service_type, m->sender, MAX_TEST_GROUPS,
                            &m->num_groups, m->groups, &m->mess_type, &m->endian_mismatch,
                            MAX_TEST_BODY, m->body));
    atomic_store(&closing_done, 1);
    free(m);
    return NULL;
}

static void close_under_receiver(const char *daemon_name, int use_kill)
{
    pthread_t t;
    char pg[MAX_GROUP_NAME];
    long long deadline;

    CONNECT(daemon_name, use_kill ? "killme" : "closeme", 1, &closing_mbox, pg);
    atomic_store(&closing_done, 0);
    atomic_store(&closing_result, 12345);
    CHECK_EQ(pthread_create(&t, NULL, blocked_receive, NULL), 0);
    sleep_ms(200);
    CHECK_EQ(atomic_load(&closing_done), 0); /* really blocked */
    /* SP_poll does not wait for the blocked receive. */
    CHECK_EQ(SP_poll(closing_mbox), 0);
    if (use_kill)
        SP_kill(closing_mbox);
    else
        CHECK_EQ(SP_disconnect(closing_mbox), 0);
    deadline = now_ms() + 5000;
    while (!atomic_load(&closing_done) && now_ms() < deadline)
        sleep_ms(5);
    if (!atomic_load(&closing_done))
        FAIL("SP_receive still blocked 5 s after %s", use_kill ? "SP_kill" : "SP_disconnect");
    CHECK_EQ(pthread_join(t, NULL), 0);
    if (atomic_load(&closing_result) >= 0)
        FAIL("SP_receive returned %d after the mailbox was closed", atomic_load(&closing_result));
    /* And the mailbox is gone. */
    CHECK_EQ(SP_poll(closing_mbox), ILLEGAL_SESSION);
}

/* A sender thread sending without pause while the main thread
 * disconnects the mailbox: its calls start failing, nothing crashes. */
static mailbox busy_mbox;
static atomic_int busy_sent, busy_result;

static void *busy_sender(void *arg)
{
    char body[256];
    (void)arg;
    memset(body, 'b', sizeof body);
    for (;;) {
        int r = SP_multicast(busy_mbox, RELIABLE_MESS, "#busy#localhost", 0, sizeof body, body);
        if (r < 0) {
            atomic_store(&busy_result, r);
            return NULL;
        }
        atomic_fetch_add(&busy_sent, 1);
    }
}

static void close_under_sender(const char *daemon_name)
{
    pthread_t t;
    char pg[MAX_GROUP_NAME];
    long long deadline;

    CONNECT(daemon_name, "busy", 0, &busy_mbox, pg);
    CHECK_EQ(pthread_create(&t, NULL, busy_sender, NULL), 0);
    deadline = now_ms() + 5000;
    while (atomic_load(&busy_sent) < 100 && now_ms() < deadline)
        sleep_ms(1);
    CHECK(atomic_load(&busy_sent) >= 100);
    CHECK_EQ(SP_disconnect(busy_mbox), 0);
    CHECK_EQ(pthread_join(t, NULL), 0);
    CHECK(atomic_load(&busy_result) < 0);
}

/* Sessions opened, used and closed by several threads at once. */
enum { WORKERS = 6, ROUNDS = 15 };
static const char *worker_daemon;

static void *worker(void *arg)
{
    int id = (int)(size_t)arg;
    message *m = malloc(sizeof *m);
    CHECK(m != NULL);
    for (int round = 0; round < ROUNDS; round++) {
        mailbox mb;
        char pg[MAX_GROUP_NAME], name[16], want[MAX_GROUP_NAME], group[16];
        snprintf(name, sizeof name, "w%dr%d", id, round);
        snprintf(want, sizeof want, "#%s#localhost", name);
        snprintf(group, sizeof group, "wg%dr%d", id, round);
        CONNECT(worker_daemon, name, 1, &mb, pg);
        CHECK_NAME(pg, want);
        CHECK_EQ(SP_join(mb, group), 0);
        RECV(mb, m);
        CHECK(Is_reg_memb_mess(m->service_type));
        CHECK_NAME(m->sender, group);
        CHECK_EQ(SP_multicast(mb, AGREED_MESS, group, (int16)round, (int)strlen(name), name),
                 (int)strlen(name));
        RECV(mb, m);
        CHECK_EQ(m->service_type, AGREED_MESS);
        CHECK_NAME(m->sender, want);
        CHECK_EQ(m->mess_type, round);
        CHECK(m->ret == (int)strlen(name) && memcmp(m->body, name, strlen(name)) == 0);
        if (round % 2)
            SP_kill(mb);
        else
            CHECK_EQ(SP_disconnect(mb), 0);
    }
    free(m);
    return NULL;
}

static void parallel_sessions(const char *daemon_name)
{
    pthread_t t[WORKERS];
    worker_daemon = daemon_name;
    for (int i = 0; i < WORKERS; i++)
        CHECK_EQ(pthread_create(&t[i], NULL, worker, (void *)(size_t)i), 0);
    for (int i = 0; i < WORKERS; i++)
        CHECK_EQ(pthread_join(t[i], NULL), 0);
}

/* Signals (with a handler installed without SA_RESTART) interrupting a
 * blocked SP_receive do not make it fail: it returns the message that
 * comes afterwards. */
static atomic_int signals_seen;
static pthread_t main_thread;
static mailbox sig_sender;

static void count_signal(int sig)
{
    (void)sig;
    atomic_fetch_add(&signals_seen, 1);
}

static void *signal_then_send(void *arg)
{
    (void)arg;
    for (int i = 0; i < 30; i++) {
        pthread_kill(main_thread, SIGUSR1);
        sleep_ms(5);
    }
    CHECK_EQ(SP_multicast(sig_sender, RELIABLE_MESS, "#sigrcv#localhost", 9, 5, "after"), 5);
    return NULL;
}

static void signals_during_receive(const char *daemon_name)
{
    struct sigaction sa;
    pthread_t t;
    mailbox rcv;
    char pg[MAX_GROUP_NAME];
    message *m = malloc(sizeof *m);
    CHECK(m != NULL);

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = count_signal; /* no SA_RESTART: system calls see EINTR */
    sigemptyset(&sa.sa_mask);
    CHECK_EQ(sigaction(SIGUSR1, &sa, NULL), 0);
    CONNECT(daemon_name, "sigrcv", 0, &rcv, pg);
    CONNECT(daemon_name, "sigsnd", 0, &sig_sender, pg);
    main_thread = pthread_self();
    CHECK_EQ(pthread_create(&t, NULL, signal_then_send, NULL), 0);
    m->service_type = 0;
    m->ret = SP_receive(rcv, &m->service_type, m->sender, MAX_TEST_GROUPS, &m->num_groups,
                        m->groups, &m->mess_type, &m->endian_mismatch, MAX_TEST_BODY, m->body);
    CHECK_EQ(pthread_join(t, NULL), 0);
    CHECK(atomic_load(&signals_seen) > 0);
    if (m->ret != 5)
        FAIL("SP_receive interrupted by signals returned %d (%s)", m->ret, SP_strerror(m->ret));
    CHECK_EQ(m->mess_type, 9);
    CHECK(memcmp(m->body, "after", 5) == 0);
    signal(SIGUSR1, SIG_IGN);
    CHECK_EQ(SP_disconnect(rcv), 0);
    CHECK_EQ(SP_disconnect(sig_sender), 0);
    free(m);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s DAEMON\n", argv[0]);
        return 2;
    }
    watchdog(50);
    receive_while_sending(argv[1]);
    two_receivers(argv[1]);
    close_under_receiver(argv[1], 0);
    close_under_receiver(argv[1], 1);
    close_under_sender(argv[1]);
    parallel_sessions(argv[1]);
    signals_during_receive(argv[1]);
    printf("threads: ok\n");
    return 0;
}
