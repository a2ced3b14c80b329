/*
 * short_buffers.c -- SP_receive/SP_scat_receive with buffers that are too
 * small (client-protocol.md §8.1): GROUPS_TOO_SHORT / BUFFER_TOO_SHORT
 * keep the message and report the sizes needed; DROP_RECV consumes it,
 * truncating; the 5.0.1 stale-header bug must not exist (a *_TOO_SHORT
 * followed by a consuming DROP_RECV, then the next message intact); and
 * SP_poll's byte counts around them (§8.3).
 *
 *   usage: short_buffers DAEMON
 */
#include "check.h"

#define RCV "#rcv#localhost"
#define SND "#snd#localhost"

static mailbox r, s;
static const char *argv_daemon;
static const char body20[] = "twenty bytes of body"; /* 20 bytes */

/* The outputs of one SP_receive call, prefilled with junk so that we see
 * what the call wrote. */
typedef struct {
    int      ret;
    service  st;
    char     sender[MAX_GROUP_NAME];
    int      ng;
    char     groups[5][MAX_GROUP_NAME];
    int16    mt;
    int      endian;
    char     body[200];
} out;

static void do_recv(out *o, int max_groups, int max_len, service flags)
{
    memset(o, 0x7f, sizeof *o);
    o->st = flags;
    o->ret = SP_receive(r, &o->st, o->sender, max_groups, &o->ng, o->groups, &o->mt, &o->endian,
                        max_len, o->body);
}

/* Sends 20 bytes to r's private group plus two groups nobody is in:
 * 3 names, so the whole message is 48 + 3 * 32 + 20 = 164 bytes. */
static void send3(int16 mess_type)
{
    char groups[3][MAX_GROUP_NAME];
    memset(groups, 0, sizeof groups);
    strcpy(groups[0], RCV);
    strcpy(groups[1], "x1");
    strcpy(groups[2], "x2");
    CHECK_EQ(SP_multigroup_multicast(s, AGREED_MESS, 3, (const char(*)[MAX_GROUP_NAME])groups,
                                     mess_type, 20, body20),
             20);
    CHECK_EQ(wait_bytes(r, 164, 10000), 164);
}

/* One name, `text` as the body. */
static void send1(int16 mess_type, const char *text)
{
    int len = (int)strlen(text);
    CHECK_EQ(SP_multicast(s, FIFO_MESS, RCV, mess_type, len, text), len);
    CHECK(wait_bytes(r, 48 + 32 + len, 10000) >= 48 + 32 + len);
}

static void check_three_names(const out *o, int n)
{
    if (n > 0) CHECK_NAME(o->groups[0], RCV);
    if (n > 1) CHECK_NAME(o->groups[1], "x1");
    if (n > 2) CHECK_NAME(o->groups[2], "x2");
}

/* §8.1 "Verified": 2 names/10 bytes, then 5/10, then 5/100. */
static void too_short_then_retry(void)
{
    out o;
    send3(5);
    CHECK_EQ(SP_poll(r), 164);

    do_recv(&o, 2, 10, 0);
    CHECK_EQ(o.ret, GROUPS_TOO_SHORT);
    CHECK_EQ(o.ng, -3);
    CHECK_EQ(o.endian, -20);
    CHECK_EQ(o.st, AGREED_MESS);
    CHECK_NAME(o.sender, SND);
    CHECK_EQ(o.mt, 5);
    /* The header is held by the library, no longer counted by SP_poll. */
    CHECK_EQ(SP_poll(r), 116);

    do_recv(&o, 5, 10, 0);
    CHECK_EQ(o.ret, BUFFER_TOO_SHORT);
    CHECK_EQ(o.ng, 0);
    CHECK_EQ(o.endian, -20);
    CHECK_EQ(o.st, AGREED_MESS);
    CHECK_NAME(o.sender, SND);
    CHECK_EQ(o.mt, 5);
    CHECK_EQ(SP_poll(r), 116);

    /* Names short, body fits: endian_mismatch says nothing is missing. */
    do_recv(&o, 2, 100, 0);
    CHECK_EQ(o.ret, GROUPS_TOO_SHORT);
    CHECK_EQ(o.ng, -3);
    CHECK_EQ(o.endian, 0);

    do_recv(&o, 5, 100, 0);
    CHECK_EQ(o.ret, 20);
    CHECK_EQ(o.ng, 3);
    check_three_names(&o, 3);
    CHECK(memcmp(o.body, body20, 20) == 0);
    CHECK_EQ(o.endian, 0);
    CHECK_EQ(o.st, AGREED_MESS);
    CHECK_NAME(o.sender, SND);
    CHECK_EQ(o.mt, 5);
    CHECK_EQ(SP_poll(r), 0);

    /* Body short only; then exactly the right size. */
    send1(-4, body20);
    do_recv(&o, 5, 19, 0);
    CHECK_EQ(o.ret, BUFFER_TOO_SHORT);
    CHECK_EQ(o.ng, 0);
    CHECK_EQ(o.endian, -20);
    CHECK_EQ(o.mt, -4);
    CHECK_EQ(o.st, FIFO_MESS);
    do_recv(&o, 1, 20, 0);
    CHECK_EQ(o.ret, 20);
    CHECK_EQ(o.ng, 1);
    CHECK(memcmp(o.body, body20, 20) == 0);

    /* NULL outputs: an error, and the message is still there. */
    send1(2, "kept");
    memset(&o, 0, sizeof o);
    CHECK(SP_receive(r, NULL, o.sender, 5, &o.ng, o.groups, &o.mt, &o.endian, 10, o.body) < 0);
    CHECK(SP_receive(r, &o.st, NULL, 5, &o.ng, o.groups, &o.mt, &o.endian, 10, o.body) < 0);
    CHECK(SP_receive(r, &o.st, o.sender, 5, NULL, o.groups, &o.mt, &o.endian, 10, o.body) < 0);
    CHECK(SP_receive(r, &o.st, o.sender, 5, &o.ng, o.groups, NULL, &o.endian, 10, o.body) < 0);
    CHECK(SP_receive(r, &o.st, o.sender, 5, &o.ng, o.groups, &o.mt, NULL, 10, o.body) < 0);
    CHECK(SP_scat_receive(r, &o.st, o.sender, 5, &o.ng, o.groups, &o.mt, &o.endian, NULL) < 0);
    do_recv(&o, 1, 10, 0);
    CHECK_EQ(o.ret, 4);
    CHECK(memcmp(o.body, "kept", 4) == 0);

    /* No group array at all: names never fit. */
    send1(1, "abc");
    memset(&o, 0, sizeof o);
    o.ret = SP_receive(r, &o.st, o.sender, 0, &o.ng, NULL, &o.mt, &o.endian, 10, o.body);
    CHECK_EQ(o.ret, GROUPS_TOO_SHORT);
    CHECK_EQ(o.ng, -1);
    CHECK_EQ(o.endian, 0);
    do_recv(&o, 1, 10, 0);
    CHECK_EQ(o.ret, 3);
}

static void drop_recv(void)
{
    out o;

    /* Names and body short: truncated, BUFFER_TOO_SHORT, consumed. */
    send3(6);
    do_recv(&o, 2, 10, DROP_RECV);
    CHECK_EQ(o.ret, BUFFER_TOO_SHORT);
    CHECK_EQ(o.ng, -3);
    check_three_names(&o, 2);
    CHECK(memcmp(o.body, body20, 10) == 0);
    CHECK(o.body[10] == 0x7f); /* nothing beyond max_mess_len */
    CHECK_EQ(o.st, AGREED_MESS);
    CHECK_NAME(o.sender, SND);
    CHECK_EQ(o.mt, 6);
    CHECK(o.endian == 0 || o.endian == 1);
    CHECK_EQ(o.endian, 0);
    CHECK_EQ(SP_poll(r), 0);

    /* Names short only: the body length, negative num_groups. */
    send3(7);
    do_recv(&o, 2, 100, DROP_RECV);
    CHECK_EQ(o.ret, 20);
    CHECK_EQ(o.ng, -3);
    check_three_names(&o, 2);
    CHECK(memcmp(o.body, body20, 20) == 0);
    CHECK_EQ(o.mt, 7);
    CHECK_EQ(SP_poll(r), 0);

    /* Body short only. */
    send1(8, body20);
    do_recv(&o, 5, 4, DROP_RECV);
    CHECK_EQ(o.ret, BUFFER_TOO_SHORT);
    CHECK_EQ(o.ng, 1);
    CHECK_NAME(o.groups[0], RCV);
    CHECK(memcmp(o.body, body20, 4) == 0);
    CHECK_EQ(o.mt, 8);
    CHECK_EQ(SP_poll(r), 0);

    /* Everything fits: DROP_RECV changes nothing. */
    send1(9, "fits");
    do_recv(&o, 5, 100, DROP_RECV);
    CHECK_EQ(o.ret, 4);
    CHECK_EQ(o.ng, 1);
    CHECK(memcmp(o.body, "fits", 4) == 0);
    CHECK_EQ(o.st, FIFO_MESS);

    /* Zero-byte buffer. */
    send1(10, "gone");
    do_recv(&o, 5, 0, DROP_RECV);
    CHECK_EQ(o.ret, BUFFER_TOO_SHORT);
    CHECK_EQ(SP_poll(r), 0);
}

/* 5.0.1 kept the header saved by a *_TOO_SHORT after a DROP_RECV consumed
 * the message, and the next receive used it again. */
static void stale_header(void)
{
    out o;
    for (int variant = 0; variant < 3; variant++) {
        send3(20);
        send1(21, "the next message");
        if (variant == 0) {
            do_recv(&o, 2, 10, 0);
            CHECK_EQ(o.ret, GROUPS_TOO_SHORT);
        } else {
            do_recv(&o, 5, 10, 0);
            CHECK_EQ(o.ret, BUFFER_TOO_SHORT);
        }
        if (variant < 2) {
            /* Still too small: consumed and truncated. */
            do_recv(&o, 2, 10, DROP_RECV);
            CHECK_EQ(o.ret, BUFFER_TOO_SHORT);
            CHECK_EQ(o.ng, -3);
            CHECK(memcmp(o.body, body20, 10) == 0);
        } else {
            /* Big enough now: an ordinary receive with the flag set. */
            do_recv(&o, 5, 100, DROP_RECV);
            CHECK_EQ(o.ret, 20);
            CHECK_EQ(o.ng, 3);
        }
        CHECK_EQ(o.mt, 20);
        /* The next receive returns the next message, whole. */
        do_recv(&o, 5, 100, 0);
        CHECK_EQ(o.ret, 16);
        CHECK_EQ(o.st, FIFO_MESS);
        CHECK_NAME(o.sender, SND);
        CHECK_EQ(o.ng, 1);
        CHECK_NAME(o.groups[0], RCV);
        CHECK_EQ(o.mt, 21);
        CHECK(memcmp(o.body, "the next message", 16) == 0);
        CHECK_EQ(SP_poll(r), 0);
    }
}

/* Memberships: mess_type 0 while short, the member index once received. */
static void short_membership(void)
{
    out o;
    mailbox t;
    char pg[MAX_GROUP_NAME];

    CONNECT(argv_daemon, "t", 1, &t, pg);
    CHECK_EQ(SP_join(t, "grp"), 0); /* r is in grp already: 2 members */
    CHECK_EQ(wait_bytes(r, 48 + 64 + 56, 10000), 48 + 64 + 56);
    do_recv(&o, 1, 100, 0);
    CHECK_EQ(o.ret, GROUPS_TOO_SHORT);
    CHECK_EQ(o.ng, -2);
    CHECK_EQ(o.endian, 0);
    CHECK_EQ(o.st, REG_MEMB_MESS | CAUSED_BY_JOIN);
    CHECK_NAME(o.sender, "grp");
    CHECK_EQ(o.mt, 0);
    do_recv(&o, 2, 10, 0);
    CHECK_EQ(o.ret, BUFFER_TOO_SHORT);
    CHECK_EQ(o.ng, 0);
    CHECK_EQ(o.endian, -56);
    do_recv(&o, 2, 100, 0);
    CHECK_EQ(o.ret, 56);
    CHECK_EQ(o.ng, 2);
    CHECK_NAME(o.groups[0], RCV);
    CHECK_NAME(o.groups[1], "#t#localhost");
    CHECK_EQ(o.mt, 0); /* r's index in the member list */

    /* DROP_RECV on a membership with a short body. */
    CHECK_EQ(SP_leave(t, "grp"), 0);
    CHECK_EQ(wait_bytes(r, 48 + 32 + 56, 10000), 48 + 32 + 56);
    do_recv(&o, 1, 12, DROP_RECV);
    CHECK_EQ(o.ret, BUFFER_TOO_SHORT);
    CHECK_EQ(o.st, REG_MEMB_MESS | CAUSED_BY_LEAVE);
    CHECK_EQ(o.ng, 1);
    CHECK_EQ(SP_poll(r), 0);
    SP_kill(t);
}

/* The same rules through SP_scat_receive. */
static void scattered(void)
{
    char a[6], b[4], big[100];
    scatter scat;
    service st;
    char sender[MAX_GROUP_NAME], groups[5][MAX_GROUP_NAME];
    int ng, endian, ret;
    int16 mt;

    memset(&scat, 0, sizeof scat);
    scat.num_elements = 2;
    scat.elements[0].buf = a;
    scat.elements[0].len = sizeof a;
    scat.elements[1].buf = b;
    scat.elements[1].len = sizeof b;

    send3(30);
    st = 0;
    ret = SP_scat_receive(r, &st, sender, 5, &ng, groups, &mt, &endian, &scat);
    CHECK_EQ(ret, BUFFER_TOO_SHORT);
    CHECK_EQ(ng, 0);
    CHECK_EQ(endian, -20);
    CHECK_EQ(mt, 30);
    /* DROP_RECV fills both elements with the first 10 bytes. */
    st = DROP_RECV;
    ret = SP_scat_receive(r, &st, sender, 5, &ng, groups, &mt, &endian, &scat);
    CHECK_EQ(ret, BUFFER_TOO_SHORT);
    CHECK_EQ(ng, 3);
    CHECK(memcmp(a, body20, 6) == 0);
    CHECK(memcmp(b, body20 + 6, 4) == 0);
    CHECK_EQ(SP_poll(r), 0);

    send3(31);
    st = 0;
    ret = SP_scat_receive(r, &st, sender, 2, &ng, groups, &mt, &endian, &scat);
    CHECK_EQ(ret, GROUPS_TOO_SHORT);
    CHECK_EQ(ng, -3);
    CHECK_EQ(endian, -20);
    scat.num_elements = 3;
    scat.elements[2].buf = big;
    scat.elements[2].len = sizeof big;
    st = 0;
    ret = SP_scat_receive(r, &st, sender, 5, &ng, groups, &mt, &endian, &scat);
    CHECK_EQ(ret, 20);
    CHECK_EQ(ng, 3);
    CHECK_EQ(mt, 31);
    CHECK(memcmp(a, body20, 6) == 0);
    CHECK(memcmp(b, body20 + 6, 4) == 0);
    CHECK(memcmp(big, body20 + 10, 10) == 0);
}

int main(int argc, char **argv)
{
    char pg[MAX_GROUP_NAME];
    out o;

    if (argc < 2) {
        fprintf(stderr, "usage: %s DAEMON\n", argv[0]);
        return 2;
    }
    argv_daemon = argv[1];
    watchdog(40);
    CONNECT(argv[1], "rcv", 1, &r, pg);
    CONNECT(argv[1], "snd", 1, &s, pg);
    CHECK_EQ(SP_poll(r), 0);
    CHECK_EQ(SP_join(r, "grp"), 0);
    CHECK_EQ(wait_bytes(r, 48 + 32 + 56, 10000), 48 + 32 + 56);
    do_recv(&o, 5, 100, 0);
    CHECK_EQ(o.ret, 56);
    CHECK_EQ(SP_poll(r), 0);

    too_short_then_retry();
    drop_recv();
    stale_header();
    short_membership();
    scattered();
    CHECK_EQ(SP_disconnect(r), 0);
    CHECK_EQ(SP_disconnect(s), 0);
    printf("short_buffers: ok\n");
    return 0;
}
