/*
 * layout.c -- prints the size, alignment and field offsets of every struct
 * of sp.h and sp_events.h, one "name value" per line; the Rust test
 * (ffi-c/tests/c_suite.rs) compares them with the #[repr(C)] types of
 * spread::types.
 *
 *   usage: layout [DAEMON]   (the daemon is not used)
 */
#include "check.h"

#include <stdalign.h>

#define SIZE(type)         printf("%s.size %zu\n%s.align %zu\n", #type, sizeof(type), #type, alignof(type))
#define FIELD(type, field) printf("%s.%s %zu\n", #type, #field, offsetof(type, field))

int main(void)
{
    SIZE(scat_element);
    FIELD(scat_element, buf);
    FIELD(scat_element, len);

    SIZE(scatter);
    FIELD(scatter, num_elements);
    FIELD(scatter, elements);

    SIZE(group_id);
    FIELD(group_id, id);

    SIZE(vs_set_info);
    FIELD(vs_set_info, num_members);
    FIELD(vs_set_info, members_offset);

    SIZE(membership_info);
    FIELD(membership_info, gid);
    FIELD(membership_info, changed_member);
    FIELD(membership_info, num_vs_sets);
    FIELD(membership_info, my_vs_set);
    SIZE(sp_secret);
    FIELD(sp_secret, identity);
    FIELD(sp_secret, secret);
    FIELD(sp_secret, secret_len);

    SIZE(sp_time);
    FIELD(sp_time, sec);
    FIELD(sp_time, usec);

    /* The scalar types the API is written in. */
    printf("mailbox.size %zu\n", sizeof(mailbox));
    printf("service.size %zu\n", sizeof(service));
    printf("int16.size %zu\n", sizeof(int16));
    return 0;
}
