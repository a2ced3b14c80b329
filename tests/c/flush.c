/*
 * flush.c -- Flush Spread's C API (fl.h): three FL mailboxes in one
 * process on one daemon. Joins with flush requests answered and views
 * read at the FL_get_*_offset_memb_mess offsets, multicast, unicast and
 * subgroupcast (flat and scattered), FL_receive and FL_scat_receive with
 * too-short buffers and DROP_RECV, DONT_BLOCK, FL_poll, FL_more_msgs,
 * leave, disconnect, and the error codes of bad input. Also SP_* on a
 * plain mailbox beside them: one library serves both.
 *
 *   usage: flush DAEMON
 */
#include "check.h"

#include <fl.h>

#define A     "#fa#localhost"
#define B     "#fb#localhost"
#define C     "#fc#localhost"
#define GROUP "fg"

static const char *daemon_name;
static message msg; /* large: static, not on the stack */
static int more;

/* One FL_receive with DONT_BLOCK and ample buffers; WOULD_BLOCK or the
 * call's result in msg.ret. `flags` are added to DONT_BLOCK. */
static int try_recv(mailbox m, service flags)
{
    msg.service_type = DONT_BLOCK | flags;
    more = -1;
    msg.ret = FL_receive(m, &msg.service_type, msg.sender, MAX_TEST_GROUPS, &msg.num_groups,
                         msg.groups, &msg.mess_type, &msg.endian_mismatch, MAX_TEST_BODY,
                         msg.body, &more);
    return msg.ret;
}

/* The next message of `m` within 10 s (FL_flush answers no request here). */
static void fl_recv_at(mailbox m, const char *file, int line)
{
    long long end = now_ms() + 10000;
    while (try_recv(m, 0) == WOULD_BLOCK) {
        if (now_ms() > end)
            FAIL_AT(file, line, "no Flush message on %d within 10 s", m);
        sleep_ms(1);
    }
    if (msg.ret < 0)
        FAIL_AT(file, line, "FL_receive on %d: %d", m, msg.ret);
    if (more < 0 || more != FL_more_msgs(m))
        FAIL_AT(file, line, "more_msgs %d, FL_more_msgs %d", more, FL_more_msgs(m));
}
#define FRECV(m) fl_recv_at((m), __FILE__, __LINE__)

/* Nothing for `m` within `ms` milliseconds. */
static void quiet_at(mailbox m, int ms, const char *file, int line)
{
    long long end = now_ms() + ms;
    while (now_ms() < end) {
        if (try_recv(m, 0) != WOULD_BLOCK)
            FAIL_AT(file, line, "mailbox %d should be quiet, got %d (service 0x%x)", m, msg.ret,
                    msg.service_type);
        sleep_ms(2);
    }
}
#define FQUIET(m, ms) quiet_at((m), (ms), __FILE__, __LINE__)

/* The view that each of the first `n` mailboxes gets last. */
typedef struct {
    int      got;
    service  service_type;
    int      members;
    int16    my_index;
    int      len;
    int      num_vs;
    char     vs0[MAX_GROUP_NAME];
    group_id gid;
    int      flush_requests;
} view;

/* Receives on every mailbox in turn until each has a view of GROUP with
 * `members` members, answering flush requests; nothing else may come. */
static void views_at(mailbox *m, view *v, int n, int members, const char *file, int line)
{
    long long end = now_ms() + 10000;
    memset(v, 0, sizeof(view) * (size_t)n);
    for (;;) {
        int done = 1;
        for (int i = 0; i < n; i++)
            done &= v[i].got;
        if (done)
            return;
        if (now_ms() > end)
            FAIL_AT(file, line, "views of %d members did not come within 10 s", members);
        for (int i = 0; i < n; i++) {
            if (v[i].got || try_recv(m[i], 0) == WOULD_BLOCK)
                continue;
            if (msg.ret < 0)
                FAIL_AT(file, line, "FL_receive on %d: %d", m[i], msg.ret);
            if (Is_flush_req_mess(msg.service_type)) {
                if (strncmp(msg.sender, GROUP, MAX_GROUP_NAME) != 0)
                    FAIL_AT(file, line, "flush request of %.32s", msg.sender);
                v[i].flush_requests++;
                if (FL_flush(m[i], GROUP) != 0)
                    FAIL_AT(file, line, "FL_flush on %d", m[i]);
                /* A second FL_flush for one request is refused. */
                if (FL_flush(m[i], GROUP) != ILLEGAL_STATE)
                    FAIL_AT(file, line, "a second FL_flush was not ILLEGAL_STATE");
            } else if (Is_reg_memb_mess(msg.service_type)) {
                if (strncmp(msg.sender, GROUP, MAX_GROUP_NAME) != 0)
                    FAIL_AT(file, line, "view of %.32s", msg.sender);
                if (msg.num_groups != members)
                    continue; /* an older view */
                v[i].got = 1;
                v[i].service_type = msg.service_type;
                v[i].members = msg.num_groups;
                v[i].my_index = msg.mess_type;
                v[i].len = msg.ret;
                memcpy(&v[i].gid, msg.body + FL_get_gid_offset_memb_mess(), sizeof(group_id));
                memcpy(&v[i].num_vs, msg.body + FL_get_num_vs_offset_memb_mess(), sizeof(int));
                memcpy(v[i].vs0, msg.body + FL_get_vs_set_offset_memb_mess(), MAX_GROUP_NAME);
            } else if (!Is_transition_mess(msg.service_type)) {
                FAIL_AT(file, line, "unexpected service 0x%x on %d", msg.service_type, m[i]);
            }
        }
        sleep_ms(1);
    }
}
#define VIEWS(m, v, n, members) views_at((m), (v), (n), (members), __FILE__, __LINE__)

static void fl_connect(const char *name, mailbox *m, char *pg)
{
    int r = FL_connect(daemon_name, name, 0, m, pg);
    if (r != ACCEPT_SESSION)
        FAIL("FL_connect(%s): %d", name, r);
}

/* A data message as FL_receive reports it. */
static void check_data(service serv, const char *sender, int16 mess_type, const char *body,
                       int len)
{
    CHECK((msg.service_type & serv) == serv);
    CHECK(Is_regular_mess(msg.service_type));
    CHECK_NAME(msg.sender, sender);
    CHECK_EQ(msg.mess_type, mess_type);
    CHECK_EQ(msg.endian_mismatch, 0);
    CHECK_EQ(msg.ret, len);
    CHECK(memcmp(msg.body, body, (size_t)len) == 0);
}

static void versions_and_codes(void)
{
    int major = -1, minor = -1, patch = -1;
    CHECK_EQ(FL_lib_init(), 0);
    CHECK_EQ(FL_lib_init(), ILLEGAL_STATE);
    FL_version(&major, &minor, &patch);
    CHECK_EQ(major, 2);
    CHECK_EQ(minor, 0);
    CHECK_EQ(patch, 0);
    CHECK_EQ(FL_get_gid_offset_memb_mess(), 0);
    CHECK_EQ(FL_get_num_vs_offset_memb_mess(), 12);
    CHECK_EQ(FL_get_vs_set_offset_memb_mess(), 16);
    CHECK_EQ(ILLEGAL_PARAM, -24);
    CHECK_EQ(WOULD_BLOCK, -25);
    CHECK_EQ(ILLEGAL_MESSAGE_TYPE, -26);
    CHECK_EQ(ILLEGAL_STATE, -27);
    CHECK_EQ(ILLEGAL_RECEIVERS, -28);
    CHECK_EQ(FL_MAX_SCATTER_ELEMENTS, MAX_CLIENT_SCATTER_ELEMENTS - 1);
    CHECK_EQ(FL_MIN_LEGAL_MESS_TYPE, -32765);
    /* The runner checks these lines on stdout. */
    FL_error(ILLEGAL_PARAM);
    FL_error(ILLEGAL_RECEIVERS);
    FL_error(ILLEGAL_GROUP);

    /* No such mailbox. */
    CHECK_EQ(FL_join(-5, GROUP), ILLEGAL_SESSION);
    CHECK_EQ(FL_leave(12345, GROUP), ILLEGAL_SESSION);
    CHECK_EQ(FL_flush(12345, GROUP), ILLEGAL_SESSION);
    CHECK_EQ(FL_multicast(12345, AGREED_MESS, GROUP, 1, 1, "x"), ILLEGAL_SESSION);
    CHECK_EQ(FL_more_msgs(12345), ILLEGAL_SESSION);
    CHECK_EQ(FL_poll(12345), ILLEGAL_SESSION);
    CHECK_EQ(FL_disconnect(12345), ILLEGAL_SESSION);
    CHECK_EQ(try_recv(12345, 0), ILLEGAL_SESSION);
    {
        mailbox m;
        char pg[MAX_GROUP_NAME];
        CHECK_EQ(FL_connect(daemon_name, "fx", 0, NULL, pg), ILLEGAL_SESSION);
        CHECK_EQ(FL_connect(daemon_name, "fx", 0, &m, NULL), ILLEGAL_SESSION);
    }
}

int main(int argc, char **argv)
{
    mailbox m[3], sp;
    char pg[3][MAX_GROUP_NAME], sp_pg[MAX_GROUP_NAME];
    view v[3];
    char rcv[2][MAX_GROUP_NAME];
    char big[100];
    char part1[] = "scat", part2[] = "tered";
    scatter out;
    int r;

    watchdog(50);
    if (argc < 2)
        FAIL("usage: flush DAEMON");
    daemon_name = argv[1];
    versions_and_codes();

    fl_connect("fa", &m[0], pg[0]);
    fl_connect("fb", &m[1], pg[1]);
    fl_connect("fc", &m[2], pg[2]);
    CHECK_NAME(pg[0], A);
    CHECK_NAME(pg[1], B);
    CHECK_NAME(pg[2], C);
    /* A plain SP mailbox beside them, in the same library. */
    CONNECT(daemon_name, "fsp", 1, &sp, sp_pg);

    /* Bad group names; closed groups: no sends before joining. */
    CHECK_EQ(FL_join(m[0], ""), ILLEGAL_GROUP);
    CHECK_EQ(FL_join(m[0], NULL), ILLEGAL_GROUP);
    CHECK_EQ(FL_leave(m[0], GROUP), ILLEGAL_GROUP);
    CHECK_EQ(FL_flush(m[0], GROUP), ILLEGAL_GROUP);
    CHECK_EQ(FL_multicast(m[0], AGREED_MESS, GROUP, 1, 1, "x"), ILLEGAL_GROUP);
    CHECK_EQ(try_recv(m[0], 0), WOULD_BLOCK);
    CHECK_EQ(FL_poll(m[0]), 0);
    CHECK_EQ(FL_more_msgs(m[0]), 0);

    /* a alone: a view of one, caused by its join, read at the offsets. */
    CHECK_EQ(FL_join(m[0], GROUP), 0);
    VIEWS(m, v, 1, 1);
    CHECK_EQ(FL_join(m[0], GROUP), ILLEGAL_GROUP);
    CHECK(v[0].service_type & CAUSED_BY_JOIN);
    CHECK_EQ(v[0].my_index, 0);
    CHECK_EQ(v[0].len, 16 + MAX_GROUP_NAME);
    CHECK_EQ(v[0].num_vs, 1);
    CHECK_NAME(v[0].vs0, A);
    CHECK_EQ(FL_flush(m[0], GROUP), ILLEGAL_STATE);

    /* b, then c join: the members flush, everyone installs the view. */
    CHECK_EQ(FL_join(m[1], GROUP), 0);
    VIEWS(m, v, 2, 2);
    CHECK(v[0].flush_requests >= 1);
    CHECK_EQ(v[0].my_index, 0);
    CHECK_EQ(v[1].my_index, 1);
    CHECK(SP_equal_group_ids(v[0].gid, v[1].gid));
    CHECK_NAME(v[0].vs0, B);
    CHECK_EQ(FL_join(m[2], GROUP), 0);
    VIEWS(m, v, 3, 3);
    for (int i = 0; i < 3; i++) {
        CHECK(v[i].service_type & CAUSED_BY_JOIN);
        CHECK_EQ(v[i].my_index, i);
        CHECK_EQ(v[i].num_vs, 1);
        CHECK_NAME(v[i].vs0, C);
        CHECK(SP_equal_group_ids(v[i].gid, v[0].gid));
        CHECK_EQ(v[i].len, 16 + MAX_GROUP_NAME);
    }
    CHECK(v[0].flush_requests >= 1 && v[1].flush_requests >= 1);
    CHECK_EQ(v[2].flush_requests, 0);

    /* Multicast: all three, the group in groups. */
    CHECK_EQ(FL_multicast(m[0], AGREED_MESS, GROUP, 3, 5, "hello"), 5);
    for (int i = 0; i < 3; i++) {
        FRECV(m[i]);
        check_data(AGREED_MESS, A, 3, "hello", 5);
        CHECK_EQ(msg.num_groups, 1);
        CHECK_NAME(msg.groups[0], GROUP);
    }
    /* Scattered multicast, received scattered. */
    out.num_elements = 2;
    out.elements[0].buf = part1;
    out.elements[0].len = 4;
    out.elements[1].buf = part2;
    out.elements[1].len = 5;
    CHECK_EQ(FL_scat_multicast(m[1], FIFO_MESS, GROUP, 7, &out), 9);
    for (int i = 0; i < 3; i++) {
        char s1[3], s2[20];
        scatter in;
        int ng;
        long long end = now_ms() + 10000;
        in.num_elements = 2;
        in.elements[0].buf = s1;
        in.elements[0].len = sizeof s1;
        in.elements[1].buf = s2;
        in.elements[1].len = sizeof s2;
        do {
            msg.service_type = DONT_BLOCK;
            r = FL_scat_receive(m[i], &msg.service_type, msg.sender, MAX_TEST_GROUPS, &ng,
                                msg.groups, &msg.mess_type, &msg.endian_mismatch, &in, &more);
            CHECK(now_ms() < end);
        } while (r == WOULD_BLOCK && (sleep_ms(1), 1));
        CHECK_EQ(r, 9);
        CHECK(Is_fifo_mess(msg.service_type));
        CHECK_NAME(msg.sender, B);
        CHECK_EQ(msg.mess_type, 7);
        CHECK(memcmp(s1, "sca", 3) == 0 && memcmp(s2, "ttered", 6) == 0);
    }

    /* Unicast: only b, its name then the group in groups. */
    CHECK_EQ(FL_unicast(m[0], FIFO_MESS, GROUP, "#fz#localhost", 4, 2, "no"), ILLEGAL_RECEIVERS);
    CHECK_EQ(FL_unicast(m[0], FIFO_MESS, GROUP, B, 4, 2, "hi"), 2);
    FRECV(m[1]);
    check_data(FIFO_MESS, A, 4, "hi", 2);
    CHECK(Is_subgroup_mess(msg.service_type));
    CHECK_EQ(msg.num_groups, 2);
    CHECK_NAME(msg.groups[0], B);
    CHECK_NAME(msg.groups[1], GROUP);
    CHECK_EQ(FL_scat_unicast(m[2], RELIABLE_MESS, GROUP, A, 8, &out), 9);
    FRECV(m[0]);
    check_data(RELIABLE_MESS, C, 8, "scattered", 9);
    CHECK(Is_subgroup_mess(msg.service_type));

    /* Subgroupcast to b and c. */
    memset(rcv, 0, sizeof rcv);
    strcpy(rcv[0], B);
    strcpy(rcv[1], C);
    CHECK_EQ(FL_subgroupcast(m[0], CAUSAL_MESS, GROUP, 2, rcv, 5, 3, "sub"), 3);
    CHECK_EQ(FL_scat_subgroupcast(m[0], SAFE_MESS, GROUP, 2, rcv, 6, &out), 9);
    for (int i = 1; i < 3; i++) {
        FRECV(m[i]);
        check_data(CAUSAL_MESS, A, 5, "sub", 3);
        CHECK(Is_subgroup_mess(msg.service_type));
        CHECK_EQ(msg.num_groups, 3);
        CHECK_NAME(msg.groups[0], B);
        CHECK_NAME(msg.groups[1], C);
        CHECK_NAME(msg.groups[2], GROUP);
        FRECV(m[i]);
        check_data(SAFE_MESS, A, 6, "scattered", 9);
    }
    /* None of those came back to a. */
    FQUIET(m[0], 200);

    /* Bad input to the sends and receives. */
    CHECK_EQ(FL_multicast(m[0], AGREED_MESS, GROUP, FL_MIN_LEGAL_MESS_TYPE - 1, 1, "x"),
             ILLEGAL_MESSAGE_TYPE);
    CHECK_EQ(FL_multicast(m[0], AGREED_MESS, GROUP, 1, -1, "x"), ILLEGAL_PARAM);
    CHECK_EQ(FL_subgroupcast(m[0], AGREED_MESS, GROUP, -1, rcv, 1, 1, "x"), ILLEGAL_PARAM);
    CHECK_EQ(FL_multicast(m[0], AGREED_MESS, "other", 1, 1, "x"), ILLEGAL_GROUP);
    msg.service_type = 0;
    CHECK_EQ(FL_receive(m[0], &msg.service_type, msg.sender, -1, &msg.num_groups, msg.groups,
                        &msg.mess_type, &msg.endian_mismatch, 10, msg.body, &more),
             ILLEGAL_PARAM);
    CHECK_EQ(FL_receive(m[0], NULL, msg.sender, 1, &msg.num_groups, msg.groups, &msg.mess_type,
                        &msg.endian_mismatch, 10, msg.body, &more),
             ILLEGAL_MESSAGE);

    /* Too-short buffers keep the message; DROP_RECV truncates it. */
    memset(big, 'b', sizeof big);
    CHECK_EQ(FL_multicast(m[0], AGREED_MESS, GROUP, 9, sizeof big, big), (int)sizeof big);
    {
        long long end = now_ms() + 10000;
        while (FL_poll(m[1]) <= 0 || FL_poll(m[2]) <= 0) {
            CHECK(now_ms() < end);
            sleep_ms(1);
        }
    }
    for (;;) {
        msg.service_type = DONT_BLOCK;
        r = FL_receive(m[1], &msg.service_type, msg.sender, MAX_TEST_GROUPS, &msg.num_groups,
                       msg.groups, &msg.mess_type, &msg.endian_mismatch, 10, msg.body, &more);
        if (r != WOULD_BLOCK)
            break;
        sleep_ms(1);
    }
    CHECK_EQ(r, BUFFER_TOO_SHORT);
    CHECK_EQ(msg.endian_mismatch, -(int)sizeof big);
    CHECK_EQ(msg.num_groups, 0);
    CHECK_EQ(msg.mess_type, 9);
    CHECK(more >= 1);
    CHECK(FL_more_msgs(m[1]) >= 1);
    CHECK(FL_poll(m[1]) >= (int)sizeof big);
    msg.service_type = 0;
    r = FL_receive(m[1], &msg.service_type, msg.sender, 0, &msg.num_groups, msg.groups,
                   &msg.mess_type, &msg.endian_mismatch, MAX_TEST_BODY, msg.body, &more);
    CHECK_EQ(r, GROUPS_TOO_SHORT);
    CHECK_EQ(msg.num_groups, -1);
    FRECV(m[1]);
    check_data(AGREED_MESS, A, 9, big, sizeof big);
    for (;;) {
        r = try_recv(m[2], DROP_RECV);
        if (r != WOULD_BLOCK)
            break;
        sleep_ms(1);
    }
    CHECK_EQ(r, 100); /* it fits: ample buffers */
    CHECK_EQ(FL_multicast(m[0], AGREED_MESS, GROUP, 10, sizeof big, big), (int)sizeof big);
    for (;;) {
        msg.service_type = DONT_BLOCK | DROP_RECV;
        memset(msg.body, 0, 20);
        r = FL_receive(m[2], &msg.service_type, msg.sender, MAX_TEST_GROUPS, &msg.num_groups,
                       msg.groups, &msg.mess_type, &msg.endian_mismatch, 10, msg.body, &more);
        if (r != WOULD_BLOCK)
            break;
        sleep_ms(1);
    }
    CHECK_EQ(r, BUFFER_TOO_SHORT);
    CHECK_EQ(msg.mess_type, 10);
    CHECK(memcmp(msg.body, big, 10) == 0 && msg.body[10] == 0);
    /* Gone: the next message of c is a's next one. */
    CHECK_EQ(FL_multicast(m[0], AGREED_MESS, GROUP, 11, 1, "z"), 1);
    FRECV(m[2]);
    check_data(AGREED_MESS, A, 11, "z", 1);
    /* a and b take theirs. */
    FRECV(m[0]);
    check_data(AGREED_MESS, A, 9, big, sizeof big);
    FRECV(m[0]);
    check_data(AGREED_MESS, A, 10, big, sizeof big);
    FRECV(m[0]);
    check_data(AGREED_MESS, A, 11, "z", 1);
    FRECV(m[1]);
    check_data(AGREED_MESS, A, 10, big, sizeof big);
    FRECV(m[1]);
    check_data(AGREED_MESS, A, 11, "z", 1);

    /* SP_* works on its own mailbox meanwhile. */
    CHECK_EQ(SP_join(sp, "spg"), 0);
    EXPECT_MEMB(sp, &msg, "spg", CAUSED_BY_JOIN, 1);

    /* c leaves: its self-leave; a and b flush into a view of two. */
    CHECK_EQ(FL_leave(m[2], GROUP), 0);
    CHECK_EQ(FL_leave(m[2], GROUP), ILLEGAL_GROUP);
    for (;;) {
        FRECV(m[2]);
        if (Is_caused_leave_mess(msg.service_type) && !Is_reg_memb_mess(msg.service_type))
            break;
    }
    CHECK_NAME(msg.sender, GROUP);
    VIEWS(m, v, 2, 2);
    for (int i = 0; i < 2; i++) {
        CHECK(v[i].service_type & CAUSED_BY_LEAVE);
        CHECK_EQ(v[i].num_vs, 1);
        CHECK_NAME(v[i].vs0, C);
    }
    CHECK_EQ(FL_multicast(m[2], AGREED_MESS, GROUP, 1, 1, "x"), ILLEGAL_GROUP);

    /* b disconnects: a's view of one. */
    CHECK_EQ(FL_disconnect(m[1]), 0);
    CHECK_EQ(FL_disconnect(m[1]), ILLEGAL_SESSION);
    VIEWS(m, v, 1, 1);
    CHECK(v[0].service_type & CAUSED_BY_DISCONNECT);
    CHECK_NAME(v[0].vs0, B);
    CHECK_EQ(FL_more_msgs(m[0]), 0);
    CHECK_EQ(FL_leave(m[0], GROUP), 0);

    CHECK_EQ(FL_disconnect(m[0]), 0);
    CHECK_EQ(FL_disconnect(m[2]), 0);
    CHECK_EQ(SP_disconnect(sp), 0);
    printf("ok\n");
    return 0;
}
