package spread;

import static org.junit.jupiter.api.Assertions.*;

import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** What members see when one of three daemons dies. */
class RingTest {
    @Test
    @SuppressWarnings("deprecation") // getStayed is part of the API under test
    void aKilledDaemonsMembersLeaveByANetworkView() throws Exception {
        try (Daemons.Ring ring = new Daemons.Ring(3)) {
            String g = ConnectionTest.group();
            SpreadConnection[] c = new SpreadConnection[3];
            try {
                for (int i = 0; i < 3; i++) {
                    c[i] = ring.connect(i + 1, "r" + (i + 1));
                    new SpreadGroup().join(c[i], g);
                }
                for (int i = 0; i < 3; i++) {
                    MembershipInfo full = Recv.viewOf(c[i], g, 3);
                    assertEquals(3, full.getMembers().length);
                }
                SpreadGroup gone = c[2].getPrivateGroup();
                ring.kill9(3);
                MembershipInfo[] after = new MembershipInfo[2];
                for (int i = 0; i < 2; i++) {
                    boolean sawTransition = false;
                    while (true) {
                        SpreadMessage m = Recv.next(c[i]);
                        assertTrue(m.isMembership(), () -> "unexpected " + Recv.describe(m));
                        MembershipInfo info = m.getMembershipInfo();
                        if (info.isTransition()) {
                            sawTransition = true;
                            assertEquals(g, info.getGroup().toString());
                            assertFalse(info.isRegularMembership());
                            assertNull(info.getMembers());
                            continue;
                        }
                        assertTrue(sawTransition, "a transitional signal comes before the network view");
                        after[i] = info;
                        break;
                    }
                }
                for (int i = 0; i < 2; i++) {
                    MembershipInfo v = after[i];
                    assertTrue(v.isRegularMembership(), ring::logs);
                    assertTrue(v.isCausedByNetwork());
                    assertFalse(v.isCausedByJoin() || v.isCausedByLeave() || v.isCausedByDisconnect());
                    Set<SpreadGroup> members = new HashSet<>(Arrays.asList(v.getMembers()));
                    assertEquals(Set.of(c[0].getPrivateGroup(), c[1].getPrivateGroup()), members);
                    assertFalse(members.contains(gone));
                    assertNull(v.getJoined());
                    assertNull(v.getLeft());
                    MembershipInfo.VirtualSynchronySet[] sets = v.getVirtualSynchronySets();
                    assertNotNull(sets);
                    assertEquals(1, sets.length, "both survivors came from the same view");
                    MembershipInfo.VirtualSynchronySet mine = v.getMyVirtualSynchronySet();
                    assertSame(sets[0], mine);
                    assertEquals(2, mine.getSize());
                    assertEquals(2, mine.getCapacity());
                    assertEquals(members, new HashSet<>(Arrays.asList(mine.getMembers())));
                    assertArrayEquals(mine.getMembers(), v.getStayed());
                }
                assertEquals(after[0].getGroupID(), after[1].getGroupID(), "one view, one id at both");

                SpreadMessage m = new SpreadMessage();
                m.setAgreed();
                m.addGroup(g);
                m.setData("after".getBytes());
                c[0].multicast(m);
                assertEquals("after", new String(Recv.data(c[1]).getData()), "the ring of two goes on");
            } finally {
                for (SpreadConnection conn : c) {
                    if (conn != null) {
                        conn.close();
                    }
                }
            }
        }
    }
}
