/*
 * groups.c -- SP_join/SP_leave and membership messages: group-name rules
 * (ILLEGAL_GROUP), join/leave/disconnect memberships (service bits, group
 * name in sender, members in groups, mess_type = my index), self-leave,
 * sessions without the membership flag, SP_get_memb_info /
 * SP_get_vs_sets_info / SP_get_vs_set_members and their SP_scat_ forms
 * over a body received into deliberately tiny scatter elements, and
 * SP_equal_group_ids on real group ids.
 *
 *   usage: groups DAEMON
 */
#include "check.h"

#define ALICE "#alice#localhost"
#define BOB   "#bob#localhost"
#define CAROL "#carol#localhost"
#define DAVE  "#dave#localhost"

static const char *daemon_name;
static message msg; /* large: static, not on the stack */

/* A join/leave/disconnect body is 56 bytes: gid, num_vs_sets,
 * local_vs_set_offset, one set {count 1, name}. */
enum { SIMPLE_BODY = 56 };

static void name_rules(mailbox m)
{
    char name32[33], name31[32];
    const char *bad[] = {"", "a b", "#grp", "tab\tx", "\x01", "del\x7f", "caf\xc3\xa9", "quote\"",
                         "bang!"};

    memset(name32, 'n', 32);
    name32[32] = '\0';
    memset(name31, 'n', 31);
    name31[31] = '\0';

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (SP_join(m, bad[i]) != ILLEGAL_GROUP)
            FAIL("SP_join(\"%s\") should be ILLEGAL_GROUP", bad[i]);
        if (SP_leave(m, bad[i]) != ILLEGAL_GROUP)
            FAIL("SP_leave(\"%s\") should be ILLEGAL_GROUP", bad[i]);
    }
    CHECK_EQ(SP_join(m, name32), ILLEGAL_GROUP);
    CHECK_EQ(SP_leave(m, name32), ILLEGAL_GROUP);
    CHECK_EQ(SP_join(m, NULL), ILLEGAL_GROUP);
    CHECK_EQ(SP_leave(m, NULL), ILLEGAL_GROUP);
    /* Nothing was sent for any of them. */
    CHECK_QUIET(m, 200);

    /* 31 bytes and the edge characters are legal. */
    CHECK_EQ(SP_join(m, name31), 0);
    EXPECT_MEMB(m, &msg, name31, CAUSED_BY_JOIN, 1);
    CHECK_EQ(SP_leave(m, name31), 0);
    RECV(m, &msg);
    CHECK(Is_self_leave(msg.service_type));
    CHECK_NAME(msg.sender, name31);
    CHECK_EQ(SP_join(m, "$~"), 0);
    EXPECT_MEMB(m, &msg, "$~", CAUSED_BY_JOIN, 1);
    CHECK_EQ(SP_leave(m, "$~"), 0);
    RECV(m, &msg);
    CHECK(Is_self_leave(msg.service_type));
}

/* Checks a join/leave/disconnect body with the flat readers; returns its
 * group id. */
static group_id check_simple_body(const message *m, const char *changed)
{
    membership_info info;
    vs_set_info sets[2];
    unsigned int my_index = 99;
    char names[2][MAX_GROUP_NAME];

    CHECK_EQ(m->ret, SIMPLE_BODY);
    memset(&info, 0x55, sizeof info);
    CHECK_EQ(SP_get_memb_info(m->body, m->service_type, &info), 1);
    CHECK_NAME(info.changed_member, changed);
    CHECK_EQ(info.num_vs_sets, 1);
    CHECK_EQ(info.my_vs_set.num_members, 1);
    CHECK_EQ(info.my_vs_set.members_offset, 24);

    CHECK_EQ(SP_get_vs_sets_info(m->body, sets, 2, &my_index), 1);
    CHECK_EQ(my_index, 0);
    CHECK_EQ(sets[0].num_members, 1);
    CHECK_EQ(sets[0].members_offset, 24);
    CHECK_EQ(SP_get_vs_sets_info(m->body, sets, 0, &my_index), BUFFER_TOO_SHORT);

    CHECK_EQ(SP_get_vs_set_members(m->body, &sets[0], names, 2), 1);
    CHECK_NAME(names[0], changed);
    CHECK_EQ(SP_get_vs_set_members(m->body, &sets[0], names, 0), BUFFER_TOO_SHORT);

    /* Not a membership service type. */
    CHECK_EQ(SP_get_memb_info(m->body, AGREED_MESS, &info), ILLEGAL_MESSAGE);
    CHECK_EQ(SP_get_memb_info(m->body, 0, &info), ILLEGAL_MESSAGE);
    CHECK_EQ(SP_get_memb_info(m->body, REG_MEMB_MESS | CAUSED_BY_JOIN | REJECT_MESS, &info),
             ILLEGAL_MESSAGE);
    return info.gid;
}

/* Receives a membership message through SP_scat_receive into elements of
 * 3, 5, 7, 11, 13 and 17 bytes (56 in all), so that every field of the
 * body straddles an element boundary, and reads it with the SP_scat_
 * readers. */
static group_id scat_membership(mailbox m, const char *group, int members, int my_index,
                                const char *changed)
{
    static const size_t sizes[] = {3, 5, 7, 11, 13, 17};
    char store[SIMPLE_BODY + 8];
    scatter scat;
    size_t at = 0;
    service st = 0;
    char sender[MAX_GROUP_NAME];
    char groups[8][MAX_GROUP_NAME];
    int num_groups, endian = -1, ret;
    int16 mess_type = -5;
    membership_info info;
    vs_set_info sets[1];
    unsigned int idx = 99;
    char names[1][MAX_GROUP_NAME];

    memset(&scat, 0, sizeof scat);
    memset(store, '?', sizeof store);
    scat.num_elements = sizeof sizes / sizeof sizes[0];
    for (size_t i = 0; i < scat.num_elements; i++) {
        scat.elements[i].buf = store + at;
        scat.elements[i].len = sizes[i];
        at += sizes[i];
    }
    CHECK_EQ(at, SIMPLE_BODY);
    CHECK(wait_bytes(m, 1, 10000) > 0);
    ret = SP_scat_receive(m, &st, sender, 8, &num_groups, groups, &mess_type, &endian, &scat);
    CHECK_EQ(ret, SIMPLE_BODY);
    CHECK(Is_reg_memb_mess(st));
    CHECK_NAME(sender, group);
    CHECK_EQ(num_groups, members);
    CHECK_EQ(mess_type, my_index);
    CHECK_EQ(endian, 0);
    CHECK(store[SIMPLE_BODY] == '?'); /* nothing written past the elements */

    memset(&info, 0x55, sizeof info);
    CHECK_EQ(SP_scat_get_memb_info(&scat, st, &info), 1);
    CHECK_NAME(info.changed_member, changed);
    CHECK_EQ(info.num_vs_sets, 1);
    CHECK_EQ(info.my_vs_set.num_members, 1);
    CHECK_EQ(info.my_vs_set.members_offset, 24);
    CHECK_EQ(SP_scat_get_memb_info(&scat, RELIABLE_MESS, &info), ILLEGAL_MESSAGE);

    CHECK_EQ(SP_scat_get_vs_sets_info(&scat, sets, 1, &idx), 1);
    CHECK_EQ(idx, 0);
    CHECK_EQ(sets[0].num_members, 1);
    CHECK_EQ(sets[0].members_offset, 24);
    CHECK_EQ(SP_scat_get_vs_sets_info(&scat, sets, 0, &idx), BUFFER_TOO_SHORT);

    CHECK_EQ(SP_scat_get_vs_set_members(&scat, &sets[0], names, 1), 1);
    CHECK_NAME(names[0], changed);
    CHECK_EQ(SP_scat_get_vs_set_members(&scat, &sets[0], names, 0), BUFFER_TOO_SHORT);

    /* The same reads from the flattened body agree. */
    {
        membership_info flat;
        CHECK_EQ(SP_get_memb_info(store, st, &flat), 1);
        CHECK(SP_equal_group_ids(flat.gid, info.gid));
        CHECK(memcmp(flat.changed_member, info.changed_member, MAX_GROUP_NAME) == 0);
    }
    return info.gid;
}

static void self_leave_at(mailbox m, const char *group, const char *file, int line)
{
    recv_at(m, &msg, file, line);
    if (!Is_self_leave(msg.service_type) || msg.service_type != CAUSED_BY_LEAVE)
        FAIL_AT(file, line, "expected a self-leave, got service 0x%x", msg.service_type);
    if (strncmp(msg.sender, group, MAX_GROUP_NAME) != 0)
        FAIL_AT(file, line, "self-leave of \"%.32s\", expected %s", msg.sender, group);
    if (msg.num_groups != 0 || msg.ret != 0 || msg.mess_type != -1 || msg.endian_mismatch != 0)
        FAIL_AT(file, line, "self-leave: num_groups %d, length %d, mess_type %d, endian %d",
                msg.num_groups, msg.ret, msg.mess_type, msg.endian_mismatch);
}
#define SELF_LEAVE(m, group) self_leave_at((m), (group), __FILE__, __LINE__)

static void memberships(void)
{
    mailbox a, b, c, d;
    char pg[MAX_GROUP_NAME];
    group_id g1, g2a, g2b, g3, g;

    CONNECT(daemon_name, "alice", 1, &a, pg);
    CONNECT(daemon_name, "bob", 1, &b, pg);
    CONNECT(daemon_name, "carol", 0, &c, pg); /* no membership messages */
    name_rules(a);

    /* Alice creates the group; the whole message is 48 + 32 + 56 bytes. */
    CHECK_EQ(SP_join(a, "grp"), 0);
    CHECK_EQ(wait_bytes(a, 136, 10000), 136);
    EXPECT_MEMB(a, &msg, "grp", CAUSED_BY_JOIN, 1);
    CHECK_EQ(msg.service_type, REG_MEMB_MESS | CAUSED_BY_JOIN);
    CHECK_NAME(msg.groups[0], ALICE);
    CHECK_EQ(msg.mess_type, 0);
    CHECK_EQ(msg.endian_mismatch, 0);
    g1 = check_simple_body(&msg, ALICE);
    CHECK_EQ(g1.id[2], 1); /* a new group's index */

    /* Bob joins: both get the 2-member list, in name order; each one's
     * mess_type is its own index. */
    CHECK_EQ(SP_join(b, "grp"), 0);
    EXPECT_MEMB(a, &msg, "grp", CAUSED_BY_JOIN, 2);
    CHECK_NAME(msg.groups[0], ALICE);
    CHECK_NAME(msg.groups[1], BOB);
    CHECK_EQ(msg.mess_type, 0);
    g2a = check_simple_body(&msg, BOB);
    g2b = scat_membership(b, "grp", 2, 1, BOB);
    CHECK(SP_equal_group_ids(g2a, g2b));
    CHECK(!SP_equal_group_ids(g1, g2a));
    CHECK_EQ(g2a.id[2], 2);
    CHECK_EQ(g2a.id[0], g1.id[0]);
    CHECK_EQ(g2a.id[1], g1.id[1]);

    /* Carol joins without the membership flag: the others see her, she
     * sees no membership message; her first message is data. */
    CHECK_EQ(SP_join(c, "grp"), 0);
    EXPECT_MEMB(a, &msg, "grp", CAUSED_BY_JOIN, 3);
    CHECK_NAME(msg.groups[2], CAROL);
    g3 = check_simple_body(&msg, CAROL);
    CHECK_EQ(g3.id[2], 3);
    EXPECT_MEMB(b, &msg, "grp", CAUSED_BY_JOIN, 3);
    CHECK_EQ(msg.mess_type, 1);
    CHECK_EQ(SP_multicast(a, AGREED_MESS, "grp", 7, 5, "hello"), 5);
    RECV(c, &msg);
    CHECK_EQ(msg.service_type, AGREED_MESS);
    CHECK_NAME(msg.sender, ALICE);
    CHECK_EQ(msg.ret, 5);
    CHECK_EQ(msg.mess_type, 7);
    RECV(a, &msg);
    CHECK_EQ(msg.service_type, AGREED_MESS);
    RECV(b, &msg);
    CHECK_EQ(msg.service_type, AGREED_MESS);

    /* Joining again and leaving a group one is not in: silent. */
    CHECK_EQ(SP_join(a, "grp"), 0);
    CHECK_EQ(SP_leave(a, "never-joined"), 0);
    CHECK_QUIET(a, 200);

    /* Bob leaves: he gets the self-leave, the others CAUSED_BY_LEAVE
     * with him as the changed member. */
    CHECK_EQ(SP_leave(b, "grp"), 0);
    SELF_LEAVE(b, "grp");
    EXPECT_MEMB(a, &msg, "grp", CAUSED_BY_LEAVE, 2);
    CHECK_EQ(msg.service_type, REG_MEMB_MESS | CAUSED_BY_LEAVE);
    CHECK_NAME(msg.groups[0], ALICE);
    CHECK_NAME(msg.groups[1], CAROL);
    g = check_simple_body(&msg, BOB);
    CHECK_EQ(g.id[2], 4);

    /* Carol leaves: no self-leave for her (no membership flag). */
    CHECK_EQ(SP_leave(c, "grp"), 0);
    EXPECT_MEMB(a, &msg, "grp", CAUSED_BY_LEAVE, 1);
    check_simple_body(&msg, CAROL);
    CHECK_QUIET(c, 200);

    /* Bob comes back and disconnects: CAUSED_BY_DISCONNECT. */
    CHECK_EQ(SP_join(b, "grp"), 0);
    EXPECT_MEMB(a, &msg, "grp", CAUSED_BY_JOIN, 2);
    EXPECT_MEMB(b, &msg, "grp", CAUSED_BY_JOIN, 2);
    CHECK_EQ(SP_disconnect(b), 0);
    EXPECT_MEMB(a, &msg, "grp", CAUSED_BY_DISCONNECT, 1);
    CHECK_EQ(msg.service_type, REG_MEMB_MESS | CAUSED_BY_DISCONNECT);
    CHECK(Is_caused_disconnect_mess(msg.service_type));
    CHECK(!Is_self_leave(msg.service_type));
    CHECK_NAME(msg.groups[0], ALICE);
    check_simple_body(&msg, BOB);

    /* SP_kill (no goodbye) looks the same to the others. */
    CONNECT(daemon_name, "dave", 1, &d, pg);
    CHECK_EQ(SP_join(d, "grp"), 0);
    EXPECT_MEMB(a, &msg, "grp", CAUSED_BY_JOIN, 2);
    CHECK_NAME(msg.groups[1], DAVE);
    EXPECT_MEMB(d, &msg, "grp", CAUSED_BY_JOIN, 2);
    CHECK_EQ(msg.mess_type, 1);
    SP_kill(d);
    EXPECT_MEMB(a, &msg, "grp", CAUSED_BY_DISCONNECT, 1);
    check_simple_body(&msg, DAVE);

    /* Several groups at once: memberships name their group. */
    CHECK_EQ(SP_join(a, "other"), 0);
    EXPECT_MEMB(a, &msg, "other", CAUSED_BY_JOIN, 1);
    CHECK_EQ(SP_leave(a, "other"), 0);
    SELF_LEAVE(a, "other");

    /* The last member leaves. */
    CHECK_EQ(SP_leave(a, "grp"), 0);
    SELF_LEAVE(a, "grp");
    CHECK_QUIET(a, 200);

    CHECK_EQ(SP_disconnect(a), 0);
    CHECK_EQ(SP_disconnect(c), 0);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s DAEMON\n", argv[0]);
        return 2;
    }
    daemon_name = argv[1];
    watchdog(40);
    memberships();
    printf("groups: ok\n");
    return 0;
}
