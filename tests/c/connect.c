/*
 * connect.c -- SP_connect, SP_connect_timeout, SP_disconnect, SP_kill:
 * daemon names (TCP, Unix path, bare port), private names (legal, cut to
 * 10 bytes, illegal, duplicate, daemon-chosen), bad arguments, timeouts
 * (malformed, none, against a listener that never answers), and
 * ILLEGAL_SESSION after a mailbox is closed.
 *
 *   usage: connect TCP_NAME UNIX_PATH
 *   (when UNIX_PATH is in $SPREAD_SOCKET_DIR, or /tmp without it, the
 *   bare "port" form is tried too)
 */
#include "check.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>

static const char *tcp_name, *unix_path;

/* A listening TCP socket on 127.0.0.1 that never accepts; its port. */
static int silent_listener(int *port)
{
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    int s = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(s >= 0);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK_EQ(bind(s, (struct sockaddr *)&a, sizeof a), 0);
    CHECK_EQ(listen(s, 8), 0);
    CHECK_EQ(getsockname(s, (struct sockaddr *)&a, &len), 0);
    *port = ntohs(a.sin_port);
    return s;
}

static void good_names(void)
{
    mailbox m1, m2;
    char pg[MAX_GROUP_NAME];
    struct stat st;

    CONNECT(tcp_name, "tcp1", 1, &m1, pg);
    CHECK_NAME(pg, "#tcp1#localhost");
    /* The mailbox is the session's socket descriptor. */
    CHECK(fstat(m1, &st) == 0 && S_ISSOCK(st.st_mode));

    CONNECT(unix_path, "unix1", 0, &m2, pg);
    CHECK_NAME(pg, "#unix1#localhost");
    CHECK(m2 != m1);
    CHECK_EQ(SP_disconnect(m2), 0);
    CHECK_EQ(SP_disconnect(m1), 0);

    /* Priorities are accepted (only "at least MEDIUM" reaches the daemon). */
    CHECK_EQ(SP_connect(tcp_name, "prio", HIGH_PRIORITY, 1, &m1, pg), ACCEPT_SESSION);
    CHECK_EQ(SP_disconnect(m1), 0);

    /* The bare port form uses $SPREAD_SOCKET_DIR/<port>, else /tmp/<port>:
     * tried when the daemon's socket is there. */
    {
        const char *dir = getenv("SPREAD_SOCKET_DIR");
        const char *port = strrchr(unix_path, '/');
        CHECK(port != NULL);
        if (dir == NULL)
            dir = "/tmp";
        if (strlen(dir) == (size_t)(port - unix_path) && strncmp(dir, unix_path, strlen(dir)) == 0) {
            CONNECT(port + 1, "bare", 1, &m1, pg);
            CHECK_NAME(pg, "#bare#localhost");
            CHECK_EQ(SP_disconnect(m1), 0);
            printf("bare port: connected\n");
        }
    }

    /* A name longer than 10 bytes is cut to 10. */
    CONNECT(tcp_name, "abcdefghijklmn", 1, &m1, pg);
    CHECK_NAME(pg, "#abcdefghij#localhost");
    CHECK_EQ(SP_disconnect(m1), 0);

    /* Only the first 10 bytes count: an illegal 11th byte is never sent. */
    CONNECT(tcp_name, "klmnopqrst u", 1, &m1, pg);
    CHECK_NAME(pg, "#klmnopqrst#localhost");
    CHECK_EQ(SP_disconnect(m1), 0);

    /* Edge characters '$' and '~' are legal. */
    CONNECT(tcp_name, "$~", 1, &m1, pg);
    CHECK_NAME(pg, "#$~#localhost");
    CHECK_EQ(SP_disconnect(m1), 0);

    /* No name (NULL or ""): the daemon picks one, "r<N>-<fd>". */
    CONNECT(tcp_name, NULL, 1, &m1, pg);
    CHECK(pg[0] == '#' && pg[1] == 'r');
    CHECK(strstr(pg, "#localhost") != NULL);
    CONNECT(tcp_name, "", 1, &m2, pg);
    CHECK(pg[0] == '#' && pg[1] == 'r');
    SP_kill(m2);
    CHECK_EQ(SP_disconnect(m1), 0);

    /* The default daemon (NULL or "": /tmp/4803, or $SPREAD_SOCKET_DIR/4803)
     * is not ours: either it is there or the call fails cleanly. */
    {
        int r = SP_connect(NULL, "dflt", 0, 1, &m1, pg);
        CHECK(r == ACCEPT_SESSION || r == COULD_NOT_CONNECT || r == REJECT_NOT_UNIQUE);
        if (r == ACCEPT_SESSION)
            SP_kill(m1);
        r = SP_connect("", "dflt2", 0, 1, &m1, pg);
        CHECK(r == ACCEPT_SESSION || r == COULD_NOT_CONNECT || r == REJECT_NOT_UNIQUE);
        if (r == ACCEPT_SESSION)
            SP_kill(m1);
    }
}

static void bad_names(void)
{
    mailbox m = -7, m2;
    char pg[MAX_GROUP_NAME];
    char name[64];
    int listener, port;

    CHECK_EQ(SP_connect("x@", "n", 0, 1, &m, pg), ILLEGAL_SPREAD);
    CHECK_EQ(SP_connect("abc", "n", 0, 1, &m, pg), ILLEGAL_SPREAD);
    CHECK_EQ(SP_connect("@127.0.0.1", "n", 0, 1, &m, pg), ILLEGAL_SPREAD);
    CHECK_EQ(SP_connect("4803x", "n", 0, 1, &m, pg), ILLEGAL_SPREAD);
    {
        /* Far longer than any host name. */
        char huge[2100];
        memcpy(huge, "4803@", 5);
        memset(huge + 5, 'h', sizeof huge - 6);
        huge[sizeof huge - 1] = '\0';
        CHECK_EQ(SP_connect(huge, "n", 0, 1, &m, pg), ILLEGAL_SPREAD);
    }
    CHECK_EQ(m, -7); /* untouched on failure */

    /* No daemon: a port nobody listens on (bound then closed). */
    listener = silent_listener(&port);
    close(listener);
    snprintf(name, sizeof name, "%d@127.0.0.1", port);
    CHECK_EQ(SP_connect(name, "n", 0, 1, &m, pg), COULD_NOT_CONNECT);
    CHECK_EQ(SP_connect("/nonexistent-dir/4803", "n", 0, 1, &m, pg), COULD_NOT_CONNECT);

    /* Private names: the daemon's rules. */
    CHECK_EQ(SP_connect(tcp_name, "a b", 0, 1, &m, pg), REJECT_ILLEGAL_NAME);
    CHECK_EQ(SP_connect(tcp_name, "#x", 0, 1, &m, pg), REJECT_ILLEGAL_NAME);
    CHECK_EQ(SP_connect(tcp_name, "bang!", 0, 1, &m, pg), REJECT_ILLEGAL_NAME);
    CHECK_EQ(SP_connect(tcp_name, "caf\xc3\xa9", 0, 1, &m, pg), REJECT_ILLEGAL_NAME);

    /* Duplicate: rejected while the first session lives, over either
     * transport; free again once it is gone. */
    CONNECT(tcp_name, "dup", 1, &m, pg);
    CHECK_EQ(SP_connect(tcp_name, "dup", 0, 1, &m2, pg), REJECT_NOT_UNIQUE);
    CHECK_EQ(SP_connect(unix_path, "dup", 0, 1, &m2, pg), REJECT_NOT_UNIQUE);
    CHECK_EQ(SP_disconnect(m), 0);
    {
        /* The name is freed when the daemon has processed the disconnect. */
        long long end = now_ms() + 5000;
        int r;
        while ((r = SP_connect(tcp_name, "dup", 0, 1, &m, pg)) == REJECT_NOT_UNIQUE &&
               now_ms() < end)
            sleep_ms(10);
        CHECK_EQ(r, ACCEPT_SESSION);
        CHECK_EQ(SP_disconnect(m), 0);
    }

    /* NULL outputs: an error code, no crash. */
    CHECK(SP_connect(tcp_name, "nul1", 0, 1, NULL, pg) < 0);
    CHECK(SP_connect(tcp_name, "nul2", 0, 1, &m, NULL) < 0);
    {
        sp_time t = {1, 0};
        CHECK(SP_connect_timeout(tcp_name, "nul3", 0, 1, NULL, pg, t) < 0);
    }
}

static void timeouts(void)
{
    mailbox m;
    char pg[MAX_GROUP_NAME];
    sp_time bad1 = {1, -1}, bad2 = {0, 1000000}, bad3 = {-1, 1}, bad4 = {0, -1000000};
    sp_time none = {0, 0}, some = {5, 0};
    int listener, port, r;
    char name[64];
    long long t0, elapsed;

    CHECK_EQ(SP_connect_timeout(tcp_name, "t", 0, 1, &m, pg, bad1), ILLEGAL_TIME);
    CHECK_EQ(SP_connect_timeout(tcp_name, "t", 0, 1, &m, pg, bad2), ILLEGAL_TIME);
    CHECK_EQ(SP_connect_timeout(tcp_name, "t", 0, 1, &m, pg, bad3), ILLEGAL_TIME);
    CHECK_EQ(SP_connect_timeout(tcp_name, "t", 0, 1, &m, pg, bad4), ILLEGAL_TIME);

    /* {0, 0} means no timeout. */
    CHECK_EQ(SP_connect_timeout(tcp_name, "t0", 0, 1, &m, pg, none), ACCEPT_SESSION);
    CHECK_NAME(pg, "#t0#localhost");
    CHECK_EQ(SP_disconnect(m), 0);
    CHECK_EQ(SP_connect_timeout(unix_path, "t5", 0, 1, &m, pg, some), ACCEPT_SESSION);
    CHECK_EQ(SP_disconnect(m), 0);

    /* A listener that never answers: the kernel completes the TCP
     * connection, then nobody sends the auth list. */
    listener = silent_listener(&port);
    snprintf(name, sizeof name, "%d@127.0.0.1", port);
    {
        sp_time short_wait = {0, 300000};
        t0 = now_ms();
        r = SP_connect_timeout(name, "slow", 0, 1, &m, pg, short_wait);
        elapsed = now_ms() - t0;
        CHECK(r < 0);
        /* 5.0.1: the handshake read timing out is CONNECTION_CLOSED. */
        CHECK_EQ(r, CONNECTION_CLOSED);
        CHECK(elapsed >= 250);
        CHECK(elapsed < 2000);
    }
    {
        sp_time one_s = {1, 0};
        t0 = now_ms();
        r = SP_connect_timeout(name, "slow2", 0, 1, &m, pg, one_s);
        elapsed = now_ms() - t0;
        CHECK(r < 0);
        CHECK(elapsed >= 900 && elapsed < 3000);
    }
    close(listener);
}

/* After SP_disconnect or SP_kill every call on the mailbox is
 * ILLEGAL_SESSION. */
static void closed_mailboxes(void)
{
    mailbox m;
    char pg[MAX_GROUP_NAME];
    message *msg = calloc(1, sizeof *msg);
    CHECK(msg != NULL);

    for (int how = 0; how < 2; how++) {
        CONNECT(tcp_name, how ? "killed" : "disc", 1, &m, pg);
        CHECK_EQ(SP_join(m, "g"), 0);
        if (how)
            SP_kill(m);
        else
            CHECK_EQ(SP_disconnect(m), 0);
        CHECK_EQ(SP_join(m, "g"), ILLEGAL_SESSION);
        CHECK_EQ(SP_leave(m, "g"), ILLEGAL_SESSION);
        CHECK_EQ(SP_multicast(m, AGREED_MESS, "g", 0, 2, "hi"), ILLEGAL_SESSION);
        msg->service_type = 0;
        CHECK_EQ(SP_receive(m, &msg->service_type, msg->sender, 10, &msg->num_groups,
                            msg->groups, &msg->mess_type, &msg->endian_mismatch, 100, msg->body),
                 ILLEGAL_SESSION);
        CHECK_EQ(SP_poll(m), ILLEGAL_SESSION);
        CHECK_EQ(SP_disconnect(m), ILLEGAL_SESSION);
        SP_kill(m); /* again: nothing happens */
    }
    free(msg);
}

/* Many sessions at once, closed in a mixed order. */
static void many_sessions(void)
{
    enum { N = 40 };
    mailbox m[N];
    char pg[MAX_GROUP_NAME], name[16];
    for (int i = 0; i < N; i++) {
        snprintf(name, sizeof name, "many%d", i);
        CONNECT(i % 2 ? tcp_name : unix_path, name, i % 3 != 0, &m[i], pg);
        for (int j = 0; j < i; j++)
            CHECK(m[j] != m[i]);
    }
    for (int i = 0; i < N; i += 2)
        CHECK_EQ(SP_disconnect(m[i]), 0);
    for (int i = 1; i < N; i += 2)
        SP_kill(m[i]);
}

static int open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    int n = 0;
    CHECK(d != NULL);
    while (readdir(d) != NULL)
        n++;
    closedir(d);
    return n;
}

/* Sessions, closed either way, and failed connects leave no descriptor
 * open; a closed mailbox's descriptor is closed at once. */
static void no_descriptor_leaks(void)
{
    mailbox m;
    char pg[MAX_GROUP_NAME], name[16];
    int before = open_fds();
    for (int i = 0; i < 60; i++) {
        /* A new name each time: a name is taken until the daemon has
         * processed the previous session's end. */
        snprintf(name, sizeof name, "fds%d", i);
        CONNECT(i % 3 ? tcp_name : unix_path, name, i % 2, &m, pg);
        CHECK_EQ(SP_join(m, "fdgroup"), 0);
        if (i % 2) {
            CHECK_EQ(SP_disconnect(m), 0);
        } else {
            SP_kill(m);
        }
        CHECK(fcntl(m, F_GETFD) == -1);
    }
    for (int i = 0; i < 20; i++) {
        CHECK_EQ(SP_connect(tcp_name, "bad name", 0, 1, &m, pg), REJECT_ILLEGAL_NAME);
        CHECK_EQ(SP_connect("/nonexistent-dir/4803", "n", 0, 1, &m, pg), COULD_NOT_CONNECT);
    }
    CHECK_EQ(open_fds(), before);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s TCP_NAME UNIX_PATH\n", argv[0]);
        return 2;
    }
    tcp_name = argv[1];
    unix_path = argv[2];
    watchdog(40);
    good_names();
    bad_names();
    timeouts();
    closed_mailboxes();
    many_sessions();
    no_descriptor_leaks();
    printf("connect: ok\n");
    return 0;
}
