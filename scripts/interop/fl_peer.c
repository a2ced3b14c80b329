/*
 * fl_peer.c -- one member of a Flush Spread group, written against fl.h
 * only, so that the same source builds with Spread 5.0.1's library and
 * with ours (scripts/interop-501-flush.sh runs them together).
 *
 * It joins GROUP, answers every flush request, and once a view of N
 * members is installed sends COUNT AGREED multicasts, a FIFO unicast to
 * each other member and one subgroupcast to all the others. It checks
 * that everything it receives arrives in the view it was sent in (the
 * payload names the sender's view), that unicasts and subgroupcasts name
 * it among their receivers and the group last, and that every view's
 * vs-set is readable at the FL_get_*_offset_memb_mess offsets. When it
 * has everyone's messages it leaves, waits for its self-leave and
 * disconnects.
 *
 *   usage: fl_peer DAEMON USER GROUP N COUNT
 * Prints "done USER: M multicasts, U unicasts, S subgroupcasts" and exits
 * 0, or a reason and exits 1 (after 60 s at the latest).
 */
#include <fl.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_MEMBERS 16
#define MAX_BODY    4096

static void die(const char *what, int code)
{
    printf("fl_peer: %s", what);
    if (code < 0) {
        printf(": ");
        fflush(stdout);
        FL_error(code);
    }
    printf("\n");
    exit(1);
}

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: fl_peer DAEMON USER GROUP N COUNT\n");
        return 2;
    }
    const char *group = argv[3];
    int n = atoi(argv[4]), count = atoi(argv[5]);
    if (n < 1 || n > MAX_MEMBERS || count < 0)
        die("bad N or COUNT", 0);
    alarm(60);

    mailbox mb;
    char me[MAX_GROUP_NAME];
    int ret = FL_connect(argv[1], argv[2], 0, &mb, me);
    if (ret != ACCEPT_SESSION)
        die("FL_connect", ret);
    if ((ret = FL_join(mb, group)) < 0)
        die("FL_join", ret);

    static char members[MAX_MEMBERS][MAX_GROUP_NAME];
    static char body[MAX_BODY];
    char view_id[64] = "";
    int sent = 0, mcasts = 0, unis = 0, subs = 0, left = 0;
    for (;;) {
        service st = 0;
        char sender[MAX_GROUP_NAME];
        int num_groups, endian, more;
        int16 mtype;
        ret = FL_receive(mb, &st, sender, MAX_MEMBERS, &num_groups, members, &mtype, &endian,
                         MAX_BODY - 1, body, &more);
        if (ret < 0)
            die("FL_receive", ret);
        body[ret] = 0;
        if (Is_flush_req_mess(st)) {
            /* After our leave, a request for the group is no longer ours to answer. */
            if ((ret = FL_flush(mb, sender)) < 0 && !left)
                die("FL_flush", ret);
        } else if (Is_reg_memb_mess(st)) {
            group_id gid;
            int num_vs;
            memcpy(&gid, body + FL_get_gid_offset_memb_mess(), sizeof gid);
            memcpy(&num_vs, body + FL_get_num_vs_offset_memb_mess(), sizeof num_vs);
            if (num_vs < 1 || num_vs > num_groups ||
                FL_get_vs_set_offset_memb_mess() + num_vs * MAX_GROUP_NAME != ret)
                die("a view's vs-set does not fit its body", 0);
            if (mtype < 0 || mtype >= num_groups || strcmp(members[mtype], me) != 0)
                die("a view's mess_type is not my index among its members", 0);
            snprintf(view_id, sizeof view_id, "%d.%d.%d", gid.id[0], gid.id[1], gid.id[2]);
            printf("%s: view %s of %d members, vs-set of %d\n", me, view_id, num_groups, num_vs);
            if (num_groups == n && !sent) {
                char text[128];
                for (int i = 0; i < count; i++) {
                    snprintf(text, sizeof text, "%s m %s %d", view_id, me, i);
                    if ((ret = FL_multicast(mb, AGREED_MESS, group, 1, strlen(text), text)) < 0)
                        die("FL_multicast", ret);
                }
                static char others[MAX_MEMBERS][MAX_GROUP_NAME];
                int k = 0;
                for (int i = 0; i < num_groups; i++) {
                    if (strcmp(members[i], me) == 0)
                        continue;
                    memcpy(others[k++], members[i], MAX_GROUP_NAME);
                    snprintf(text, sizeof text, "%s u %s", view_id, me);
                    ret = FL_unicast(mb, FIFO_MESS, group, members[i], 2, strlen(text), text);
                    if (ret < 0)
                        die("FL_unicast", ret);
                }
                if (k > 0) {
                    snprintf(text, sizeof text, "%s s %s", view_id, me);
                    ret = FL_subgroupcast(mb, RELIABLE_MESS, group, k, others, 3, strlen(text),
                                          text);
                    if (ret < 0)
                        die("FL_subgroupcast", ret);
                }
                sent = 1;
            }
        } else if (Is_self_leave(st)) {
            break;
        } else if (Is_regular_mess(st)) {
            if (strncmp(body, view_id, strlen(view_id)) != 0 || body[strlen(view_id)] != ' ')
                die("a message sent in another view", 0);
            char kind = body[strlen(view_id) + 1];
            if (Is_subgroup_mess(st)) {
                int mine = 0;
                for (int i = 0; i + 1 < num_groups; i++)
                    mine |= strcmp(members[i], me) == 0;
                if (!mine || num_groups < 2 || strcmp(members[num_groups - 1], group) != 0)
                    die("a subgroup message that does not name me and the group", 0);
                if (kind == 'u' && mtype == 2)
                    unis++;
                else if (kind == 's' && mtype == 3)
                    subs++;
                else
                    die("a subgroup message of the wrong kind", 0);
            } else if (kind == 'm' && mtype == 1) {
                mcasts++;
            } else {
                die("a multicast of the wrong kind", 0);
            }
        }
        if (!left && mcasts == n * count && unis == n - 1 && subs == n - 1) {
            printf("done %s: %d multicasts, %d unicasts, %d subgroupcasts\n", me, mcasts, unis,
                   subs);
            fflush(stdout);
            if ((ret = FL_leave(mb, group)) < 0)
                die("FL_leave", ret);
            left = 1;
        }
    }
    if ((ret = FL_disconnect(mb)) < 0)
        die("FL_disconnect", ret);
    return 0;
}
