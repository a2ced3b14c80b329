/*
 * descriptors.c -- a session costs the application one descriptor, its
 * mailbox, as in 5.0.1 (client-protocol.md §8.3: "a mailbox is the
 * socket descriptor"): a process limited to 64 open descriptors can hold
 * 50 sessions at once (so mailbox numbers also stay below FD_SETSIZE
 * as long as with 5.0.1, for select()-based loops such as Spread's own
 * E_ loop).
 *
 *   usage: descriptors DAEMON
 */
#include "check.h"

#include <dirent.h>
#include <sys/resource.h>

enum { LIMIT = 64, SESSIONS = 50 };

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

int main(int argc, char **argv)
{
    struct rlimit lim, saved;
    mailbox m[SESSIONS];
    char pg[MAX_GROUP_NAME], name[16];
    int before, r;

    if (argc < 2) {
        fprintf(stderr, "usage: %s DAEMON\n", argv[0]);
        return 2;
    }
    watchdog(30);

    /* One session first, to see what it costs. */
    before = open_fds();
    CONNECT(argv[1], "first", 1, &m[0], pg);
    r = open_fds() - before;
    CHECK_EQ(SP_disconnect(m[0]), 0);
    if (r != 1)
        printf("note: one session holds %d descriptors (5.0.1: 1)\n", r);

    /* Lower the soft limit only, so that it can be raised again. */
    CHECK_EQ(getrlimit(RLIMIT_NOFILE, &saved), 0);
    lim = saved;
    lim.rlim_cur = LIMIT;
    CHECK_EQ(setrlimit(RLIMIT_NOFILE, &lim), 0);
    for (int i = 0; i < SESSIONS; i++) {
        snprintf(name, sizeof name, "s%d", i);
        r = SP_connect(argv[1], name, 0, 1, &m[i], pg);
        if (r != ACCEPT_SESSION) {
            /* Give the descriptors back first (the sanitizers' exit
             * checks need some). */
            for (int j = 0; j < i; j++)
                SP_kill(m[j]);
            setrlimit(RLIMIT_NOFILE, &saved);
            FAIL("with %d descriptors allowed, session %d of %d failed: %d (%s)", LIMIT, i + 1,
                 SESSIONS, r, SP_strerror(r));
        }
    }
    for (int i = 0; i < SESSIONS; i++)
        CHECK_EQ(SP_disconnect(m[i]), 0);
    CHECK_EQ(setrlimit(RLIMIT_NOFILE, &saved), 0);
    printf("descriptors: %d sessions within %d descriptors\n", SESSIONS, LIMIT);
    return 0;
}
