/*
 * auth.c -- SP_set_auth_method / SP_set_auth_methods against a daemon
 * started with AllowedAuthMethods = "NULL IP" and the access file
 * "127.0.0.1": an "IP" method whose callback returns 1 is accepted over
 * TCP from 127.0.0.1 (and the callback gets the socket and its data); a
 * callback returning 0 gives REJECT_AUTH; the IP check fails over the
 * Unix socket; a method the daemon does not offer gives REJECT_AUTH
 * without running the callback; bad arguments return 0 and change
 * nothing.
 *
 *   usage: auth TCP_NAME UNIX_PATH
 */
#include "check.h"

#include <sys/stat.h>

static int calls[4];
static int last_fd = -1;
static void *last_data;
static int order[8], norder;
static int data1, data2;

static int record(int which, int fd, void *data)
{
    struct stat st;
    calls[which]++;
    last_fd = fd;
    last_data = data;
    if (norder < 8)
        order[norder++] = which;
    /* The callback runs on the connection's socket. */
    CHECK(fd >= 0 && fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode));
    return 1;
}

static int accept_a(int fd, void *data) { return record(0, fd, data); }
static int accept_b(int fd, void *data) { return record(1, fd, data); }
static int refuse(int fd, void *data)
{
    record(2, fd, data);
    return 0;
}

static void reset(void)
{
    memset(calls, 0, sizeof calls);
    norder = 0;
    last_fd = -1;
    last_data = NULL;
}

static int try_connect(const char *daemon_name, const char *name)
{
    mailbox m;
    char pg[MAX_GROUP_NAME];
    int r = SP_connect(daemon_name, name, 0, 1, &m, pg);
    if (r == ACCEPT_SESSION) {
        char want[MAX_GROUP_NAME];
        snprintf(want, sizeof want, "#%s#localhost", name);
        CHECK_NAME(pg, want);
        CHECK_EQ(SP_disconnect(m), 0);
    }
    return r;
}

int main(int argc, char **argv)
{
    const char *tcp, *unix_path;
    char long_name[40];
    const char *names2[2] = {"IP", "NULL"};
    int (*funcs2[2])(int, void *) = {accept_a, accept_b};
    void *datas2[2] = {&data1, &data2};

    if (argc < 3) {
        fprintf(stderr, "usage: %s TCP_NAME UNIX_PATH\n", argv[0]);
        return 2;
    }
    tcp = argv[1];
    unix_path = argv[2];
    watchdog(30);

    /* Bad arguments: 0, and the registration is unchanged (NULL). */
    memset(long_name, 'A', 30);
    long_name[30] = '\0';
    CHECK_EQ(SP_set_auth_method(long_name, accept_a, NULL), 0);
    CHECK_EQ(SP_set_auth_method("IP", NULL, NULL), 0);
    CHECK_EQ(SP_set_auth_method(NULL, accept_a, NULL), 0);
    CHECK_EQ(SP_set_auth_methods(4, names2, funcs2, datas2), 0);
    CHECK_EQ(SP_set_auth_methods(-1, names2, funcs2, datas2), 0);
    {
        int (*with_null[2])(int, void *) = {accept_a, NULL};
        CHECK_EQ(SP_set_auth_methods(2, names2, with_null, datas2), 0);
    }
    {
        const char *with_long[2] = {"IP", long_name};
        CHECK_EQ(SP_set_auth_methods(2, with_long, funcs2, datas2), 0);
    }
    reset();
    CHECK_EQ(try_connect(tcp, "default"), ACCEPT_SESSION); /* still NULL */
    CHECK_EQ(calls[0] + calls[1] + calls[2], 0);

    /* An "IP" method that succeeds on the client side. */
    CHECK_EQ(SP_set_auth_method("IP", accept_a, &data1), 1);
    reset();
    CHECK_EQ(try_connect(tcp, "ip"), ACCEPT_SESSION);
    CHECK_EQ(calls[0], 1);
    CHECK(last_data == &data1);
    CHECK(last_fd >= 0);
    /* Over the Unix socket the daemon's IP check fails. */
    reset();
    CHECK_EQ(try_connect(unix_path, "ipunix"), REJECT_AUTH);

    /* The client's callback refuses. */
    CHECK_EQ(SP_set_auth_method("IP", refuse, NULL), 1);
    reset();
    CHECK_EQ(try_connect(tcp, "refused"), REJECT_AUTH);
    CHECK_EQ(calls[2], 1);
    CHECK(last_data == NULL);

    /* A method the daemon does not offer: refused before the callback. */
    CHECK_EQ(SP_set_auth_method("FOO", accept_a, NULL), 1);
    reset();
    CHECK_EQ(try_connect(tcp, "foo"), REJECT_AUTH);
    CHECK_EQ(calls[0], 0);

    /* Two methods, run in order. */
    CHECK_EQ(SP_set_auth_methods(2, names2, funcs2, datas2), 1);
    reset();
    CHECK_EQ(try_connect(tcp, "two"), ACCEPT_SESSION);
    CHECK_EQ(norder, 2);
    CHECK_EQ(order[0], 0);
    CHECK_EQ(order[1], 1);
    CHECK(last_data == &data2);
    {
        const char *names_bad[2] = {"NULL", "FOO"};
        CHECK_EQ(SP_set_auth_methods(2, names_bad, funcs2, datas2), 1);
        reset();
        CHECK_EQ(try_connect(tcp, "twobad"), REJECT_AUTH);
        CHECK_EQ(norder, 0);
    }

    /* No methods at all: the daemon refuses an empty choice. */
    CHECK_EQ(SP_set_auth_methods(0, names2, funcs2, datas2), 1);
    CHECK_EQ(try_connect(tcp, "none"), REJECT_AUTH);

    /* Back to NULL, with a callback of ours. */
    CHECK_EQ(SP_set_auth_method("NULL", accept_b, &data2), 1);
    reset();
    CHECK_EQ(try_connect(unix_path, "null"), ACCEPT_SESSION);
    CHECK_EQ(calls[1], 1);
    printf("auth: ok\n");
    return 0;
}
