/*
 * large.c -- messages above 5.0.1's limit through libspread, with a daemon
 * of ours whose MaxMessageSize is 2 MiB: SP_multicast of 1 MiB and of
 * exactly 2 MiB; SP_receive with a buffer too short (BUFFER_TOO_SHORT,
 * the size needed in endian_mismatch, the message kept) and then a large
 * enough one (every byte); above MaxMessageSize, MESSAGE_TOO_LONG.
 *
 *   usage: large DAEMON
 */
#include "check.h"

#define RCV "#rcv#localhost"
#define MAX (2 << 20)

static char *fill(int len, int k)
{
    char *b = malloc((size_t)len);
    CHECK(b != NULL);
    for (int i = 0; i < len; i++)
        b[i] = (char)((unsigned)i * 2654435761u >> 13 ^ (unsigned)k);
    return b;
}

static void round_trip(mailbox s, mailbox r, int len, int k)
{
    char *sent = fill(len, k);
    char *got = malloc(MAX);
    char sender[MAX_GROUP_NAME], groups[4][MAX_GROUP_NAME];
    service st = 0;
    int ng = 0, endian = 0;
    int16 mt = 0;
    CHECK(got != NULL);
    CHECK_EQ(SP_multicast(s, AGREED_MESS, RCV, (int16)k, len, sent), len);
    /* A socket buffer holds less than the message: SP_poll counts what
     * has arrived; the receive waits for the rest. */
    CHECK(wait_bytes(r, 48, 20000) >= 48);

    /* One byte short: nothing consumed, the size needed told. */
    CHECK_EQ(SP_receive(r, &st, sender, 4, &ng, groups, &mt, &endian, len - 1, got),
             BUFFER_TOO_SHORT);
    CHECK_EQ(endian, -len);
    CHECK(SP_poll(r) >= 48);

    st = 0;
    CHECK_EQ(SP_receive(r, &st, sender, 4, &ng, groups, &mt, &endian, MAX, got), len);
    CHECK_EQ(st, AGREED_MESS);
    CHECK_EQ(mt, k);
    CHECK_EQ(ng, 1);
    CHECK_NAME(groups[0], RCV);
    CHECK(memcmp(sent, got, (size_t)len) == 0);
    CHECK_EQ(SP_poll(r), 0);
    free(sent);
    free(got);
}

int main(int argc, char **argv)
{
    char pg[MAX_GROUP_NAME];
    mailbox r, s;

    if (argc < 2) {
        fprintf(stderr, "usage: %s DAEMON\n", argv[0]);
        return 2;
    }
    watchdog(60);
    CONNECT(argv[1], "rcv", 0, &r, pg);
    CHECK_NAME(pg, RCV);
    CONNECT(argv[1], "snd", 0, &s, pg);

    round_trip(s, r, 1 << 20, 1);
    round_trip(s, r, MAX, 2);
    round_trip(s, r, 1000, 3);

    char *too_long = fill(MAX + 1, 4);
    CHECK_EQ(SP_multicast(s, AGREED_MESS, RCV, 4, MAX + 1, too_long), MESSAGE_TOO_LONG);
    free(too_long);

    CHECK_EQ(SP_disconnect(r), 0);
    CHECK_EQ(SP_disconnect(s), 0);
    printf("large messages ok\n");
    return 0;
}
