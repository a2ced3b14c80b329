/*
 * slow_reader.c -- a session that does not read is dropped by the daemon
 * once too many messages are queued for it (MaxSessionMessages, 100 in
 * this test's daemon): the other members see CAUSED_BY_DISCONNECT; the
 * slow reader then gets the messages that had reached its socket, in
 * order, then CONNECTION_CLOSED, then NET_ERROR_ON_SESSION.
 *
 *   usage: slow_reader TCP_NAME UNIX_PATH
 */
#include "check.h"

enum { COUNT = 600, SIZE = 10000 };

int main(int argc, char **argv)
{
    mailbox slow, watcher, snd;
    char pg[MAX_GROUP_NAME];
    static message m;
    static char body[SIZE];
    int sent = 0, got = 0, r;

    if (argc < 3) {
        fprintf(stderr, "usage: %s TCP_NAME UNIX_PATH\n", argv[0]);
        return 2;
    }
    watchdog(40);
    CONNECT(argv[2], "slow", 1, &slow, pg); /* Unix socket: small kernel buffers */
    CONNECT(argv[1], "watcher", 1, &watcher, pg);
    CONNECT(argv[1], "snd", 0, &snd, pg);
    CHECK_EQ(SP_join(watcher, "g"), 0);
    EXPECT_MEMB(watcher, &m, "g", CAUSED_BY_JOIN, 1);
    CHECK_EQ(SP_join(slow, "g"), 0);
    EXPECT_MEMB(watcher, &m, "g", CAUSED_BY_JOIN, 2);

    /* Point-to-point to the slow reader, which reads nothing meanwhile. */
    for (sent = 0; sent < COUNT; sent++) {
        memcpy(body, &sent, sizeof sent);
        r = SP_multicast(snd, RELIABLE_MESS, "#slow#localhost", 0, SIZE, body);
        CHECK_EQ(r, SIZE);
    }
    /* The watcher learns that the slow reader was dropped. */
    EXPECT_MEMB(watcher, &m, "g", CAUSED_BY_DISCONNECT, 1);
    {
        membership_info info;
        CHECK_EQ(SP_get_memb_info(m.body, m.service_type, &info), 1);
        CHECK_NAME(info.changed_member, "#slow#localhost");
    }

    /* The slow reader: its join, then messages in order, then the end. */
    RECV(slow, &m);
    CHECK(Is_reg_memb_mess(m.service_type));
    for (;;) {
        int seq;
        m.service_type = 0;
        r = SP_receive(slow, &m.service_type, m.sender, MAX_TEST_GROUPS, &m.num_groups, m.groups,
                       &m.mess_type, &m.endian_mismatch, MAX_TEST_BODY, m.body);
        if (r < 0)
            break;
        CHECK_EQ(r, SIZE);
        memcpy(&seq, m.body, sizeof seq);
        CHECK_EQ(seq, got);
        got++;
    }
    CHECK_EQ(r, CONNECTION_CLOSED);
    CHECK(got < COUNT);
    m.service_type = 0;
    r = SP_receive(slow, &m.service_type, m.sender, MAX_TEST_GROUPS, &m.num_groups, m.groups,
                   &m.mess_type, &m.endian_mismatch, MAX_TEST_BODY, m.body);
    CHECK_EQ(r, NET_ERROR_ON_SESSION);
    CHECK_EQ(SP_disconnect(slow), 0);
    CHECK_EQ(SP_disconnect(watcher), 0);
    CHECK_EQ(SP_disconnect(snd), 0);
    printf("slow_reader: dropped after %d of %d messages\n", got, COUNT);
    return 0;
}
