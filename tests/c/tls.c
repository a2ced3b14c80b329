/*
 * tls.c -- TLS to a daemon's TlsAddress from C (SP_set_tls, ours),
 * against a daemon started with TlsClientCAFile: a client with the
 * certificate of CERT and KEY joins, multicasts and receives over TLS
 * (waiting on the mailbox descriptor with poll(), as over a plain socket); without a certificate,
 * or trusting another CA, the connect fails; with TLS off the plain port
 * serves as before.
 *
 *   usage: tls PLAIN_NAME TLS_NAME CA CERT KEY OTHER_CA
 */
#include "check.h"

#include <poll.h>

static int try_connect(const char *daemon_name, const char *name)
{
    mailbox m;
    char pg[MAX_GROUP_NAME];
    int r = SP_connect(daemon_name, name, 0, 1, &m, pg);
    if (r == ACCEPT_SESSION)
        CHECK_EQ(SP_disconnect(m), 0);
    return r;
}

/* Receives until a regular message; returns its length. */
static int receive_data(mailbox m, char *buf, int len)
{
    for (;;) {
        service st = 0;
        char sender[MAX_GROUP_NAME];
        char groups[4][MAX_GROUP_NAME];
        int ng = 0, endian = 0, r;
        int16 mt = 0;
        struct pollfd p = {.fd = m, .events = POLLIN};
        CHECK_EQ(poll(&p, 1, 5000), 1);
        r = SP_receive(m, &st, sender, 4, &ng, groups, &mt, &endian, len, buf);
        CHECK(r >= 0);
        if (Is_regular_mess(st))
            return r;
    }
}

int main(int argc, char **argv)
{
    const char *tls, *plain, *ca, *cert, *key, *other_ca;
    mailbox m;
    char pg[MAX_GROUP_NAME];
    char buf[1000];
    const char hello[] = "over TLS, from C";

    if (argc < 7) {
        fprintf(stderr, "usage: %s PLAIN_NAME TLS_NAME CA CERT KEY OTHER_CA\n", argv[0]);
        return 2;
    }
    plain = argv[1];
    tls = argv[2];
    ca = argv[3];
    cert = argv[4];
    key = argv[5];
    other_ca = argv[6];
    watchdog(30);

    /* Bad settings change nothing. */
    CHECK_EQ(SP_set_tls("/nonexistent/ca.pem", NULL, NULL), 0);
    CHECK_EQ(SP_set_tls(ca, cert, NULL), 0);
    CHECK_EQ(SP_set_tls(NULL, cert, key), 0);
    CHECK_EQ(SP_set_tls(key, NULL, NULL), 0); /* a key is no CA */

    /* The daemon asks for a certificate: none, refused. */
    CHECK_EQ(SP_set_tls(ca, NULL, NULL), 1);
    CHECK_EQ(try_connect(tls, "anon"), COULD_NOT_CONNECT);

    /* Trusting another CA: the daemon's certificate is refused. */
    CHECK_EQ(SP_set_tls(other_ca, cert, key), 1);
    CHECK_EQ(try_connect(tls, "other"), COULD_NOT_CONNECT);

    /* With the certificate: a session as any. */
    CHECK_EQ(SP_set_tls(ca, cert, key), 1);
    CHECK_EQ(SP_connect(tls, "c", 0, 1, &m, pg), ACCEPT_SESSION);
    CHECK_EQ(SP_join(m, "tlsgroup"), 0);
    CHECK_EQ(SP_multicast(m, AGREED_MESS, "tlsgroup", 1, (int)sizeof hello, hello),
             (int)sizeof hello);
    CHECK_EQ(receive_data(m, buf, (int)sizeof buf), (int)sizeof hello);
    CHECK(memcmp(buf, hello, sizeof hello) == 0);
    CHECK_EQ(SP_disconnect(m), 0);

    /* TLS off: the plain port, as 5.0.1. */
    CHECK_EQ(SP_set_tls(NULL, NULL, NULL), 1);
    CHECK_EQ(try_connect(plain, "plain"), ACCEPT_SESSION);
    CHECK(try_connect(tls, "notls") < 0); /* no TLS on the TLS port */
    printf("ok\n");
    return 0;
}
