/*
 * check.h -- the tiny assertion kit of the libspread C test programs.
 *
 * A failed check prints "FAIL: file:line: what" on stderr and exits 1.
 * Every program also arms a watchdog, so a hang fails with a message
 * instead of waiting for the runner's kill.
 *
 * Helpers are static inline so that programs using only some of them
 * still compile with -Wall -Wextra -Werror.
 */
#ifndef C_SUITE_CHECK_H
#define C_SUITE_CHECK_H

#define _POSIX_C_SOURCE 200809L

#include <sp.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define FAIL_AT(file, line, ...)                            \
    do {                                                    \
        fflush(stdout);                                     \
        fprintf(stderr, "FAIL: %s:%d: ", (file), (line));   \
        fprintf(stderr, __VA_ARGS__);                       \
        fprintf(stderr, "\n");                              \
        exit(1);                                            \
    } while (0)

#define FAIL(...) FAIL_AT(__FILE__, __LINE__, __VA_ARGS__)

#define CHECK(cond)                                \
    do {                                           \
        if (!(cond))                               \
            FAIL("%s", #cond);                     \
    } while (0)

/* Integer equality; both sides are evaluated once. */
#define CHECK_EQ(got, want)                                                  \
    do {                                                                     \
        long long got_ = (long long)(got), want_ = (long long)(want);        \
        if (got_ != want_)                                                   \
            FAIL("%s == %s: got %lld, expected %lld", #got, #want, got_, want_); \
    } while (0)

/* A name field (up to MAX_GROUP_NAME bytes, NUL-terminated or full)
 * equal to a C string. */
#define CHECK_NAME(field, want)                                              \
    do {                                                                     \
        const char *f_ = (field), *w_ = (want);                              \
        if (strnlen(f_, MAX_GROUP_NAME) != strlen(w_) ||                     \
            strncmp(f_, w_, MAX_GROUP_NAME) != 0)                            \
            FAIL("%s == \"%s\": got \"%.*s\"", #field, w_, MAX_GROUP_NAME, f_); \
    } while (0)

static inline void watchdog_fired(int sig)
{
    static const char text[] = "FAIL: watchdog: the program took too long (hang?)\n";
    (void)sig;
    if (write(2, text, sizeof text - 1) < 0) {
        /* nothing more to do */
    }
    _exit(1);
}

/* Fails the program if it is still running after `secs` seconds. */
static inline void watchdog(unsigned secs)
{
    signal(SIGALRM, watchdog_fired);
    alarm(secs);
}

static inline long long now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static inline void sleep_ms(int ms)
{
    struct timespec t = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

/* Waits until SP_poll reports at least `bytes` bytes (1 = anything);
 * returns the last SP_poll result (0 if nothing came in time). */
static inline int wait_bytes(mailbox mbox, int bytes, int timeout_ms)
{
    long long end = now_ms() + timeout_ms;
    int n;
    while ((n = SP_poll(mbox)) >= 0 && n < bytes && now_ms() < end)
        sleep_ms(1);
    return n;
}

static inline void connect_at(const char *daemon, const char *name, int membership,
                              mailbox *mbox, char *pg, const char *file, int line)
{
    int r = SP_connect(daemon, name, 0, membership, mbox, pg);
    if (r != ACCEPT_SESSION)
        FAIL_AT(file, line, "SP_connect(%s, %s): %d (%s)", daemon, name ? name : "NULL", r,
                SP_strerror(r));
}
/* Connects or fails the program. */
#define CONNECT(daemon, name, membership, mbox, pg) \
    connect_at((daemon), (name), (membership), (mbox), (pg), __FILE__, __LINE__)

/* Everything SP_receive returns, with room for any message. */
#define MAX_TEST_GROUPS 100
#define MAX_TEST_BODY   150000
typedef struct {
    int      ret;
    service  service_type;
    char     sender[MAX_GROUP_NAME];
    int      num_groups;
    char     groups[MAX_TEST_GROUPS][MAX_GROUP_NAME];
    int16    mess_type;
    int      endian_mismatch;
    char     body[MAX_TEST_BODY];
} message;

/* Receives one message with ample buffers, failing if none starts
 * arriving within 10 s or the call fails. */
static inline void recv_at(mailbox mbox, message *m, const char *file, int line)
{
    if (wait_bytes(mbox, 1, 10000) <= 0)
        FAIL_AT(file, line, "no message on mailbox %d within 10 s", mbox);
    m->service_type = 0;
    m->ret = SP_receive(mbox, &m->service_type, m->sender, MAX_TEST_GROUPS, &m->num_groups,
                        m->groups, &m->mess_type, &m->endian_mismatch, MAX_TEST_BODY, m->body);
    if (m->ret < 0)
        FAIL_AT(file, line, "SP_receive on %d: %d (%s)", mbox, m->ret, SP_strerror(m->ret));
}
#define RECV(mbox, m) recv_at((mbox), (m), __FILE__, __LINE__)

/* Nothing arrives on the mailbox for `ms` milliseconds. */
#define CHECK_QUIET(mbox, ms)                                                \
    do {                                                                     \
        int n_ = wait_bytes((mbox), 1, (ms));                                \
        if (n_ != 0)                                                         \
            FAIL("mailbox %d should stay quiet, SP_poll = %d", (mbox), n_);  \
    } while (0)

/* Receives a regular membership message of `group` caused by `cause`
 * with `members` members. */
static inline void expect_memb_at(mailbox mbox, message *m, const char *group, int cause,
                                  int members, const char *file, int line)
{
    recv_at(mbox, m, file, line);
    if (!Is_reg_memb_mess(m->service_type) || !(m->service_type & cause))
        FAIL_AT(file, line, "expected a membership (cause 0x%x) of %s, got service 0x%x from %.32s",
                cause, group, m->service_type, m->sender);
    if (strncmp(m->sender, group, MAX_GROUP_NAME) != 0)
        FAIL_AT(file, line, "membership of \"%.32s\", expected %s", m->sender, group);
    if (m->num_groups != members)
        FAIL_AT(file, line, "membership of %s with %d members, expected %d", group,
                m->num_groups, members);
}
#define EXPECT_MEMB(mbox, m, group, cause, members) \
    expect_memb_at((mbox), (m), (group), (cause), (members), __FILE__, __LINE__)

#endif /* C_SUITE_CHECK_H */
