/*
 * foreign_endian.c -- messages from a client of the other byte order
 * (as the Java client, which writes everything big-endian with the
 * marker clear), seen through libspread: endian_mismatch = 1, mess_type
 * still decoded (negative values too), body untouched; the hint's own
 * marker decides, not the header's; a big-endian JOIN's membership is
 * ordinary; and name fields with bytes after the NUL compare equal up to
 * the NUL. The foreign client speaks raw bytes over TCP.
 *
 *   usage: foreign_endian TCP_NAME
 */
#include "check.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <sys/socket.h>

#define LOCAL "#local#localhost"
#define RAW   "#raw#localhost"

static message msg;

static void write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        CHECK(n > 0);
        p += n;
        len -= (size_t)n;
    }
}

static void read_all(int fd, void *buf, size_t len)
{
    char *p = buf;
    while (len > 0) {
        ssize_t n = read(fd, p, len);
        CHECK(n > 0);
        p += n;
        len -= (size_t)n;
    }
}

/* The 5.0.1 handshake by hand (client-protocol.md §3); returns the socket. */
static int raw_connect(int port, const char *name)
{
    struct sockaddr_in a;
    unsigned char hello[16], len, accept_head[5];
    char list[256], choice[90], group[64];
    size_t n = strlen(name);
    int s = socket(AF_INET, SOCK_STREAM, 0);

    CHECK(s >= 0);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK_EQ(connect(s, (struct sockaddr *)&a, sizeof a), 0);
    hello[0] = 5;
    hello[1] = 0;
    hello[2] = 1;
    hello[3] = 1; /* membership messages */
    hello[4] = (unsigned char)n;
    memcpy(hello + 5, name, n);
    write_all(s, hello, 5 + n);
    read_all(s, &len, 1);
    CHECK(len > 0 && len < 128);
    read_all(s, list, len);
    memset(choice, 0, sizeof choice);
    strcpy(choice, "NULL");
    write_all(s, choice, sizeof choice);
    read_all(s, accept_head, 5);
    CHECK_EQ(accept_head[0], 1);
    CHECK(accept_head[4] < sizeof group);
    read_all(s, group, accept_head[4]);
    group[accept_head[4]] = '\0';
    CHECK(strcmp(group, RAW) == 0);
    return s;
}

static void put32(unsigned char *p, uint32_t v, int big)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(big ? v >> (24 - 8 * i) : v >> (8 * i));
}

/* One frame: header (type/num_groups/data_len in the order `big_head`,
 * hint in the order `big_hint`, markers accordingly), names, body. */
static void raw_send(int s, uint32_t type, int big_head, int big_hint, int16 mess_type,
                     int num_groups, const char (*groups)[MAX_GROUP_NAME], const char *body,
                     int len)
{
    unsigned char frame[48 + 4 * MAX_GROUP_NAME + 256];
    uint32_t hint = ((uint32_t)(uint16_t)mess_type << 8) & 0x00ffff00u;
    CHECK(num_groups <= 4 && len <= 256);
    memset(frame, 0, sizeof frame);
    put32(frame, type | (big_head ? 0 : 0x80000080u), big_head);
    memcpy(frame + 4, RAW, sizeof RAW);
    put32(frame + 36, (uint32_t)num_groups, big_head);
    put32(frame + 40, hint | (big_hint ? 0 : 0x80000080u), big_hint);
    put32(frame + 44, (uint32_t)len, big_head);
    memcpy(frame + 48, groups, (size_t)num_groups * MAX_GROUP_NAME);
    memcpy(frame + 48 + num_groups * MAX_GROUP_NAME, body, (size_t)len);
    write_all(s, frame, 48 + (size_t)num_groups * MAX_GROUP_NAME + (size_t)len);
}

static void expect_from_raw(mailbox m, service st, int16 mess_type, int endian, const char *body,
                            int len)
{
    RECV(m, &msg);
    CHECK_EQ(msg.service_type, st);
    CHECK_NAME(msg.sender, RAW);
    CHECK_EQ(msg.mess_type, mess_type);
    CHECK_EQ(msg.endian_mismatch, endian);
    CHECK_EQ(msg.ret, len);
    CHECK(memcmp(msg.body, body, (size_t)len) == 0);
}

int main(int argc, char **argv)
{
    mailbox m;
    char pg[MAX_GROUP_NAME];
    char to_local[1][MAX_GROUP_NAME], to_group[2][MAX_GROUP_NAME];
    int raw;

    if (argc < 2) {
        fprintf(stderr, "usage: %s TCP_NAME\n", argv[0]);
        return 2;
    }
    watchdog(30);
    CONNECT(argv[1], "local", 1, &m, pg);
    raw = raw_connect(atoi(argv[1]), "raw");

    memset(to_local, 0, sizeof to_local);
    strcpy(to_local[0], LOCAL);

    /* Big-endian header and hint, as the Java client writes them. */
    raw_send(raw, AGREED_MESS, 1, 1, -2, 1, (const char(*)[MAX_GROUP_NAME])to_local, "be", 2);
    expect_from_raw(m, AGREED_MESS, -2, 1, "be", 2);
    CHECK_EQ(msg.num_groups, 1);
    CHECK_NAME(msg.groups[0], LOCAL);
    raw_send(raw, SAFE_MESS, 1, 1, 0x1234, 1, (const char(*)[MAX_GROUP_NAME])to_local,
             "\x01\x02\x03\x04", 4);
    expect_from_raw(m, SAFE_MESS, 0x1234, 1, "\x01\x02\x03\x04", 4);
    raw_send(raw, FIFO_MESS, 1, 1, -32768, 1, (const char(*)[MAX_GROUP_NAME])to_local, "", 0);
    expect_from_raw(m, FIFO_MESS, -32768, 1, "", 0);

    /* The hint's marker alone decides endian_mismatch. */
    raw_send(raw, RELIABLE_MESS, 0, 1, 77, 1, (const char(*)[MAX_GROUP_NAME])to_local, "lb", 2);
    expect_from_raw(m, RELIABLE_MESS, 77, 1, "lb", 2);
    raw_send(raw, RELIABLE_MESS, 1, 0, -77, 1, (const char(*)[MAX_GROUP_NAME])to_local, "bl", 2);
    expect_from_raw(m, RELIABLE_MESS, -77, 0, "bl", 2);
    raw_send(raw, RELIABLE_MESS, 0, 0, 5, 1, (const char(*)[MAX_GROUP_NAME])to_local, "ll", 2);
    expect_from_raw(m, RELIABLE_MESS, 5, 0, "ll", 2);

    /* A big-endian JOIN: an ordinary membership for the local member. */
    CHECK_EQ(SP_join(m, "mixed"), 0);
    EXPECT_MEMB(m, &msg, "mixed", CAUSED_BY_JOIN, 1);
    memset(to_group, 0, sizeof to_group);
    strcpy(to_group[0], "mixed");
    raw_send(raw, 0x00010000 /* JOIN_MESS */, 1, 1, 0, 1, (const char(*)[MAX_GROUP_NAME])to_group,
             "", 0);
    EXPECT_MEMB(m, &msg, "mixed", CAUSED_BY_JOIN, 2);
    CHECK_NAME(msg.groups[0], LOCAL);
    CHECK_NAME(msg.groups[1], RAW);
    CHECK_EQ(msg.mess_type, 0);
    CHECK_EQ(msg.endian_mismatch, 0);
    {
        membership_info info;
        CHECK_EQ(SP_get_memb_info(msg.body, msg.service_type, &info), 1);
        CHECK_NAME(info.changed_member, RAW);
        CHECK_EQ(info.num_vs_sets, 1);
        CHECK_EQ(info.gid.id[2], 2);
    }

    /* Destination fields with bytes after the NUL: forwarded verbatim,
     * equal up to the NUL. */
    memset(to_group, 0, sizeof to_group);
    strcpy(to_group[0], "mixed");
    memcpy(to_group[0] + 6, "garbage", 7);
    strcpy(to_group[1], "elsewhere");
    to_group[1][31] = 'Z';
    raw_send(raw, AGREED_MESS, 1, 1, 3, 2, (const char(*)[MAX_GROUP_NAME])to_group, "nul", 3);
    expect_from_raw(m, AGREED_MESS, 3, 1, "nul", 3);
    CHECK_EQ(msg.num_groups, 2);
    CHECK_NAME(msg.groups[0], "mixed");
    CHECK_NAME(msg.groups[1], "elsewhere");

    /* The raw client goes away: a disconnect membership. */
    close(raw);
    EXPECT_MEMB(m, &msg, "mixed", CAUSED_BY_DISCONNECT, 1);
    CHECK_EQ(SP_disconnect(m), 0);
    printf("foreign_endian: ok\n");
    return 0;
}
