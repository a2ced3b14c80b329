/*
 * select_mailbox.c -- a mailbox is a descriptor applications wait on with
 * select()/poll() (as Spread's own event loop does): while a message is
 * waiting to be received the descriptor must be readable, even when
 * several messages arrived together and an earlier SP_receive has already
 * taken the first of them.
 *
 *   usage: select_mailbox DAEMON
 */
#include "check.h"

#include <poll.h>
#include <sys/select.h>

enum { BURST = 6 };

static int fd_readable_poll(int fd, int timeout_ms)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int n = poll(&p, 1, timeout_ms);
    CHECK(n >= 0);
    return n == 1 && (p.revents & POLLIN);
}

static int fd_readable_select(int fd, int timeout_ms)
{
    fd_set set;
    struct timeval t = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    int n;
    FD_ZERO(&set);
    FD_SET(fd, &set);
    n = select(fd + 1, &set, NULL, NULL, &t);
    CHECK(n >= 0);
    return n == 1 && FD_ISSET(fd, &set);
}

static void burst(mailbox s, mailbox r, int use_select)
{
    message *m = malloc(sizeof *m);
    int total = 0;
    CHECK(m != NULL);

    for (int i = 0; i < BURST; i++) {
        char body[32];
        int len = snprintf(body, sizeof body, "burst message %d", i);
        CHECK_EQ(SP_multicast(s, RELIABLE_MESS, "#r#localhost", (int16)i, len, body), len);
        total += 48 + 32 + len;
    }
    /* All of them are here before the first receive. */
    CHECK_EQ(wait_bytes(r, total, 10000), total);

    for (int i = 0; i < BURST; i++) {
        int readable = use_select ? fd_readable_select(r, 1000) : fd_readable_poll(r, 1000);
        if (!readable)
            FAIL("%s: message %d of %d is waiting (SP_poll %d) but mailbox %d is not readable",
                 use_select ? "select" : "poll", i, BURST, SP_poll(r), r);
        RECV(r, m);
        CHECK_EQ(m->mess_type, i);
    }
    /* Nothing left: not readable, SP_poll 0. */
    CHECK(!(use_select ? fd_readable_select(r, 100) : fd_readable_poll(r, 100)));
    CHECK_EQ(SP_poll(r), 0);
    free(m);
}

int main(int argc, char **argv)
{
    mailbox s, r;
    char pg[MAX_GROUP_NAME];

    if (argc < 2) {
        fprintf(stderr, "usage: %s DAEMON\n", argv[0]);
        return 2;
    }
    watchdog(30);
    CONNECT(argv[1], "s", 0, &s, pg);
    CONNECT(argv[1], "r", 0, &r, pg);
    CHECK(!fd_readable_poll(r, 50));
    burst(s, r, 0);
    burst(s, r, 1);
    CHECK_EQ(SP_disconnect(s), 0);
    CHECK_EQ(SP_disconnect(r), 0);
    printf("select_mailbox: ok\n");
    return 0;
}
