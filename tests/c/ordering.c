/*
 * ordering.c -- 10,000 AGREED messages from one sender, received in
 * order by two receivers (each body carries a sequence number), with the
 * mess_type and the body intact.
 *
 *   usage: ordering DAEMON [COUNT]
 */
#include "check.h"

#include <pthread.h>
#include <stdatomic.h>

/* The sender keeps at most WINDOW messages ahead of the slower receiver,
 * so that neither receiver nears the daemon's limit of queued messages
 * (MaxSessionMessages, 1000) even if it is descheduled for a while. */
enum { WINDOW = 400, BODY = 64 };

static int count = 10000;

typedef struct {
    mailbox     mbox;
    atomic_int  received;
    const char *name;
} receiver;

static void fill(char *body, int seq)
{
    memset(body, 0, BODY);
    snprintf(body, BODY, "seq %08d", seq);
    for (int i = 16; i < BODY; i++)
        body[i] = (char)(seq + i);
}

static void *receive_loop(void *arg)
{
    receiver *rx = arg;
    message *m = malloc(sizeof *m);
    char want[BODY];
    CHECK(m != NULL);
    for (int seq = 0; seq < count; seq++) {
        m->service_type = 0;
        m->ret = SP_receive(rx->mbox, &m->service_type, m->sender, MAX_TEST_GROUPS,
                            &m->num_groups, m->groups, &m->mess_type, &m->endian_mismatch, BODY,
                            m->body);
        if (m->ret != BODY || m->service_type != AGREED_MESS)
            FAIL("%s: message %d: ret %d, service 0x%x", rx->name, seq, m->ret, m->service_type);
        fill(want, seq);
        if (memcmp(m->body, want, BODY) != 0)
            FAIL("%s: expected message %d, got \"%.12s\"", rx->name, seq, m->body);
        CHECK_EQ(m->mess_type, (int16)seq);
        CHECK_NAME(m->sender, "#sender#localhost");
        atomic_store(&rx->received, seq + 1);
    }
    free(m);
    return NULL;
}

int main(int argc, char **argv)
{
    receiver rx[2] = {{.name = "r1"}, {.name = "r2"}};
    pthread_t t[2];
    mailbox snd;
    char pg[MAX_GROUP_NAME], body[BODY];
    message *m = malloc(sizeof *m);
    long long t0;

    if (argc < 2) {
        fprintf(stderr, "usage: %s DAEMON [COUNT]\n", argv[0]);
        return 2;
    }
    if (argc > 2)
        count = atoi(argv[2]);
    CHECK(m != NULL);
    watchdog(90);

    /* Both receivers in the group before anything is sent; the sender is
     * not a member. */
    CONNECT(argv[1], "r1", 1, &rx[0].mbox, pg);
    CONNECT(argv[1], "r2", 1, &rx[1].mbox, pg);
    CONNECT(argv[1], "sender", 1, &snd, pg);
    CHECK_EQ(SP_join(rx[0].mbox, "ordered"), 0);
    EXPECT_MEMB(rx[0].mbox, m, "ordered", CAUSED_BY_JOIN, 1);
    CHECK_EQ(SP_join(rx[1].mbox, "ordered"), 0);
    EXPECT_MEMB(rx[0].mbox, m, "ordered", CAUSED_BY_JOIN, 2);
    EXPECT_MEMB(rx[1].mbox, m, "ordered", CAUSED_BY_JOIN, 2);
    free(m);

    for (int i = 0; i < 2; i++) {
        atomic_init(&rx[i].received, 0);
        CHECK_EQ(pthread_create(&t[i], NULL, receive_loop, &rx[i]), 0);
    }
    t0 = now_ms();
    for (int seq = 0; seq < count; seq++) {
        while (seq - atomic_load(&rx[0].received) >= WINDOW ||
               seq - atomic_load(&rx[1].received) >= WINDOW)
            sleep_ms(1);
        fill(body, seq);
        CHECK_EQ(SP_multicast(snd, AGREED_MESS, "ordered", (int16)seq, BODY, body), BODY);
    }
    for (int i = 0; i < 2; i++)
        CHECK_EQ(pthread_join(t[i], NULL), 0);
    printf("ordering: %d messages to 2 receivers in order, %lld ms\n", count, now_ms() - t0);
    CHECK_EQ(SP_disconnect(snd), 0);
    CHECK_EQ(SP_disconnect(rx[0].mbox), 0);
    CHECK_EQ(SP_disconnect(rx[1].mbox), 0);
    return 0;
}
