/*
 * multicast.c -- the four sending calls and what arrives: every service
 * type, ILLEGAL_SERVICE, MESSAGE_TOO_LONG at the interoperable limit
 * (body + 32 * groups <= 143151), the largest message arriving intact,
 * SELF_DISCARD, mess_type round trips (negative values), endian_mismatch,
 * SP_scat_multicast with several elements, SP_multigroup_(scat_)multicast
 * (one copy per receiver, with the full destination list), a point-to-
 * point message to a private group, SP_scat_receive into tiny elements,
 * and bad arguments.
 *
 *   usage: multicast DAEMON
 */
#include "check.h"

#define SENDER   "#snd#localhost"
#define RECEIVER "#rcv#localhost"
#define OTHER    "#oth#localhost"

static message msg;
static mailbox s, r, o; /* s: sender (in "g1"), r: in g1 and g2, o: in g2 */

static void expect_data_at(mailbox m, service st, const char *sender, int16 mess_type, int len,
                           const char *body, const char *file, int line)
{
    recv_at(m, &msg, file, line);
    if (msg.service_type != st)
        FAIL_AT(file, line, "service 0x%x, expected 0x%x", msg.service_type, st);
    if (strncmp(msg.sender, sender, MAX_GROUP_NAME) != 0)
        FAIL_AT(file, line, "sender \"%.32s\", expected %s", msg.sender, sender);
    if (msg.mess_type != mess_type)
        FAIL_AT(file, line, "mess_type %d, expected %d", msg.mess_type, mess_type);
    if (msg.ret != len)
        FAIL_AT(file, line, "length %d, expected %d", msg.ret, len);
    if (msg.endian_mismatch != 0)
        FAIL_AT(file, line, "endian_mismatch %d", msg.endian_mismatch);
    if (len > 0 && memcmp(msg.body, body, (size_t)len) != 0)
        FAIL_AT(file, line, "body differs");
}
#define EXPECT_DATA(m, st, sender, mt, len, body) \
    expect_data_at((m), (st), (sender), (mt), (len), (body), __FILE__, __LINE__)

static void setup(const char *daemon_name)
{
    char pg[MAX_GROUP_NAME];
    CONNECT(daemon_name, "snd", 1, &s, pg);
    CONNECT(daemon_name, "rcv", 1, &r, pg);
    CONNECT(daemon_name, "oth", 1, &o, pg);
    CHECK_EQ(SP_join(s, "g1"), 0);
    EXPECT_MEMB(s, &msg, "g1", CAUSED_BY_JOIN, 1);
    CHECK_EQ(SP_join(r, "g1"), 0);
    EXPECT_MEMB(s, &msg, "g1", CAUSED_BY_JOIN, 2);
    EXPECT_MEMB(r, &msg, "g1", CAUSED_BY_JOIN, 2);
    CHECK_EQ(SP_join(r, "g2"), 0);
    EXPECT_MEMB(r, &msg, "g2", CAUSED_BY_JOIN, 1);
    CHECK_EQ(SP_join(o, "g2"), 0);
    EXPECT_MEMB(r, &msg, "g2", CAUSED_BY_JOIN, 2);
    EXPECT_MEMB(o, &msg, "g2", CAUSED_BY_JOIN, 2);
}

static void service_types(void)
{
    const service types[] = {UNRELIABLE_MESS, RELIABLE_MESS, FIFO_MESS,
                             CAUSAL_MESS,     AGREED_MESS,   SAFE_MESS};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        char body[32];
        int len = snprintf(body, sizeof body, "type %zu", i);
        CHECK_EQ(SP_multicast(s, types[i], "g1", (int16)i, len, body), len);
        EXPECT_DATA(r, types[i], SENDER, (int16)i, len, body);
        CHECK(Is_regular_mess(msg.service_type));
        CHECK(!Is_membership_mess(msg.service_type));
        CHECK_EQ(msg.num_groups, 1);
        CHECK_NAME(msg.groups[0], "g1");
        /* The sender is in g1 too: it gets its own message. */
        EXPECT_DATA(s, types[i], SENDER, (int16)i, len, body);
    }

    CHECK_EQ(SP_multicast(s, 0, "g1", 0, 1, "x"), ILLEGAL_SERVICE);
    CHECK_EQ(SP_multicast(s, 0x00010000 /* JOIN_MESS */, "g1", 0, 1, "x"), ILLEGAL_SERVICE);
    CHECK_EQ(SP_multicast(s, 0x00020000 /* LEAVE_MESS */, "g1", 0, 1, "x"), ILLEGAL_SERVICE);
    CHECK_EQ(SP_multicast(s, 0x00040000 /* KILL_MESS */, "g1", 0, 1, "x"), ILLEGAL_SERVICE);
    CHECK_EQ(SP_multicast(s, AGREED_MESS | REJECT_MESS, "g1", 0, 1, "x"), ILLEGAL_SERVICE);
    CHECK_EQ(SP_multicast(s, SELF_DISCARD, "g1", 0, 1, "x"), ILLEGAL_SERVICE);
    CHECK_EQ(SP_multicast(s, REG_MEMB_MESS | CAUSED_BY_JOIN, "g1", 0, 1, "x"), ILLEGAL_SERVICE);
    {
        scatter scat;
        char groups[1][MAX_GROUP_NAME] = {"g1"};
        memset(&scat, 0, sizeof scat);
        CHECK_EQ(SP_scat_multicast(s, 0, "g1", 0, &scat), ILLEGAL_SERVICE);
        CHECK_EQ(SP_multigroup_multicast(s, AGREED_MESS | REJECT_MESS, 1,
                                         (const char(*)[MAX_GROUP_NAME])groups, 0, 1, "x"),
                 ILLEGAL_SERVICE);
        CHECK_EQ(SP_multigroup_scat_multicast(s, 0x00010000, 1,
                                              (const char(*)[MAX_GROUP_NAME])groups, 0, &scat),
                 ILLEGAL_SERVICE);
    }
    /* None of them was sent. */
    CHECK_QUIET(r, 200);
}

static void mess_types(void)
{
    const int16 values[] = {0, 1, -1, -2, 255, 256, -256, 32767, -32768, 0x1234};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        CHECK_EQ(SP_multicast(s, FIFO_MESS, RECEIVER, values[i], 2, "mt"), 2);
        EXPECT_DATA(r, FIFO_MESS, SENDER, values[i], 2, "mt");
        CHECK_NAME(msg.groups[0], RECEIVER); /* point to point */
    }
}

static void self_discard(void)
{
    CHECK_EQ(SP_multicast(s, AGREED_MESS | SELF_DISCARD, "g1", 3, 4, "mine"), 4);
    EXPECT_DATA(r, AGREED_MESS | SELF_DISCARD, SENDER, 3, 4, "mine");
    CHECK(Is_self_discard(msg.service_type));
    /* The sender's next message is the one after it. */
    CHECK_EQ(SP_multicast(s, AGREED_MESS, "g1", 4, 4, "next"), 4);
    EXPECT_DATA(s, AGREED_MESS, SENDER, 4, 4, "next");
    EXPECT_DATA(r, AGREED_MESS, SENDER, 4, 4, "next");
}

static void sizes(void)
{
    enum { LIMIT = 143151 };
    char *big = malloc(LIMIT + 100);
    CHECK(big != NULL);
    for (int i = 0; i < LIMIT + 100; i++)
        big[i] = (char)(i * 7 + i / 251);

    /* body + 32 * groups must stay <= 143151. */
    CHECK_EQ(SP_multicast(s, AGREED_MESS, RECEIVER, 0, LIMIT - 32 + 1, big), MESSAGE_TOO_LONG);
    CHECK_EQ(SP_multicast(s, AGREED_MESS, RECEIVER, 0, 144000, big), MESSAGE_TOO_LONG);
    {
        char groups[2][MAX_GROUP_NAME] = {RECEIVER, "g2"};
        CHECK_EQ(SP_multigroup_multicast(s, AGREED_MESS, 2, (const char(*)[MAX_GROUP_NAME])groups,
                                         0, LIMIT - 64 + 1, big),
                 MESSAGE_TOO_LONG);
    }
    {
        /* The same through a scatter of three parts. */
        scatter scat;
        memset(&scat, 0, sizeof scat);
        scat.num_elements = 3;
        scat.elements[0].buf = big;
        scat.elements[0].len = 100000;
        scat.elements[1].buf = big + 100000;
        scat.elements[1].len = 40000;
        scat.elements[2].buf = big + 140000;
        scat.elements[2].len = LIMIT - 32 + 1 - 140000;
        CHECK_EQ(SP_scat_multicast(s, AGREED_MESS, RECEIVER, 0, &scat), MESSAGE_TOO_LONG);
        scat.elements[2].len--;
        CHECK_EQ(SP_scat_multicast(s, AGREED_MESS, RECEIVER, 9, &scat), LIMIT - 32);
        EXPECT_DATA(r, AGREED_MESS, SENDER, 9, LIMIT - 32, big);
    }
    CHECK_QUIET(r, 100);

    /* The largest body to one group arrives intact. */
    CHECK_EQ(SP_multicast(s, SAFE_MESS, RECEIVER, -9, LIMIT - 32, big + 1), LIMIT - 32);
    EXPECT_DATA(r, SAFE_MESS, SENDER, -9, LIMIT - 32, big + 1);
    CHECK_EQ(msg.ret, 143119);

    /* Empty bodies are fine, with or without a buffer. */
    CHECK_EQ(SP_multicast(s, RELIABLE_MESS, RECEIVER, 1, 0, NULL), 0);
    EXPECT_DATA(r, RELIABLE_MESS, SENDER, 1, 0, "");
    CHECK_EQ(SP_multicast(s, RELIABLE_MESS, RECEIVER, 1, 0, "ignored"), 0);
    EXPECT_DATA(r, RELIABLE_MESS, SENDER, 1, 0, "");

    /* Bad bodies: an error code, nothing sent. */
    CHECK(SP_multicast(s, RELIABLE_MESS, RECEIVER, 1, -1, "x") < 0);
    CHECK(SP_multicast(s, RELIABLE_MESS, RECEIVER, 1, 5, NULL) < 0);
    CHECK(SP_multicast(s, RELIABLE_MESS, NULL, 1, 1, "x") < 0);
    CHECK(SP_scat_multicast(s, RELIABLE_MESS, RECEIVER, 1, NULL) < 0);
    CHECK_QUIET(r, 100);
    free(big);
}

static void scatters(void)
{
    /* Several elements of odd sizes (one empty) make one body. */
    const char *parts[] = {"He", "llo", "", ", sca", "tte", "red ", "world!"};
    const char *whole = "Hello, scattered world!";
    scatter scat;
    memset(&scat, 0, sizeof scat);
    scat.num_elements = sizeof parts / sizeof parts[0];
    for (size_t i = 0; i < scat.num_elements; i++) {
        scat.elements[i].buf = (char *)parts[i];
        scat.elements[i].len = strlen(parts[i]);
    }
    CHECK_EQ(SP_scat_multicast(s, CAUSAL_MESS, "g1", 11, &scat), (int)strlen(whole));
    EXPECT_DATA(r, CAUSAL_MESS, SENDER, 11, (int)strlen(whole), whole);
    EXPECT_DATA(s, CAUSAL_MESS, SENDER, 11, (int)strlen(whole), whole);

    /* A scatter with no elements sends an empty body. */
    scat.num_elements = 0;
    CHECK_EQ(SP_scat_multicast(s, FIFO_MESS, RECEIVER, 12, &scat), 0);
    EXPECT_DATA(r, FIFO_MESS, SENDER, 12, 0, "");

    /* An element with no buffer is an error. */
    scat.num_elements = 2;
    scat.elements[0].buf = "ok";
    scat.elements[0].len = 2;
    scat.elements[1].buf = NULL;
    scat.elements[1].len = 3;
    CHECK(SP_scat_multicast(s, FIFO_MESS, RECEIVER, 12, &scat) < 0);

    /* Too many elements is an error. */
    scat.num_elements = MAX_CLIENT_SCATTER_ELEMENTS + 1;
    CHECK(SP_scat_multicast(s, FIFO_MESS, RECEIVER, 12, &scat) < 0);
    CHECK_QUIET(r, 100);
}

/* Receiving into a scatter of tiny elements: 1, 2, 3, 5, 7, 11 ... bytes. */
static void scat_receive(void)
{
    enum { LEN = 600 };
    static const size_t small[] = {1, 2, 3, 5, 7, 11, 13, 17, 19, 23};
    char body[LEN], store[LEN + 16];
    scatter scat;
    size_t at = 0, i = 0;
    service st = 0;
    char sender[MAX_GROUP_NAME], groups[4][MAX_GROUP_NAME];
    int ng, endian, ret;
    int16 mt;

    for (int k = 0; k < LEN; k++)
        body[k] = (char)(k * 13 + 1);
    CHECK_EQ(SP_multicast(s, AGREED_MESS, RECEIVER, -3, LEN, body), LEN);

    /* Cycle through the small sizes, the last element taking what is left
     * of LEN plus 16 spare bytes. */
    memset(&scat, 0, sizeof scat);
    memset(store, '#', sizeof store);
    while (at + small[i % 10] < LEN) {
        scat.elements[scat.num_elements].buf = store + at;
        scat.elements[scat.num_elements].len = small[i % 10];
        at += small[i % 10];
        scat.num_elements++;
        i++;
    }
    scat.elements[scat.num_elements].buf = store + at;
    scat.elements[scat.num_elements].len = sizeof store - at;
    scat.num_elements++;
    CHECK(scat.num_elements <= MAX_CLIENT_SCATTER_ELEMENTS);

    CHECK(wait_bytes(r, 1, 10000) > 0);
    ret = SP_scat_receive(r, &st, sender, 4, &ng, groups, &mt, &endian, &scat);
    CHECK_EQ(ret, LEN);
    CHECK_EQ(st, AGREED_MESS);
    CHECK_NAME(sender, SENDER);
    CHECK_EQ(ng, 1);
    CHECK_NAME(groups[0], RECEIVER);
    CHECK_EQ(mt, -3);
    CHECK_EQ(endian, 0);
    CHECK(memcmp(store, body, LEN) == 0);
    for (size_t k = LEN; k < sizeof store; k++)
        CHECK(store[k] == '#');

    /* A scattered send read back scattered, elements of different sizes
     * on each side. */
    {
        scatter out;
        memset(&out, 0, sizeof out);
        out.num_elements = 3;
        out.elements[0].buf = body;
        out.elements[0].len = 4;
        out.elements[1].buf = body + 4;
        out.elements[1].len = 500;
        out.elements[2].buf = body + 504;
        out.elements[2].len = LEN - 504;
        CHECK_EQ(SP_scat_multicast(s, SAFE_MESS, RECEIVER, 5, &out), LEN);
        memset(store, 0, sizeof store);
        st = 0;
        CHECK(wait_bytes(r, 1, 10000) > 0);
        ret = SP_scat_receive(r, &st, sender, 4, &ng, groups, &mt, &endian, &scat);
        CHECK_EQ(ret, LEN);
        CHECK_EQ(st, SAFE_MESS);
        CHECK(memcmp(store, body, LEN) == 0);
    }
}

static void multigroup(void)
{
    /* r is reachable through three destinations (g1, g2, its private
     * group): it gets one copy. o (g2) and s (g1) one each. */
    char groups[4][MAX_GROUP_NAME];
    const char *body = "to many";
    memset(groups, 0, sizeof groups);
    strcpy(groups[0], "g1");
    strcpy(groups[1], "g2");
    strcpy(groups[2], RECEIVER);
    strcpy(groups[3], "nobody-here");
    CHECK_EQ(SP_multigroup_multicast(s, AGREED_MESS, 4, (const char(*)[MAX_GROUP_NAME])groups, 21,
                                     7, body),
             7);
    for (int who = 0; who < 3; who++) {
        mailbox m = who == 0 ? r : who == 1 ? o : s;
        EXPECT_DATA(m, AGREED_MESS, SENDER, 21, 7, body);
        CHECK_EQ(msg.num_groups, 4);
        for (int g = 0; g < 4; g++)
            CHECK_NAME(msg.groups[g], groups[g]);
    }
    CHECK_QUIET(r, 200);
    CHECK_QUIET(o, 1);
    CHECK_QUIET(s, 1);

    /* The scatter form; SELF_DISCARD keeps s out. */
    {
        scatter scat;
        memset(&scat, 0, sizeof scat);
        scat.num_elements = 2;
        scat.elements[0].buf = "scat";
        scat.elements[0].len = 4;
        scat.elements[1].buf = "tered";
        scat.elements[1].len = 5;
        CHECK_EQ(SP_multigroup_scat_multicast(s, SAFE_MESS | SELF_DISCARD, 3,
                                              (const char(*)[MAX_GROUP_NAME])groups, -21, &scat),
                 9);
        EXPECT_DATA(r, SAFE_MESS | SELF_DISCARD, SENDER, -21, 9, "scattered");
        CHECK_EQ(msg.num_groups, 3);
        CHECK_NAME(msg.groups[2], RECEIVER);
        EXPECT_DATA(o, SAFE_MESS | SELF_DISCARD, SENDER, -21, 9, "scattered");
        CHECK_QUIET(s, 200);
        CHECK_QUIET(r, 1);
    }

    /* 100 destinations (the most a message may have): delivered, with the
     * whole list; 101 is refused. */
    {
        static char many[101][MAX_GROUP_NAME];
        memset(many, 0, sizeof many);
        for (int g = 0; g < 101; g++)
            snprintf(many[g], MAX_GROUP_NAME, "nobody%d", g);
        strcpy(many[99], RECEIVER);
        CHECK_EQ(SP_multigroup_multicast(s, FIFO_MESS, 100, (const char(*)[MAX_GROUP_NAME])many,
                                         100, 4, "many"),
                 4);
        EXPECT_DATA(r, FIFO_MESS, SENDER, 100, 4, "many");
        CHECK_EQ(msg.num_groups, 100);
        CHECK_NAME(msg.groups[0], "nobody0");
        CHECK_NAME(msg.groups[99], RECEIVER);
        CHECK(SP_multigroup_multicast(s, FIFO_MESS, 101, (const char(*)[MAX_GROUP_NAME])many, 0,
                                      4, "many") < 0);
    }

    /* Zero groups: accepted, goes nowhere. */
    CHECK_EQ(SP_multigroup_multicast(s, AGREED_MESS, 0, (const char(*)[MAX_GROUP_NAME])groups, 0,
                                     3, "abc"),
             3);
    CHECK(SP_multigroup_multicast(s, AGREED_MESS, -1, (const char(*)[MAX_GROUP_NAME])groups, 0, 3,
                                  "abc") < 0);
    CHECK(SP_multigroup_multicast(s, AGREED_MESS, 2, NULL, 0, 3, "abc") < 0);
    CHECK_QUIET(r, 200);
    CHECK_QUIET(o, 1);
}

/* A long group name is cut to 31 bytes by the single-group calls. */
static void long_names(void)
{
    char name40[41];
    memset(name40, 'L', 40);
    name40[40] = '\0';
    CHECK_EQ(SP_join(r, "LLLLLLLLLLLLLLLLLLLLLLLLLLLLLLL"), 0); /* 31 'L' */
    EXPECT_MEMB(r, &msg, "LLLLLLLLLLLLLLLLLLLLLLLLLLLLLLL", CAUSED_BY_JOIN, 1);
    CHECK_EQ(SP_multicast(s, AGREED_MESS, name40, 2, 4, "long"), 4);
    EXPECT_DATA(r, AGREED_MESS, SENDER, 2, 4, "long");
    CHECK_NAME(msg.groups[0], "LLLLLLLLLLLLLLLLLLLLLLLLLLLLLLL");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s DAEMON\n", argv[0]);
        return 2;
    }
    watchdog(50);
    setup(argv[1]);
    service_types();
    mess_types();
    self_discard();
    sizes();
    scatters();
    scat_receive();
    multigroup();
    long_names();
    CHECK_EQ(SP_disconnect(s), 0);
    CHECK_EQ(SP_disconnect(r), 0);
    CHECK_EQ(SP_disconnect(o), 0);
    printf("multicast: ok\n");
    return 0;
}
