/*
 * sp_func.h -- the SP_ functions of the Spread 5 client API.
 * Include sp.h, not this file.
 */
#ifndef INC_SP_FUNC
#define INC_SP_FUNC

int SP_version(int *major_version, int *minor_version, int *patch_version);

int SP_set_auth_method(const char *auth_name, int (*auth_function)(int, void *), void *auth_data);
int SP_set_auth_methods(int num_methods, const char *auth_name[],
                        int (*auth_function[])(int, void *), void *auth_data[]);
/* Ours (spread-rs): exchanges for the methods of our daemon. PEERCRED has
 * none: SP_set_auth_method("PEERCRED", SP_auth_no_exchange, NULL). SECRET
 * answers the daemon's challenge: SP_set_auth_method("SECRET",
 * SP_auth_secret, &s) with an sp_secret s that outlives SP_connect. */
int SP_auth_no_exchange(int fd, void *auth_data);
int SP_auth_secret(int fd, void *auth_data);
/* Ours (spread-rs): every later SP_connect speaks TLS to the daemon's
 * TlsAddress ("4813@host": its certificate must carry that host, signed
 * by a CA of ca_file), showing cert_file and key_file (both or neither,
 * PEM) to a daemon that asks for a client certificate. NULL ca_file: TLS
 * off. The files are read now; 1, or 0 if one does not read. */
int SP_set_tls(const char *ca_file, const char *cert_file, const char *key_file);

int SP_connect(const char *spread_name, const char *private_name, int priority,
               int group_membership, mailbox *mbox, char *private_group);
int SP_connect_timeout(const char *spread_name, const char *private_name, int priority,
                       int group_membership, mailbox *mbox, char *private_group,
                       sp_time time_out);
int  SP_disconnect(mailbox mbox);
void SP_kill(mailbox mbox);

int SP_join(mailbox mbox, const char *group);
int SP_leave(mailbox mbox, const char *group);

int SP_multicast(mailbox mbox, service service_type, const char *group, int16 mess_type,
                 int mess_len, const char *mess);
int SP_scat_multicast(mailbox mbox, service service_type, const char *group, int16 mess_type,
                      const scatter *scat_mess);
int SP_multigroup_multicast(mailbox mbox, service service_type, int num_groups,
                            const char groups[][MAX_GROUP_NAME], int16 mess_type,
                            int mess_len, const char *mess);
int SP_multigroup_scat_multicast(mailbox mbox, service service_type, int num_groups,
                                 const char groups[][MAX_GROUP_NAME], int16 mess_type,
                                 const scatter *scat_mess);

int SP_receive(mailbox mbox, service *service_type, char sender[MAX_GROUP_NAME],
               int max_groups, int *num_groups, char groups[][MAX_GROUP_NAME],
               int16 *mess_type, int *endian_mismatch, int max_mess_len, char *mess);
int SP_scat_receive(mailbox mbox, service *service_type, char sender[MAX_GROUP_NAME],
                    int max_groups, int *num_groups, char groups[][MAX_GROUP_NAME],
                    int16 *mess_type, int *endian_mismatch, scatter *scat_mess);

/* Membership information from a received membership message's body */
int SP_get_memb_info(const char *memb_mess, const service service_type,
                     membership_info *memb_info);
int SP_get_vs_sets_info(const char *memb_mess, vs_set_info *vs_sets, int num_vs_sets,
                        unsigned int *my_vs_set_index);
int SP_get_vs_set_members(const char *memb_mess, const vs_set_info *vs_set,
                          char member_names[][MAX_GROUP_NAME], int member_names_count);

int SP_scat_get_memb_info(const scatter *memb_mess_scat, const service service_type,
                          membership_info *memb_info);
int SP_scat_get_vs_sets_info(const scatter *memb_mess_scat, vs_set_info *vs_sets,
                             int num_vs_sets, unsigned int *my_vs_set_index);
int SP_scat_get_vs_set_members(const scatter *memb_mess_scat, const vs_set_info *vs_set,
                               char member_names[][MAX_GROUP_NAME], int member_names_count);

int SP_poll(mailbox mbox);

int SP_equal_group_ids(group_id g1, group_id g2);

void        SP_error(int error);
const char *SP_strerror(int error);

#endif /* INC_SP_FUNC */
