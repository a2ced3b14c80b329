package spread;

import static org.junit.jupiter.api.Assertions.*;

import java.io.Serializable;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** SpreadConnection, SpreadGroup and MembershipInfo against one real daemon. */
class ConnectionTest extends WithDaemon {
    private static final AtomicInteger SEQ = new AtomicInteger();

    static String group() {
        return "jg" + ProcessHandle.current().pid() + "x" + SEQ.incrementAndGet();
    }

    @Test
    void connectNamesThePrivateGroupAndDisconnectEndsIt() throws Exception {
        SpreadConnection c = new SpreadConnection();
        assertFalse(c.isConnected());
        assertNull(c.getPrivateGroup());
        c.connect(daemon.address(), daemon.port, "alice", false, true);
        assertTrue(c.isConnected());
        assertEquals("#alice#localhost", c.getPrivateGroup().toString());
        SpreadException again = assertThrows(SpreadException.class,
                () -> c.connect(daemon.address(), daemon.port, "alice2", false, true));
        assertEquals(SpreadException.ILLEGAL_SESSION, again.getCode());
        c.disconnect();
        assertFalse(c.isConnected());
        assertNull(c.getPrivateGroup());
        SpreadException twice = assertThrows(SpreadException.class, c::disconnect);
        assertEquals(SpreadException.ILLEGAL_SESSION, twice.getCode());
        // The same object connects again, and the name is free again.
        c.connect(daemon.address(), daemon.port, "alice", true, false);
        assertEquals("#alice#localhost", c.getPrivateGroup().toString());
        c.close();
        c.close();
    }

    @Test
    void theDaemonPicksANameWhenNoneIsGivenAndSpreadNamesWork() throws Exception {
        try (SpreadConnection a = new SpreadConnection(); SpreadConnection b = new SpreadConnection();
                SpreadConnection u = new SpreadConnection()) {
            a.connect(daemon.address(), daemon.port, null, false, false);
            b.connect(daemon.name(), "", false, false);
            u.connect(daemon.dir.resolve(Integer.toString(daemon.port)).toString(), "unixy", false, false);
            assertTrue(a.getPrivateGroup().toString().endsWith("#localhost"));
            assertNotEquals(a.getPrivateGroup(), b.getPrivateGroup());
            assertEquals("#unixy#localhost", u.getPrivateGroup().toString());
            SpreadMessage m = new SpreadMessage();
            m.addGroup(u.getPrivateGroup());
            m.setData(new byte[] {42});
            a.multicast(m);
            SpreadMessage got = Recv.data(u);
            assertEquals(a.getPrivateGroup(), got.getSender());
            assertArrayEquals(new byte[] {42}, got.getData());
        }
    }

    @Test
    @SuppressWarnings("deprecation") // getStayed is part of the API under test
    void joinGivesViewsWithIdsMembersAndMyIndex() throws Exception {
        String g = group();
        try (SpreadConnection a = daemon.connect("ja", true); SpreadConnection b = daemon.connect("jb", true)) {
            SpreadGroup ga = new SpreadGroup();
            ga.join(a, g);
            assertEquals(g, ga.toString());
            SpreadMessage first = Recv.next(a);
            assertTrue(first.isMembership());
            assertFalse(first.isRegular());
            MembershipInfo v1 = first.getMembershipInfo();
            assertTrue(v1.isRegularMembership());
            assertTrue(v1.isCausedByJoin());
            assertFalse(v1.isCausedByLeave() || v1.isCausedByDisconnect() || v1.isCausedByNetwork());
            assertFalse(v1.isTransition() || v1.isSelfLeave());
            assertEquals(g, v1.getGroup().toString());
            assertEquals(g, first.getSender().toString());
            assertArrayEquals(new SpreadGroup[] {a.getPrivateGroup()}, v1.getMembers());
            assertEquals(a.getPrivateGroup(), v1.getJoined());
            assertNull(v1.getLeft());
            assertNull(v1.getDisconnected());
            assertNull(v1.getVirtualSynchronySets());
            assertNull(v1.getMyVirtualSynchronySet());
            assertNull(v1.getStayed());
            assertEquals(0, first.getType(), "my index among the members");
            assertNotNull(v1.getGroupID());

            SpreadGroup gb = new SpreadGroup();
            gb.join(b, g);
            MembershipInfo v2a = Recv.view(a, g);
            MembershipInfo v2b = Recv.view(b, g);
            assertEquals(v2a.getGroupID(), v2b.getGroupID(), "one view, one id");
            assertNotEquals(v1.getGroupID(), v2a.getGroupID());
            assertEquals(Arrays.asList(v2a.getMembers()), Arrays.asList(v2b.getMembers()));
            assertEquals(2, v2a.getMembers().length);
            assertEquals(b.getPrivateGroup(), v2a.getJoined());

            SpreadException twice = assertThrows(SpreadException.class, () -> gb.join(b, g));
            assertTrue(twice.getMessage().contains("Already joined"));

            gb.leave();
            MembershipInfo left = Recv.view(a, g);
            assertTrue(left.isCausedByLeave());
            assertEquals(b.getPrivateGroup(), left.getLeft());
            assertNull(left.getJoined());
            assertNull(left.getDisconnected());
            SpreadMessage self = Recv.next(b);
            while (!self.isMembership() || !self.getMembershipInfo().isSelfLeave()) {
                self = Recv.next(b);
            }
            assertTrue(self.getMembershipInfo().isSelfLeave());
            assertEquals(g, self.getMembershipInfo().getGroup().toString());
            assertNull(self.getMembershipInfo().getMembers());
            assertNull(self.getMembershipInfo().getGroupID());
            SpreadException notJoined = assertThrows(SpreadException.class, gb::leave);
            assertEquals(SpreadException.ILLEGAL_GROUP, notJoined.getCode());

            gb.join(b, g);
            Recv.viewOf(a, g, 2);
            SpreadGroup bPrivate = b.getPrivateGroup();
            b.disconnect();
            MembershipInfo gone = Recv.view(a, g);
            assertTrue(gone.isCausedByDisconnect());
            assertEquals(bPrivate, gone.getDisconnected());
            assertEquals(gone.getDisconnected(), gone.getLeft());
            assertEquals(1, gone.getMembers().length);
        }
    }

    @Test
    void everyServiceTypeIsDeliveredWithTypeDataAndGroups() throws Exception {
        String g = group();
        try (SpreadConnection a = daemon.connect("sa", false); SpreadConnection b = daemon.connect("sb", true)) {
            new SpreadGroup().join(b, g);
            Recv.view(b, g);
            List<SpreadMessage> sent = new ArrayList<>();
            short type = 0;
            for (int i = 0; i < 6; i++) {
                sent.add(new SpreadMessage());
            }
            sent.get(0).setUnreliable();
            sent.get(1).setReliable();
            sent.get(2).setFifo();
            sent.get(3).setCausal();
            sent.get(4).setAgreed();
            sent.get(5).setSafe();
            for (SpreadMessage m : sent) {
                m.addGroup(g);
                m.setType(type);
                m.setData(("body " + type).getBytes());
                type++;
            }
            a.multicast(sent.get(0));
            a.multicast(sent.subList(1, 6).toArray(new SpreadMessage[0]));
            for (int i = 0; i < 6; i++) {
                SpreadMessage m = Recv.data(b);
                assertTrue(m.isIncoming());
                assertEquals(sent.get(i).getServiceType(), m.getServiceType());
                assertEquals(i, m.getType());
                assertEquals("body " + i, new String(m.getData()));
                assertEquals(a.getPrivateGroup(), m.getSender());
                assertArrayEquals(new SpreadGroup[] {new SpreadGroup(null, g)}, m.getGroups());
                assertFalse(m.getEndianMismatch());
                assertNull(m.getMembershipInfo());
            }
        }
    }

    @Test
    void selfDiscardAndMultigroupSends() throws Exception {
        String g1 = group();
        String g2 = group();
        try (SpreadConnection a = daemon.connect("ma", true); SpreadConnection b = daemon.connect("mb", false)) {
            new SpreadGroup().join(a, g1);
            new SpreadGroup().join(b, g2);
            new SpreadGroup().join(a, g2);
            Recv.view(a, g1);
            Recv.viewOf(a, g2, 2);
            SpreadMessage m = new SpreadMessage();
            m.setAgreed();
            m.addGroups(new String[] {g1, g2});
            m.setData("both".getBytes());
            b.multicast(m);
            SpreadMessage atA = Recv.data(a);
            assertEquals("both", new String(atA.getData()));
            assertEquals(2, atA.getGroups().length, "the whole destination list");
            SpreadMessage atB = Recv.data(b);
            assertEquals("both", new String(atB.getData()), "the sender gets its own copy");
            Recv.quiet(a, Duration.ofMillis(200));

            SpreadMessage discard = new SpreadMessage();
            discard.setAgreed();
            discard.setSelfDiscard(true);
            discard.addGroup(g2);
            discard.setData("not to me".getBytes());
            b.multicast(discard);
            SpreadMessage d = Recv.data(a);
            assertTrue(d.isSelfDiscard());
            Recv.quiet(b, Duration.ofMillis(300));
        }
    }

    @Test
    void receiveManyPollAndTimeouts() throws Exception {
        String g = group();
        try (SpreadConnection a = daemon.connect("pa", false)) {
            new SpreadGroup().join(a, g);
            assertNull(a.receive(Duration.ofMillis(100)));
            assertNull(a.receive(Duration.ZERO));
            assertFalse(a.poll());
            SpreadMessage m = new SpreadMessage();
            m.addGroup(g);
            for (int i = 0; i < 3; i++) {
                m.setType((short) i);
                a.multicast(m);
            }
            long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
            while (!a.poll() && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            assertTrue(a.poll());
            SpreadMessage[] three = a.receive(3);
            assertEquals(3, three.length);
            for (int i = 0; i < 3; i++) {
                assertEquals(i, three[i].getType());
            }
            assertEquals(0, a.receive(0).length);
            SpreadException neg = assertThrows(SpreadException.class, () -> a.receive(-1));
            assertEquals(SpreadException.ILLEGAL_MESSAGE, neg.getCode());
            SpreadException t = assertThrows(SpreadException.class, () -> a.receive(Duration.ofMillis(-1)));
            assertEquals(SpreadException.ILLEGAL_TIME, t.getCode());
            assertThrows(SpreadException.class, () -> a.receive((Duration) null));
        }
    }

    @Test
    void hundredKilobyteMessagesArriveWhole() throws Exception {
        String g = group();
        try (SpreadConnection a = daemon.connect("big", false); SpreadConnection b = daemon.connect("big2", true)) {
            new SpreadGroup().join(b, g);
            Recv.view(b, g);
            byte[] body = new byte[100 * 1024];
            for (int i = 0; i < body.length; i++) {
                body[i] = (byte) (i * 31 + 7);
            }
            for (int round = 0; round < 5; round++) {
                SpreadMessage m = new SpreadMessage();
                m.setSafe();
                m.addGroup(g);
                body[0] = (byte) round;
                m.setData(body);
                a.multicast(m);
            }
            for (int round = 0; round < 5; round++) {
                SpreadMessage got = Recv.data(b);
                body[0] = (byte) round;
                assertArrayEquals(body, got.getData());
            }
            SpreadMessage tooBig = new SpreadMessage();
            tooBig.addGroup(g);
            tooBig.setData(new byte[200 * 1024]);
            SpreadException e = assertThrows(SpreadException.class, () -> a.multicast(tooBig));
            assertEquals(SpreadException.MESSAGE_TOO_LONG, e.getCode());
            assertTrue(e.getMessage().contains("too long"), e.getMessage());
            assertTrue(a.isConnected(), "a refused send leaves the connection working");
        }
    }

    @Test
    void objectsAndDigestsTravelAsSerializedJava() throws Exception {
        String g = group();
        try (SpreadConnection a = daemon.connect("oa", false)) {
            new SpreadGroup().join(a, g);
            ArrayList<Serializable> value = new ArrayList<>(Arrays.asList("text", 17, new int[] {1, 2}));
            SpreadMessage m = new SpreadMessage();
            m.addGroup(g);
            m.setObject(value);
            a.multicast(m);
            Object back = Recv.data(a).getObject();
            assertTrue(back instanceof ArrayList);
            List<?> list = (List<?>) back;
            assertEquals("text", list.get(0));
            assertEquals(17, list.get(1));
            assertArrayEquals(new int[] {1, 2}, (int[]) list.get(2));

            SpreadMessage d = new SpreadMessage();
            d.addGroup(g);
            d.digest("first");
            d.digest(2.5);
            a.multicast(d);
            assertEquals(Arrays.asList("first", 2.5), Recv.data(a).getDigest());
        }
    }

    @Test
    void aSpreadProgramWithTryWithResources() throws Exception {
        String g = group();
        SpreadConnection kept;
        try (SpreadConnection c = new SpreadConnection()) {
            kept = c;
            c.connect(daemon.address(), daemon.port, "twr", false, false);
            new SpreadGroup().join(c, g);
            SpreadMessage m = new SpreadMessage();
            m.addGroup(g);
            m.setData("x".getBytes());
            c.multicast(m);
            assertEquals("x", new String(Recv.data(c).getData()));
        }
        assertFalse(kept.isConnected());
    }

    /** Authentication by a class that counts its calls, or refuses. */
    public static final class CountingAuth implements SpreadAuthInterface {
        static final AtomicInteger CALLS = new AtomicInteger();

        @Override
        public void authenticate() {
            CALLS.incrementAndGet();
        }
    }

    public static final class RefusingAuth implements SpreadAuthInterface {
        @Override
        public void authenticate() throws SpreadException {
            throw new SpreadException("no");
        }
    }

    @Test
    void registeredAuthenticationRunsOrRefuses() throws Exception {
        SpreadConnection c = new SpreadConnection();
        c.registerAuthentication("NULL", CountingAuth.class.getName());
        int before = CountingAuth.CALLS.get();
        c.connect(daemon.address(), daemon.port, "auth1", false, false);
        assertEquals(before + 1, CountingAuth.CALLS.get());
        SpreadException connected = assertThrows(SpreadException.class,
                () -> c.registerAuthentication("NULL", NULLAuth.class.getName()));
        assertEquals(SpreadException.ILLEGAL_SESSION, connected.getCode());
        c.disconnect();

        SpreadConnection r = new SpreadConnection();
        r.registerAuthentication("NULL", RefusingAuth.class.getName());
        SpreadException refused = assertThrows(SpreadException.class,
                () -> r.connect(daemon.address(), daemon.port, "auth2", false, false));
        assertEquals(SpreadException.REJECT_AUTH, refused.getCode());
        assertFalse(r.isConnected());

        SpreadConnection u = new SpreadConnection();
        u.registerAuthentication("NULL", "no.such.AuthClass");
        SpreadException missing = assertThrows(SpreadException.class,
                () -> u.connect(daemon.address(), daemon.port, "auth3", false, false));
        assertEquals(SpreadException.REJECT_AUTH, missing.getCode());
        assertTrue(missing.getMessage().contains("no.such.AuthClass"), missing.getMessage());

        SpreadConnection k = new SpreadConnection();
        k.registerAuthentication("KERBEROS", NULLAuth.class.getName());
        SpreadException notOffered = assertThrows(SpreadException.class,
                () -> k.connect(daemon.address(), daemon.port, "auth4", false, false));
        assertEquals(SpreadException.REJECT_AUTH, notOffered.getCode());
        assertTrue(notOffered.getMessage().contains("KERBEROS"), notOffered.getMessage());
        assertThrows(SpreadException.class, () -> k.registerAuthentication(null, "x"));
    }

    @Test
    void aForgottenConnectionIsClosedByTheGarbageCollector() throws Exception {
        String g = group();
        try (SpreadConnection watcher = daemon.connect("watch", true)) {
            new SpreadGroup().join(watcher, g);
            Recv.view(watcher, g);
            SpreadGroup lost = joinAndForget(g);
            Recv.viewOf(watcher, g, 2);
            long deadline = System.nanoTime() + 20_000_000_000L;
            while (System.nanoTime() < deadline) {
                System.gc();
                SpreadMessage m = watcher.receive(java.time.Duration.ofMillis(200));
                if (m != null && m.isMembership() && m.getMembershipInfo().isCausedByDisconnect()) {
                    assertEquals(lost, m.getMembershipInfo().getDisconnected());
                    return;
                }
            }
            fail("the unreachable connection was never closed");
        }
    }

    private static SpreadGroup joinAndForget(String g) throws SpreadException {
        SpreadConnection c = daemon.connect("forgot", true);
        new SpreadGroup().join(c, g);
        return c.getPrivateGroup();
    }
}
