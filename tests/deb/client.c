/*
 * The package test's client (tests/deb/test_deb.py): built against the
 * headers, pkg-config file and library the .deb installed, it connects to
 * the daemon named by argv[1] with the private name argv[3] (default
 * "debtest"), joins argv[2], sees its own join, sends one SAFE message and
 * receives it back. Exits 0, or prints "FAIL: ..." and
 * exits 1. An alarm ends it if the daemon never answers.
 */
#include <fl.h>
#include <sp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define FAIL(...) do { printf("FAIL: " __VA_ARGS__); printf("\n"); return 1; } while (0)

int main(int argc, char **argv)
{
    mailbox mbox;
    char me[MAX_GROUP_NAME], sender[MAX_GROUP_NAME], groups[16][MAX_GROUP_NAME];
    char body[256], sent[64];
    int major, minor, patch, ret, ngroups, endian, joined = 0;
    service st;
    int16 mtype;

    const char *name = argc > 3 ? argv[3] : "debtest";

    if (argc < 3 || argc > 4)
        FAIL("usage: client DAEMON GROUP [NAME]");
    alarm(30);
    if (!SP_version(&major, &minor, &patch) || major != 5)
        FAIL("SP_version: %d.%d.%d", major, minor, patch);
    FL_version(&major, &minor, &patch);

    ret = SP_connect(argv[1], name, 0, 1, &mbox, me);
    if (ret != ACCEPT_SESSION)
        FAIL("SP_connect(%s): %s", argv[1], SP_strerror(ret));
    printf("connected to %s as %s\n", argv[1], me);
    if ((ret = SP_join(mbox, argv[2])) != 0)
        FAIL("SP_join: %s", SP_strerror(ret));
    snprintf(sent, sizeof sent, "hello from %s", me);
    for (;;) {
        st = 0;
        ret = SP_receive(mbox, &st, sender, 16, &ngroups, groups, &mtype, &endian,
                         sizeof body, body);
        if (ret < 0)
            FAIL("SP_receive: %s", SP_strerror(ret));
        if (Is_reg_memb_mess(st) && Is_caused_join_mess(st) && !joined) {
            membership_info info;
            if (strcmp(sender, argv[2]) != 0 || SP_get_memb_info(body, st, &info) != 1 ||
                strcmp(info.changed_member, me) != 0)
                FAIL("a join not ours: group %s", sender);
            printf("joined %s (%d member)\n", sender, ngroups);
            joined = 1;
            ret = SP_multicast(mbox, SAFE_MESS, argv[2], 7, (int)strlen(sent), sent);
            if (ret != (int)strlen(sent))
                FAIL("SP_multicast: %d", ret);
        } else if (Is_regular_mess(st)) {
            if (!joined || !Is_safe_mess(st) || strcmp(sender, me) != 0 || mtype != 7 ||
                ret != (int)strlen(sent) || memcmp(body, sent, (size_t)ret) != 0)
                FAIL("unexpected message from %s (%d bytes)", sender, ret);
            printf("received own message: %.*s\n", ret, body);
            break;
        }
    }
    if ((ret = SP_disconnect(mbox)) != 0)
        FAIL("SP_disconnect: %s", SP_strerror(ret));
    return 0;
}
