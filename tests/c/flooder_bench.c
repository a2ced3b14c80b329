/*
 * flooder_bench.c -- a C flooder in the manner of Spread's spflooder:
 * joins a group and sends COUNT AGREED messages of SIZE bytes to it,
 * reading its own messages back with at most WINDOW in flight, then
 * prints "c-flooder: N msgs, T s, X msgs/s".
 *
 *   usage: flooder_bench DAEMON COUNT SIZE
 */
#include "check.h"

enum { WINDOW = 200 };

static message m;

/* Receives the next of our messages, skipping memberships; checks its
 * sequence number (the first 4 bytes of the body, when there are 4). */
static void receive_next(mailbox mbox, int expect, int size)
{
    do {
        m.service_type = 0;
        m.ret = SP_receive(mbox, &m.service_type, m.sender, MAX_TEST_GROUPS, &m.num_groups,
                           m.groups, &m.mess_type, &m.endian_mismatch, MAX_TEST_BODY, m.body);
        if (m.ret < 0)
            FAIL("SP_receive: %d (%s)", m.ret, SP_strerror(m.ret));
    } while (Is_membership_mess(m.service_type));
    CHECK_EQ(m.service_type, AGREED_MESS);
    CHECK_EQ(m.ret, size);
    if (size >= 4) {
        int seq;
        memcpy(&seq, m.body, sizeof seq);
        if (seq != expect)
            FAIL("message %d arrived when %d was expected", seq, expect);
    }
}

int main(int argc, char **argv)
{
    mailbox mbox;
    char pg[MAX_GROUP_NAME];
    char *body;
    int count, size, sent = 0, received = 0;
    long long t0, ms;

    if (argc < 4) {
        fprintf(stderr, "usage: %s DAEMON COUNT SIZE\n", argv[0]);
        return 2;
    }
    count = atoi(argv[2]);
    size = atoi(argv[3]);
    if (count < 0 || size < 0 || size > 100000) {
        fprintf(stderr, "COUNT >= 0, 0 <= SIZE <= 100000\n");
        return 2;
    }
    body = calloc(1, (size_t)size + 4);
    CHECK(body != NULL);

    CONNECT(argv[1], "cflooder", 1, &mbox, pg);
    CHECK_EQ(SP_join(mbox, "flooder"), 0);
    EXPECT_MEMB(mbox, &m, "flooder", CAUSED_BY_JOIN, 1);

    t0 = now_ms();
    while (received < count) {
        /* Send while the window has room; otherwise read one back. */
        if (sent < count && sent - received < WINDOW) {
            if (size >= 4)
                memcpy(body, &sent, sizeof sent);
            int r = SP_multicast(mbox, AGREED_MESS, "flooder", 0, size, body);
            if (r != size)
                FAIL("SP_multicast #%d: %d (%s)", sent, r, SP_strerror(r));
            sent++;
        } else {
            receive_next(mbox, received, size);
            received++;
        }
    }
    ms = now_ms() - t0;
    if (ms < 1)
        ms = 1;
    printf("c-flooder: %d msgs, %.3f s, %.0f msgs/s\n", count, ms / 1000.0,
           count * 1000.0 / (double)ms);
    CHECK_EQ(SP_disconnect(mbox), 0);
    free(body);
    return 0;
}
