/*
 * sp.h -- the Spread 5 client API, for spread-rs's libspread.
 *
 * Source-compatible with Spread 5.0.1: the same macros with the same
 * values, the same types with the same layouts, the same functions.
 * Written for spread-rs; see README.md.
 */
#ifndef INC_SP
#define INC_SP

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define int16 short
#define int32 int

#define Flip_int16(v) ((((v) >> 8) & 0x00ff) | (((v) << 8) & 0xff00))
#define Flip_int32(v) ((((v) >> 24) & 0x000000ff) | (((v) >> 8) & 0x0000ff00) | \
                       (((v) << 8) & 0x00ff0000) | (((v) << 24) & 0xff000000))

/* SP_connect priorities (only "at least MEDIUM" reaches the daemon) */
#define LOW_PRIORITY    0
#define MEDIUM_PRIORITY 1
#define HIGH_PRIORITY   2

#define DEFAULT_SPREAD_PORT 4803
#define SPREAD_VERSION ((5 << 24) | (0 << 16) | 1)

#define MAX_GROUP_NAME   32 /* every name field: 31 bytes and a NUL */
#define MAX_PRIVATE_NAME 10 /* longest private name SP_connect sends */
#define MAX_PROC_NAME    20 /* longest daemon name, NUL included */

/* Service types */
#define UNRELIABLE_MESS 0x00000001
#define RELIABLE_MESS   0x00000002
#define FIFO_MESS       0x00000004
#define CAUSAL_MESS     0x00000008
#define AGREED_MESS     0x00000010
#define SAFE_MESS       0x00000020
#define REGULAR_MESS    0x0000003f

#define SELF_DISCARD 0x00000040
#define DROP_RECV    0x01000000

/* Membership messages */
#define REG_MEMB_MESS        0x00001000
#define TRANSITION_MESS      0x00002000
#define CAUSED_BY_JOIN       0x00000100
#define CAUSED_BY_LEAVE      0x00000200
#define CAUSED_BY_DISCONNECT 0x00000400
#define CAUSED_BY_NETWORK    0x00000800
#define MEMBERSHIP_MESS      0x00003f00

#define ENDIAN_RESERVED 0x80000080
#define RESERVED        0x003fc000
#define REJECT_MESS     0x00400000

#define Is_unreliable_mess(type) ((type) & UNRELIABLE_MESS)
#define Is_reliable_mess(type)   ((type) & RELIABLE_MESS)
#define Is_fifo_mess(type)       ((type) & FIFO_MESS)
#define Is_causal_mess(type)     ((type) & CAUSAL_MESS)
#define Is_agreed_mess(type)     ((type) & AGREED_MESS)
#define Is_safe_mess(type)       ((type) & SAFE_MESS)
#define Is_regular_mess(type)    (((type) & REGULAR_MESS) && !((type) & REJECT_MESS))

#define Is_self_discard(type) ((type) & SELF_DISCARD)

#define Is_reg_memb_mess(type)          ((type) & REG_MEMB_MESS)
#define Is_transition_mess(type)        ((type) & TRANSITION_MESS)
#define Is_caused_join_mess(type)       ((type) & CAUSED_BY_JOIN)
#define Is_caused_leave_mess(type)      ((type) & CAUSED_BY_LEAVE)
#define Is_caused_disconnect_mess(type) ((type) & CAUSED_BY_DISCONNECT)
#define Is_caused_network_mess(type)    ((type) & CAUSED_BY_NETWORK)
#define Is_membership_mess(type)        (((type) & MEMBERSHIP_MESS) && !((type) & REJECT_MESS))

#define Is_reject_mess(type) ((type) & REJECT_MESS)

#define Is_self_leave(type) (((type) & CAUSED_BY_LEAVE) && !((type) & (REG_MEMB_MESS | TRANSITION_MESS)))

/* Results and errors */
#define ACCEPT_SESSION        1
#define ILLEGAL_SPREAD       -1
#define COULD_NOT_CONNECT    -2
#define REJECT_QUOTA         -3
#define REJECT_NO_NAME       -4
#define REJECT_ILLEGAL_NAME  -5
#define REJECT_NOT_UNIQUE    -6
#define REJECT_VERSION       -7
#define CONNECTION_CLOSED    -8
#define REJECT_AUTH          -9

#define ILLEGAL_SESSION      -11
#define ILLEGAL_SERVICE      -12
#define ILLEGAL_MESSAGE      -13
#define ILLEGAL_GROUP        -14
#define BUFFER_TOO_SHORT     -15
#define GROUPS_TOO_SHORT     -16
#define MESSAGE_TOO_LONG     -17
#define NET_ERROR_ON_SESSION -18
#define SP_BUG               -19
#define ILLEGAL_TIME         -20

#define MAX_CLIENT_SCATTER_ELEMENTS 100

typedef int mailbox;
typedef int service;

typedef struct dummy_scat_element {
    char  *buf;
    size_t len;
} scat_element;

typedef struct dummy_scatter {
    size_t       num_elements;
    scat_element elements[MAX_CLIENT_SCATTER_ELEMENTS];
} scatter;

typedef struct dummy_group_id {
    int32 id[3];
} group_id;

typedef struct dummy_vs_set_info {
    unsigned int num_members;
    unsigned int members_offset; /* from the start of the message body */
} vs_set_info;

typedef struct dummy_membership_info {
    group_id     gid;
    char         changed_member[MAX_GROUP_NAME]; /* join, leave, disconnect only */
    unsigned int num_vs_sets;
    vs_set_info  my_vs_set;
} membership_info;

/* Ours (spread-rs): the SECRET method's data for SP_auth_secret. The
 * identity is the name the daemon's AuthSecretFile knows the secret by
 * (1 to 64 letters, digits, '.', '_', '-', '@'); the secret never
 * crosses the wire (the daemon's challenge is answered with an HMAC). */
typedef struct dummy_sp_secret {
    const char *identity;
    const void *secret;
    int         secret_len;
} sp_secret;

#include "sp_events.h"
#include "sp_func.h"

#ifdef __cplusplus
}
#endif

#endif /* INC_SP */
