/*
 * daemon_death.c -- what the calls return when the daemon goes away
 * (client-protocol.md §8.1, §8.2): the first failing receive or send is
 * CONNECTION_CLOSED, later calls NET_ERROR_ON_SESSION, SP_disconnect
 * still closes the mailbox, then ILLEGAL_SESSION; a receive blocked at
 * the time returns CONNECTION_CLOSED; a new connection COULD_NOT_CONNECT.
 *
 * The runner kills the daemon between two steps: the program prints
 * "ready" and waits for a line on stdin, sent once the daemon is dead.
 *
 *   usage: daemon_death DAEMON
 */
#include "check.h"

#include <pthread.h>
#include <stdatomic.h>

static mailbox blocked_mbox;
static atomic_int blocked_result = 12345;

static void *blocked_receive(void *arg)
{
    message *m = malloc(sizeof *m);
    (void)arg;
    CHECK(m != NULL);
    m->service_type = 0;
    atomic_store(&blocked_result,
                 SP_receive(blocked_mbox, &m->service_type, m->sender, MAX_TEST_GROUPS,
                            &m->num_groups, m->groups, &m->mess_type, &m->endian_mismatch,
                            MAX_TEST_BODY, m->body));
    free(m);
    return NULL;
}

int main(int argc, char **argv)
{
    mailbox rcv, snd;
    char pg[MAX_GROUP_NAME], line[16];
    message *m = malloc(sizeof *m);
    pthread_t t;
    int r = 0, tries;

    if (argc < 2) {
        fprintf(stderr, "usage: %s DAEMON\n", argv[0]);
        return 2;
    }
    CHECK(m != NULL);
    watchdog(30);
    CONNECT(argv[1], "rcv", 1, &rcv, pg);
    CONNECT(argv[1], "snd", 1, &snd, pg);
    CONNECT(argv[1], "blk", 1, &blocked_mbox, pg);
    CHECK_EQ(SP_join(rcv, "g"), 0);
    EXPECT_MEMB(rcv, m, "g", CAUSED_BY_JOIN, 1);
    CHECK_EQ(pthread_create(&t, NULL, blocked_receive, NULL), 0);

    printf("ready\n");
    fflush(stdout);
    CHECK(fgets(line, sizeof line, stdin) != NULL); /* the daemon is dead now */

    /* The blocked receive fails. */
    CHECK_EQ(pthread_join(t, NULL), 0);
    CHECK_EQ(atomic_load(&blocked_result), CONNECTION_CLOSED);

    /* Receive: CONNECTION_CLOSED once, then NET_ERROR_ON_SESSION. */
    m->service_type = 0;
    r = SP_receive(rcv, &m->service_type, m->sender, MAX_TEST_GROUPS, &m->num_groups, m->groups,
                   &m->mess_type, &m->endian_mismatch, MAX_TEST_BODY, m->body);
    CHECK_EQ(r, CONNECTION_CLOSED);
    m->service_type = 0;
    r = SP_receive(rcv, &m->service_type, m->sender, MAX_TEST_GROUPS, &m->num_groups, m->groups,
                   &m->mess_type, &m->endian_mismatch, MAX_TEST_BODY, m->body);
    CHECK_EQ(r, NET_ERROR_ON_SESSION);
    CHECK_EQ(SP_multicast(rcv, AGREED_MESS, "g", 0, 2, "hi"), NET_ERROR_ON_SESSION);
    CHECK_EQ(SP_join(rcv, "h"), NET_ERROR_ON_SESSION);
    CHECK(SP_poll(rcv) != ILLEGAL_SESSION); /* still a mailbox until closed */
    CHECK_EQ(SP_disconnect(rcv), 0);
    CHECK_EQ(SP_poll(rcv), ILLEGAL_SESSION);
    CHECK_EQ(SP_join(rcv, "g"), ILLEGAL_SESSION);

    /* Send: the first sends may still go into the socket buffer; the
     * first failure is CONNECTION_CLOSED, the next NET_ERROR_ON_SESSION. */
    for (tries = 0; tries < 1000; tries++) {
        r = SP_multicast(snd, AGREED_MESS, "g", 0, 1000, m->body);
        if (r < 0)
            break;
        sleep_ms(1);
    }
    CHECK_EQ(r, CONNECTION_CLOSED);
    CHECK_EQ(SP_multicast(snd, AGREED_MESS, "g", 0, 10, m->body), NET_ERROR_ON_SESSION);
    SP_kill(snd);
    CHECK_EQ(SP_multicast(snd, AGREED_MESS, "g", 0, 10, m->body), ILLEGAL_SESSION);

    CHECK_EQ(SP_disconnect(blocked_mbox), 0);

    /* Nobody answers any more. */
    CHECK_EQ(SP_connect(argv[1], "late", 0, 1, &rcv, pg), COULD_NOT_CONNECT);
    free(m);
    printf("daemon_death: ok\n");
    return 0;
}
