/*
 * auth_ours.c -- our daemon's methods from C: PEERCRED with
 * SP_auth_no_exchange, SECRET with SP_auth_secret and an sp_secret,
 * against a daemon started with AllowedAuthMethods = "NULL PEERCRED
 * SECRET", this process's uid in AllowUsers and the secret "backup"
 * below in its AuthSecretFile.
 *
 *   usage: auth_ours TCP_NAME UNIX_PATH
 */
#include "check.h"

static const char SECRET[] = "the shared secret of the backup service";

static int try_connect(const char *daemon_name, const char *name)
{
    mailbox m;
    char pg[MAX_GROUP_NAME];
    int r = SP_connect(daemon_name, name, 0, 1, &m, pg);
    if (r == ACCEPT_SESSION)
        CHECK_EQ(SP_disconnect(m), 0);
    return r;
}

int main(int argc, char **argv)
{
    const char *tcp, *unix_path;
    sp_secret good = {"backup", SECRET, (int)strlen(SECRET)};
    sp_secret wrong = {"backup", "not the secret, not at all", 26};
    sp_secret stranger = {"stranger", SECRET, (int)strlen(SECRET)};
    sp_secret bad_identity = {"back up", SECRET, (int)strlen(SECRET)};
    sp_secret no_secret = {"backup", NULL, 0};

    if (argc < 3) {
        fprintf(stderr, "usage: %s TCP_NAME UNIX_PATH\n", argv[0]);
        return 2;
    }
    tcp = argv[1];
    unix_path = argv[2];
    watchdog(30);

    /* PEERCRED: no bytes; the kernel's word on the Unix socket only. */
    CHECK_EQ(SP_auth_no_exchange(-1, NULL), 1);
    CHECK_EQ(SP_set_auth_method("PEERCRED", SP_auth_no_exchange, NULL), 1);
    CHECK_EQ(try_connect(unix_path, "pc"), ACCEPT_SESSION);
    CHECK_EQ(try_connect(tcp, "pctcp"), REJECT_AUTH);

    /* SECRET over TCP and the Unix socket. */
    CHECK_EQ(SP_set_auth_method("SECRET", SP_auth_secret, &good), 1);
    CHECK_EQ(try_connect(tcp, "sec"), ACCEPT_SESSION);
    CHECK_EQ(try_connect(unix_path, "secunix"), ACCEPT_SESSION);
    /* Wrong secret, unknown identity: the daemon refuses. */
    CHECK_EQ(SP_set_auth_method("SECRET", SP_auth_secret, &wrong), 1);
    CHECK_EQ(try_connect(tcp, "wrong"), REJECT_AUTH);
    CHECK_EQ(SP_set_auth_method("SECRET", SP_auth_secret, &stranger), 1);
    CHECK_EQ(try_connect(tcp, "stranger"), REJECT_AUTH);
    /* Bad data: the callback fails, so does the connect. */
    CHECK_EQ(SP_set_auth_method("SECRET", SP_auth_secret, &bad_identity), 1);
    CHECK_EQ(try_connect(tcp, "badid"), REJECT_AUTH);
    CHECK_EQ(SP_set_auth_method("SECRET", SP_auth_secret, &no_secret), 1);
    CHECK_EQ(try_connect(tcp, "nosecret"), REJECT_AUTH);
    CHECK_EQ(SP_set_auth_method("SECRET", SP_auth_secret, NULL), 1);
    CHECK_EQ(try_connect(tcp, "nulldata"), REJECT_AUTH);

    /* PEERCRED and SECRET together, in order, on the Unix socket. */
    {
        const char *names[2] = {"PEERCRED", "SECRET"};
        int (*funcs[2])(int, void *) = {SP_auth_no_exchange, SP_auth_secret};
        void *datas[2] = {NULL, &good};
        CHECK_EQ(SP_set_auth_methods(2, names, funcs, datas), 1);
        CHECK_EQ(try_connect(unix_path, "both"), ACCEPT_SESSION);
        CHECK_EQ(try_connect(tcp, "bothtcp"), REJECT_AUTH);
    }
    printf("ok\n");
    return 0;
}
