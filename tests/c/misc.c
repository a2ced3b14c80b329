/*
 * misc.c -- the calls that need no daemon conversation: SP_version,
 * SP_strerror, SP_error (its stdout text, captured through a pipe),
 * SP_equal_group_ids, and ILLEGAL_SESSION from every mailbox call given a
 * mailbox that was never opened.
 *
 *   usage: misc DAEMON
 */
#include "check.h"

/* Runs SP_error(code) with stdout redirected into a pipe; returns the text. */
static void sp_error_text(int code, char *out, size_t cap)
{
    int fds[2], saved;
    ssize_t n;

    fflush(stdout);
    CHECK_EQ(pipe(fds), 0);
    saved = dup(1);
    CHECK(saved >= 0);
    CHECK(dup2(fds[1], 1) == 1);
    SP_error(code);
    fflush(stdout);
    CHECK(dup2(saved, 1) == 1);
    close(saved);
    close(fds[1]);
    n = read(fds[0], out, cap - 1);
    CHECK(n >= 0);
    out[n] = '\0';
    close(fds[0]);
}

static void version(void)
{
    int major = -1, minor = -1, patch = -1;
    CHECK_EQ(SP_version(&major, &minor, &patch), 1);
    CHECK_EQ(major, 5);
    CHECK_EQ(minor, 0);
    CHECK_EQ(patch, 1);
    CHECK_EQ(SPREAD_VERSION, (5 << 24) | 1);
    /* A NULL output is an error (0), not a crash. */
    CHECK_EQ(SP_version(NULL, &minor, &patch), 0);
    CHECK_EQ(SP_version(&major, NULL, &patch), 0);
    CHECK_EQ(SP_version(&major, &minor, NULL), 0);
}

static void error_texts(void)
{
    char text[256];

    CHECK(strcmp(SP_strerror(CONNECTION_CLOSED), "Connection closed by Spread.") == 0);
    CHECK(strcmp(SP_strerror(ILLEGAL_SPREAD), "Illegal spread name provided.") == 0);
    CHECK(strcmp(SP_strerror(REJECT_NOT_UNIQUE), "Connection rejected, name not unique.") == 0);
    CHECK(strcmp(SP_strerror(REJECT_AUTH), "Connection rejected, authentication failed.") == 0);
    CHECK(strcmp(SP_strerror(ILLEGAL_SESSION), "Illegal session was supplied.") == 0);
    CHECK(strcmp(SP_strerror(BUFFER_TOO_SHORT), "Buffer too short.") == 0);
    CHECK(strcmp(SP_strerror(GROUPS_TOO_SHORT), "Groups list too short.") == 0);
    CHECK(strcmp(SP_strerror(MESSAGE_TOO_LONG), "Message (body + group names) too large.") == 0);
    CHECK(strcmp(SP_strerror(NET_ERROR_ON_SESSION),
                 "Network socket error. SP_kill() the mailbox.") == 0);
    CHECK(strcmp(SP_strerror(ILLEGAL_TIME), "Illegal time.") == 0);
    /* Codes outside the table, including the unused -10. */
    CHECK(strcmp(SP_strerror(-10), "Unrecognized error.") == 0);
    CHECK(strcmp(SP_strerror(0), "Unrecognized error.") == 0);
    CHECK(strcmp(SP_strerror(12345), "Unrecognized error.") == 0);
    /* Every code in -1..-20 has a text. */
    for (int code = -20; code <= -1; code++)
        CHECK(SP_strerror(code) != NULL && SP_strerror(code)[0] != '\0');

    sp_error_text(CONNECTION_CLOSED, text, sizeof text);
    CHECK(strcmp(text, "SP_error: (-8) Connection closed by Spread.\n") == 0);
    sp_error_text(ILLEGAL_GROUP, text, sizeof text);
    CHECK(strcmp(text, "SP_error: (-14) Illegal group.\n") == 0);
    sp_error_text(77, text, sizeof text);
    CHECK(strcmp(text, "SP_error: (77) Unrecognized error.\n") == 0);
}

static void group_ids(void)
{
    group_id a = {{482711334, 1700000000, 1}};
    group_id b = a;
    CHECK_EQ(SP_equal_group_ids(a, b), 1);
    b.id[2] = 2;
    CHECK_EQ(SP_equal_group_ids(a, b), 0);
    b = a;
    b.id[0] = -1;
    CHECK_EQ(SP_equal_group_ids(a, b), 0);
    b = a;
    b.id[1]++;
    CHECK_EQ(SP_equal_group_ids(a, b), 0);
}

/* Every mailbox call on a mailbox that is not open. */
static void unknown_mailbox(mailbox bad)
{
    message *m = calloc(1, sizeof *m);
    scatter scat;
    char groups[1][MAX_GROUP_NAME] = {"g"};

    CHECK(m != NULL);
    memset(&scat, 0, sizeof scat);
    scat.num_elements = 1;
    scat.elements[0].buf = m->body;
    scat.elements[0].len = 10;

    CHECK_EQ(SP_join(bad, "g"), ILLEGAL_SESSION);
    CHECK_EQ(SP_leave(bad, "g"), ILLEGAL_SESSION);
    CHECK_EQ(SP_multicast(bad, AGREED_MESS, "g", 0, 3, "abc"), ILLEGAL_SESSION);
    CHECK_EQ(SP_scat_multicast(bad, AGREED_MESS, "g", 0, &scat), ILLEGAL_SESSION);
    CHECK_EQ(SP_multigroup_multicast(bad, AGREED_MESS, 1, (const char(*)[MAX_GROUP_NAME])groups,
                                     0, 3, "abc"),
             ILLEGAL_SESSION);
    CHECK_EQ(SP_multigroup_scat_multicast(bad, AGREED_MESS, 1,
                                          (const char(*)[MAX_GROUP_NAME])groups, 0, &scat),
             ILLEGAL_SESSION);
    m->service_type = 0;
    CHECK_EQ(SP_receive(bad, &m->service_type, m->sender, 10, &m->num_groups, m->groups,
                        &m->mess_type, &m->endian_mismatch, 100, m->body),
             ILLEGAL_SESSION);
    m->service_type = 0;
    CHECK_EQ(SP_scat_receive(bad, &m->service_type, m->sender, 10, &m->num_groups, m->groups,
                             &m->mess_type, &m->endian_mismatch, &scat),
             ILLEGAL_SESSION);
    CHECK_EQ(SP_poll(bad), ILLEGAL_SESSION);
    CHECK_EQ(SP_disconnect(bad), ILLEGAL_SESSION);
    SP_kill(bad); /* no effect, no crash */
    free(m);
}

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    watchdog(30);
    version();
    error_texts();
    group_ids();
    unknown_mailbox(-1);
    unknown_mailbox(0); /* stdin: a descriptor, but not a mailbox */
    unknown_mailbox(987654);
    printf("misc: ok\n");
    return 0;
}
