/*
 * fl.h -- Flush Spread's client API (view synchrony and closed groups
 * over Spread), for spread-rs's libspread.
 *
 * Source-compatible with Spread 5.0.1's fl.h: the same macros with the
 * same values and the same functions; they live in the same library as
 * the SP_* functions. Written for spread-rs; see README.md.
 */
#ifndef INC_FL
#define INC_FL

#include <sp.h>

/* Service bits of the Flush layer */
#define DONT_BLOCK     0x10000000  /* FL_receive: WOULD_BLOCK instead of waiting */
#define FLUSH_REQ_MESS 0x20000000  /* a view change is pending: call FL_flush */
#define SUBGROUP_CAST  0x40000000  /* sent by FL_unicast / FL_subgroupcast */

#define Is_flush_req_mess(type) (((type) & FLUSH_REQ_MESS) != 0)
#define Is_subgroup_mess(type)  (((type) & SUBGROUP_CAST) != 0)

/* Error codes of the Flush layer (beside sp.h's) */
#define ILLEGAL_PARAM        -24
#define WOULD_BLOCK          -25
#define ILLEGAL_MESSAGE_TYPE -26
#define ILLEGAL_STATE        -27
#define ILLEGAL_RECEIVERS    -28

/* The Flush layer adds one scatter element of its own to each message */
#define FL_MAX_SCATTER_ELEMENTS (MAX_CLIENT_SCATTER_ELEMENTS - 1)

/* Message types below this one are the Flush protocol's */
#define FL_MIN_LEGAL_MESS_TYPE ((int16) -32765)

#ifdef __cplusplus
extern "C" {
#endif

int  FL_lib_init(void);
void FL_version(int *major_ver, int *minor_ver, int *patch_ver);

int  FL_connect(const char *daemon_name, const char *user_name, int priority,
                mailbox *mbox, char *private_name);
int  FL_disconnect(mailbox mbox);

int  FL_join(mailbox mbox, const char *group_name);
int  FL_leave(mailbox mbox, const char *group_name);
int  FL_flush(mailbox mbox, const char *group_name);

int  FL_unicast(mailbox mbox, service serv_type, const char *group_name,
                const char *recvr_name, int16 mess_type, int mess_len,
                const char *mess);
int  FL_scat_unicast(mailbox mbox, service serv_type, const char *group_name,
                     const char *recvr_name, int16 mess_type,
                     const scatter *scat);
int  FL_subgroupcast(mailbox mbox, service serv_type, const char *group_name,
                     int num_recvrs, char recvr_names[][MAX_GROUP_NAME],
                     int16 mess_type, int mess_len, const char *mess);
int  FL_scat_subgroupcast(mailbox mbox, service serv_type,
                          const char *group_name, int num_recvrs,
                          char recvr_names[][MAX_GROUP_NAME], int16 mess_type,
                          const scatter *scat);
int  FL_multicast(mailbox mbox, service serv_type, const char *group_name,
                  int16 mess_type, int mess_len, const char *mess);
int  FL_scat_multicast(mailbox mbox, service serv_type, const char *group_name,
                       int16 mess_type, const scatter *scat_mess);

/* *serv_type is read (DONT_BLOCK, DROP_RECV) and written */
int  FL_receive(mailbox mbox, service *serv_type, char *sender_name,
                int max_groups, int *num_groups,
                char group_names[][MAX_GROUP_NAME], int16 *mess_type,
                int *endian_mismatch, int max_mess_len, char *mess,
                int *more_msgs);
int  FL_scat_receive(mailbox mbox, service *serv_type, char *sender_name,
                     int max_groups, int *num_groups,
                     char group_names[][MAX_GROUP_NAME], int16 *mess_type,
                     int *endian_mismatch, scatter *scat_mess,
                     int *more_msgs);

int  FL_more_msgs(mailbox mbox);
int  FL_poll(mailbox mbox);
void FL_error(int error_code);

/* Layout of a view's body: the group id, the vs-set's size, its names */
int  FL_get_gid_offset_memb_mess(void);
int  FL_get_num_vs_offset_memb_mess(void);
int  FL_get_vs_set_offset_memb_mess(void);

#ifdef __cplusplus
}
#endif

#endif /* INC_FL */
