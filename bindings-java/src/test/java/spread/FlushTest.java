package spread;

import static org.junit.jupiter.api.Assertions.*;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** FlushConnection and FlushMessage (Flush Spread, fl.h's semantics) against one real daemon. */
class FlushTest extends WithDaemon {
    private static final Duration QUIET = Duration.ofMillis(300);

    private static FlushConnection connect(String name) throws SpreadException {
        FlushConnection c = new FlushConnection();
        c.connect(daemon.address(), daemon.port, name, false);
        return c;
    }

    private static SpreadMessage message(String group, int level, short type, String text) {
        SpreadMessage m = new SpreadMessage();
        m.setServiceType(level);
        m.addGroup(group);
        m.setType(type);
        m.setData(text.getBytes());
        return m;
    }

    private static SpreadMessage agreed(String group, String text) {
        return message(group, SpreadMessage.AGREED_MESS, (short) 1, text);
    }

    private static FlushMessage next(FlushConnection c) throws SpreadException {
        FlushMessage m = c.receive(Recv.WAIT);
        assertNotNull(m, "no Flush message within " + Recv.WAIT);
        return m;
    }

    private static void quiet(FlushConnection c) throws SpreadException {
        FlushMessage m = c.receive(QUIET);
        assertNull(m, () -> c.getPrivateGroup() + " should get nothing, got " + m);
    }

    private static int code(Executable call) {
        return assertThrows(SpreadException.class, call::run).getCode();
    }

    @FunctionalInterface
    interface Executable {
        void run() throws Exception;
    }

    private static String text(FlushMessage m) {
        return new String(m.getData());
    }

    /** What one connection got until its view: the view, the flush requests it answered, what came before. */
    static final class Got {
        FlushMessage view;
        int flushRequests;
        final List<FlushMessage> before = new ArrayList<>();

        List<String> dataBefore() {
            List<String> texts = new ArrayList<>();
            for (FlushMessage m : before) {
                if (m.isData()) {
                    texts.add(text(m));
                }
            }
            return texts;
        }
    }

    /**
     * Receives on each connection in turn, answering flush requests of
     * {@code group}, until each has a view of it with {@code members} members.
     */
    private static Got[] views(String group, int members, FlushConnection... cs) throws SpreadException {
        Got[] got = new Got[cs.length];
        for (int i = 0; i < cs.length; i++) {
            got[i] = new Got();
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (true) {
            boolean done = true;
            for (int i = 0; i < cs.length; i++) {
                if (got[i].view != null) {
                    continue;
                }
                done = false;
                FlushMessage m = cs[i].receive(Duration.ofMillis(10));
                if (m == null) {
                    continue;
                }
                if (m.isFlushRequest() && m.getGroup().toString().equals(group)) {
                    got[i].flushRequests++;
                    cs[i].flush(m.getGroup());
                } else if (m.isView() && m.getGroup().toString().equals(group) && m.getMembers().length == members) {
                    got[i].view = m;
                    continue;
                }
                got[i].before.add(m);
            }
            if (done) {
                return got;
            }
            assertTrue(System.nanoTime() < deadline, "no view of " + members + " members of " + group + " in 10 s");
        }
    }

    /** Joins the connections to {@code group} one by one, each time until all have the new view. */
    private static Got[] form(String group, FlushConnection... cs) throws SpreadException {
        Got[] got = null;
        for (int n = 1; n <= cs.length; n++) {
            cs[n - 1].join(group);
            got = views(group, n, Arrays.copyOf(cs, n));
        }
        return got;
    }

    private static Set<SpreadGroup> set(SpreadGroup... groups) {
        return new HashSet<>(Arrays.asList(groups));
    }

    @Test
    void aJoinIsAFlushRequestAFlushAndTheSameViewAtEveryMember() throws Exception {
        String g = ConnectionTest.group();
        try (FlushConnection a = connect("fa"); FlushConnection b = connect("fb")) {
            assertEquals("#fa#localhost", a.getPrivateGroup().toString());
            a.join(g);
            Got[] one = views(g, 1, a);
            assertEquals(0, one[0].flushRequests, "a first view needs no consent");
            FlushMessage v1 = one[0].view;
            assertEquals(FlushMessage.Kind.VIEW, v1.getKind());
            assertEquals(g, v1.getGroup().toString());
            assertEquals(g, v1.getSender().toString());
            assertTrue(v1.isCausedByJoin());
            assertFalse(v1.isCausedByLeave() || v1.isCausedByDisconnect() || v1.isCausedByNetwork());
            assertArrayEquals(new SpreadGroup[] {a.getPrivateGroup()}, v1.getMembers());
            assertEquals(0, v1.getMyIndex());
            assertArrayEquals(new SpreadGroup[] {a.getPrivateGroup()}, v1.getVsSet());
            assertNotNull(v1.getGroupID());
            assertEquals(16 + 32, v1.getData().length, "FL_receive's body: id, count, one name");
            assertEquals(SpreadException.ILLEGAL_STATE, code(() -> a.flush(g)), "no flush request pending");
            assertEquals(SpreadException.ILLEGAL_GROUP, code(() -> a.join(g)), "already a member");

            b.join(g);
            FlushMessage request = next(a);
            assertTrue(request.isFlushRequest(), request.toString());
            assertEquals(g, request.getGroup().toString());
            assertEquals(FlushMessage.FLUSH_REQ_MESS, request.getServiceType());
            assertNull(request.getMembers());
            assertNull(request.getMembershipInfo());
            a.flush(request.getGroup());
            assertEquals(SpreadException.ILLEGAL_STATE, code(() -> a.flush(g)), "one flush per request");
            assertEquals(SpreadException.ILLEGAL_STATE, code(() -> a.multicast(agreed(g, "late"))),
                    "no sends between the flush and the view");
            Got[] two = views(g, 2, a, b);
            assertEquals(0, two[1].flushRequests, "the joiner's first view needs no consent");
            FlushMessage va = two[0].view;
            FlushMessage vb = two[1].view;
            assertArrayEquals(va.getMembers(), vb.getMembers(), "the same members in the same order");
            assertEquals(set(a.getPrivateGroup(), b.getPrivateGroup()), set(va.getMembers()));
            assertEquals(a.getPrivateGroup(), va.getMembers()[va.getMyIndex()]);
            assertEquals(b.getPrivateGroup(), vb.getMembers()[vb.getMyIndex()]);
            assertNotEquals(va.getMyIndex(), vb.getMyIndex());
            assertEquals(va.getGroupID(), vb.getGroupID());
            assertNotEquals(v1.getGroupID(), va.getGroupID());
            for (FlushMessage v : new FlushMessage[] {va, vb}) {
                assertTrue(v.isCausedByJoin());
                assertArrayEquals(new SpreadGroup[] {b.getPrivateGroup()}, v.getVsSet());
                MembershipInfo info = v.getMembershipInfo();
                assertTrue(info.isRegularMembership());
                assertEquals(b.getPrivateGroup(), info.getJoined());
                assertEquals(v.getGroupID(), info.getGroupID());
                assertEquals(g, info.getGroup().toString());
            }
            assertEquals(0, a.moreMessages());
        }
    }

    @Test
    void dataIsDeliveredInTheViewItWasSentIn() throws Exception {
        String g = ConnectionTest.group();
        try (FlushConnection a = connect("va"); FlushConnection b = connect("vb"); FlushConnection c = connect("vc")) {
            form(g, a, b);
            a.multicast(message(g, SpreadMessage.AGREED_MESS, (short) 3, "hello"));
            for (FlushConnection x : new FlushConnection[] {a, b}) {
                FlushMessage d = next(x);
                assertTrue(d.isData(), d.toString());
                assertEquals(a.getPrivateGroup(), d.getSender());
                assertEquals(g, d.getGroup().toString());
                assertArrayEquals(new SpreadGroup[] {d.getGroup()}, d.getGroups());
                assertEquals(3, d.getType());
                assertTrue(d.isAgreed());
                assertFalse(d.isSubgroupcast() || d.isSafe());
                assertNull(d.getReceivers());
                assertNull(d.getMembers());
                assertEquals(-1, d.getMyIndex());
                assertFalse(d.getEndianMismatch());
                assertEquals("hello", text(d));
            }

            // c joins; a and b send after their flush request and before their flush:
            // both messages belong to the old view, so a and b deliver them before the
            // new view and c, not in that view, never does.
            c.join(g);
            FlushMessage ra = next(a);
            assertTrue(ra.isFlushRequest(), ra.toString());
            a.multicast(message(g, SpreadMessage.FIFO_MESS, (short) 5, "a in the old view"));
            FlushMessage rb = next(b);
            assertTrue(rb.isFlushRequest(), rb.toString());
            b.multicast(message(g, SpreadMessage.AGREED_MESS, (short) 6, "b in the old view"));
            a.flush(g);
            b.flush(g);
            Got[] three = views(g, 3, a, b, c);
            for (int i = 0; i < 2; i++) {
                assertEquals(set(a.getPrivateGroup(), b.getPrivateGroup(), c.getPrivateGroup()),
                        set(three[i].view.getMembers()));
                assertEquals(Set.of("a in the old view", "b in the old view"), new HashSet<>(three[i].dataBefore()),
                        "member " + i + " delivers the old view's messages before the new view");
            }
            assertEquals(List.of(), three[2].dataBefore(), "the joiner gets nothing of the old view");
            quiet(c);

            // In the new view c gets what is sent.
            c.multicast(message(g, SpreadMessage.SAFE_MESS, (short) 7, "c in the new view"));
            for (FlushConnection x : new FlushConnection[] {a, b, c}) {
                FlushMessage d = next(x);
                assertTrue(d.isData() && d.isSafe(), d.toString());
                assertEquals(c.getPrivateGroup(), d.getSender());
                assertEquals("c in the new view", text(d));
            }
        }
    }

    @Test
    void subgroupcastsAndUnicastsReachOnlyTheirReceivers() throws Exception {
        String g = ConnectionTest.group();
        try (FlushConnection a = connect("sa"); FlushConnection b = connect("sb"); FlushConnection c = connect("sc")) {
            Got[] got = form(g, a, b, c);
            SpreadGroup pa = a.getPrivateGroup();
            SpreadGroup pb = b.getPrivateGroup();
            SpreadGroup pc = c.getPrivateGroup();

            a.unicast(message(g, SpreadMessage.FIFO_MESS, (short) 4, "hi b"), pb);
            FlushMessage d = next(b);
            assertTrue(d.isData() && d.isFifo() && d.isSubgroupcast(), d.toString());
            assertEquals(SpreadMessage.FIFO_MESS | FlushMessage.SUBGROUP_CAST, d.getServiceType());
            assertEquals(pa, d.getSender());
            assertEquals(4, d.getType());
            assertEquals("hi b", text(d));
            assertArrayEquals(new SpreadGroup[] {pb}, d.getReceivers());
            assertEquals(g, d.getGroup().toString());
            assertEquals(List.of(pb.toString(), g), Arrays.stream(d.getGroups()).map(Object::toString).toList());

            a.subgroupcast(message(g, SpreadMessage.CAUSAL_MESS, (short) 5, "hi b and c"),
                    new String[] {pb.toString(), pc.toString()});
            for (FlushConnection x : new FlushConnection[] {b, c}) {
                FlushMessage s = next(x);
                assertTrue(s.isCausal() && s.isSubgroupcast(), s.toString());
                assertEquals("hi b and c", text(s));
                assertArrayEquals(new SpreadGroup[] {pb, pc}, s.getReceivers());
            }

            // Receivers straight from a view.
            SpreadGroup[] members = got[0].view.getMembers();
            SpreadGroup[] others = Arrays.stream(members).filter(m -> !m.equals(pc)).toArray(SpreadGroup[]::new);
            c.subgroupcast(message(g, SpreadMessage.AGREED_MESS, (short) 6, "from c"), others);
            c.unicast(message(g, SpreadMessage.RELIABLE_MESS, (short) 7, "c to a"), pa.toString());
            assertEquals("from c", text(next(b)));
            // RELIABLE is not ordered after the AGREED subgroupcast: either may come first.
            FlushMessage first = next(a);
            FlushMessage second = next(a);
            FlushMessage toA = first.isReliable() ? first : second;
            assertEquals(Set.of("from c", "c to a"), Set.of(text(first), text(second)));
            assertTrue(toA.isReliable() && toA.isSubgroupcast(), toA.toString());
            assertEquals("c to a", text(toA));
            assertArrayEquals(new SpreadGroup[] {pa}, toA.getReceivers());

            // A private group is no Flush group: sent to freely, not a subgroupcast.
            b.multicast(message(pc.toString(), SpreadMessage.AGREED_MESS, (short) 8, "private"));
            FlushMessage p = next(c);
            assertTrue(p.isData() && !p.isSubgroupcast(), p.toString());
            assertEquals(pc, p.getGroup());
            assertEquals(pb, p.getSender());
            assertEquals("private", text(p));

            // Nobody got anything else: not the sender, not the members left out.
            quiet(a);
            quiet(b);
            quiet(c);
        }
    }

    @Test
    void aLeaverGetsItsSelfLeaveAndTheOthersFlushIntoAViewWithoutIt() throws Exception {
        String g = ConnectionTest.group();
        try (FlushConnection a = connect("la"); FlushConnection b = connect("lb"); FlushConnection c = connect("lc")) {
            form(g, a, b, c);
            b.leave(g);
            assertEquals(SpreadException.ILLEGAL_GROUP, code(() -> b.leave(g)), "already leaving");
            FlushMessage left = next(b);
            assertTrue(left.isSelfLeave(), left.toString());
            assertEquals(FlushMessage.Kind.SELF_LEAVE, left.getKind());
            assertEquals(g, left.getGroup().toString());
            assertTrue(left.getMembershipInfo().isSelfLeave());
            assertNull(left.getMembers());
            assertEquals(0, left.getData().length);

            for (FlushConnection x : new FlushConnection[] {a, c}) {
                FlushMessage request = next(x);
                assertTrue(request.isFlushRequest(), request.toString());
                x.flush(request.getGroup());
            }
            Got[] two = views(g, 2, a, c);
            for (Got got : two) {
                FlushMessage v = got.view;
                assertTrue(v.isCausedByLeave(), v.toString());
                assertEquals(set(a.getPrivateGroup(), c.getPrivateGroup()), set(v.getMembers()));
                assertArrayEquals(new SpreadGroup[] {b.getPrivateGroup()}, v.getVsSet());
                assertEquals(b.getPrivateGroup(), v.getMembershipInfo().getLeft());
                assertTrue(got.before.stream().anyMatch(FlushMessage::isTransition),
                        "a transitional signal once b is gone: " + got.before);
                for (FlushMessage m : got.before) {
                    if (m.isTransition()) {
                        assertEquals(g, m.getGroup().toString());
                        assertTrue(m.getMembershipInfo().isTransition());
                    }
                }
            }
            assertEquals(two[0].view.getGroupID(), two[1].view.getGroupID());

            // b is out: a closed group takes nothing from it, and b hears nothing more.
            assertEquals(SpreadException.ILLEGAL_GROUP, code(() -> b.multicast(agreed(g, "out"))));
            assertEquals(SpreadException.ILLEGAL_GROUP, code(() -> b.flush(g)));
            a.multicast(agreed(g, "without b"));
            assertEquals("without b", text(next(c)));
            assertEquals("without b", text(next(a)));
            quiet(b);
        }
    }

    @Test
    void aDisconnectAndAForgottenConnectionGiveViewsCausedByDisconnect() throws Exception {
        String g = ConnectionTest.group();
        try (FlushConnection a = connect("da"); FlushConnection b = connect("db")) {
            form(g, a, b);
            SpreadGroup pb = b.getPrivateGroup();
            b.disconnect();
            FlushMessage v = views(g, 1, a)[0].view;
            assertTrue(v.isCausedByDisconnect(), v.toString());
            assertArrayEquals(new SpreadGroup[] {pb}, v.getVsSet());
            assertEquals(pb, v.getMembershipInfo().getDisconnected());

            SpreadGroup lost = joinAndForget(g, a);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (System.nanoTime() < deadline) {
                System.gc();
                FlushMessage m = a.receive(Duration.ofMillis(200));
                if (m != null && m.isFlushRequest()) {
                    a.flush(m.getGroup());
                } else if (m != null && m.isView() && m.getMembers().length == 1) {
                    assertTrue(m.isCausedByDisconnect(), m.toString());
                    assertArrayEquals(new SpreadGroup[] {lost}, m.getVsSet());
                    return;
                }
            }
            fail("the unreachable Flush connection was never closed");
        }
    }

    /** A third member joins, installs its view of two with a, and is dropped while connected. */
    private static SpreadGroup joinAndForget(String g, FlushConnection a) throws SpreadException {
        FlushConnection c = connect("forgot");
        c.join(g);
        views(g, 2, a, c);
        return c.getPrivateGroup();
    }

    @Test
    void anIdleReceiveWithATimeoutReturnsNull() throws Exception {
        try (FlushConnection a = connect("idle")) {
            long t0 = System.nanoTime();
            assertNull(a.receive(Duration.ofMillis(300)));
            assertTrue(System.nanoTime() - t0 >= TimeUnit.MILLISECONDS.toNanos(250), "it waited");
            assertNull(a.receive(Duration.ZERO));
            assertFalse(a.poll());
            assertEquals(0, a.moreMessages());
            assertEquals(SpreadException.ILLEGAL_TIME, code(() -> a.receive(Duration.ofMillis(-1))));
            assertEquals(SpreadException.ILLEGAL_TIME, code(() -> a.receive(null)));

            // Something sent: poll says so, and a zero timeout takes it.
            String g = ConnectionTest.group();
            a.join(g);
            views(g, 1, a);
            a.multicast(agreed(g, "x"));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (!a.poll()) {
                assertTrue(System.nanoTime() < deadline, "poll never saw the message");
                Thread.sleep(5);
            }
            FlushMessage m = null;
            while (m == null) {
                assertTrue(System.nanoTime() < deadline, "receive(ZERO) never took the message");
                m = a.receive(Duration.ZERO);
            }
            assertEquals("x", text(m));
        }
    }

    @Test
    void badCallsGetFlushSpreadsCodes() throws Exception {
        String g = ConnectionTest.group();
        try (FlushConnection a = connect("ea"); FlushConnection outsider = connect("eb")) {
            // Not joined yet: a closed group refuses everything.
            assertEquals(SpreadException.ILLEGAL_GROUP, code(() -> a.multicast(agreed(g, "x"))));
            assertEquals(SpreadException.ILLEGAL_GROUP, code(() -> a.flush(g)));
            assertEquals(SpreadException.ILLEGAL_GROUP, code(() -> a.leave(g)));
            a.join(g);
            views(g, 1, a);

            assertEquals(SpreadException.ILLEGAL_STATE, code(() -> a.flush(g)));
            assertEquals(-27, SpreadException.ILLEGAL_STATE);
            assertEquals(SpreadException.ILLEGAL_RECEIVERS,
                    code(() -> a.unicast(agreed(g, "x"), outsider.getPrivateGroup())), "connected, not a member");
            assertEquals(SpreadException.ILLEGAL_RECEIVERS, code(() -> a.unicast(agreed(g, "x"), "#nobody#localhost")));
            assertEquals(-28, SpreadException.ILLEGAL_RECEIVERS);
            assertEquals(SpreadException.ILLEGAL_RECEIVERS,
                    code(() -> a.subgroupcast(agreed(g, "x"), new String[] {a.getPrivateGroup().toString(), null})));
            assertEquals(SpreadException.ILLEGAL_RECEIVERS, code(() -> a.subgroupcast(agreed(g, "x"), (String[]) null)));
            assertEquals(SpreadException.ILLEGAL_RECEIVERS,
                    code(() -> a.subgroupcast(agreed(g, "x"), (SpreadGroup[]) null)));
            assertEquals(SpreadException.ILLEGAL_RECEIVERS, code(() -> a.unicast(agreed(g, "x"), "#\u20ac#localhost")));
            assertEquals(SpreadException.ILLEGAL_MESSAGE_TYPE, code(() -> a.multicast(
                    message(g, SpreadMessage.AGREED_MESS, (short) (FlushConnection.MIN_MESSAGE_TYPE - 1), "x"))));
            assertEquals(-26, SpreadException.ILLEGAL_MESSAGE_TYPE);
            assertEquals(SpreadException.ILLEGAL_GROUP, code(() -> a.multicast(agreed("other", "x"))));
            assertEquals(SpreadException.ILLEGAL_GROUP, code(() -> a.flush("other")));
            assertEquals(SpreadException.ILLEGAL_GROUP, code(() -> a.leave("other")));
            assertEquals(SpreadException.ILLEGAL_GROUP, code(() -> a.join("bad name")));
            assertEquals(SpreadException.ILLEGAL_GROUP, code(() -> a.join((String) null)));
            assertEquals(SpreadException.ILLEGAL_GROUP, code(() -> a.flush((SpreadGroup) null)));
            assertEquals(SpreadException.ILLEGAL_MESSAGE, code(() -> a.multicast(null)));
            SpreadMessage noGroup = new SpreadMessage();
            assertEquals(SpreadException.ILLEGAL_GROUP, code(() -> a.multicast(noGroup)));
            SpreadMessage twoGroups = agreed(g, "x");
            twoGroups.addGroup("other");
            assertEquals(SpreadException.ILLEGAL_GROUP, code(() -> a.multicast(twoGroups)));
            assertEquals(SpreadException.ILLEGAL_SERVICE,
                    code(() -> a.multicast(message(g, 0, (short) 1, "no service level"))));

            // The lowest legal type goes through, and nothing refused above was sent.
            a.multicast(message(g, SpreadMessage.AGREED_MESS, FlushConnection.MIN_MESSAGE_TYPE, "lowest"));
            FlushMessage m = next(a);
            assertEquals(FlushConnection.MIN_MESSAGE_TYPE, m.getType());
            assertEquals("lowest", text(m));
            quiet(a);
        }
    }

    @Test
    void useAfterDisconnectIsIllegalSession() throws Exception {
        String g = ConnectionTest.group();
        FlushConnection a = new FlushConnection();
        assertFalse(a.isConnected());
        assertNull(a.getPrivateGroup());
        assertEquals(SpreadException.ILLEGAL_SESSION, code(() -> a.join(g)), "never connected");
        a.connect(daemon.name(), "ua", false);
        assertTrue(a.isConnected());
        assertEquals(SpreadException.ILLEGAL_SESSION, code(() -> a.connect(daemon.name(), "ua2", false)));
        a.join(g);
        views(g, 1, a);
        a.disconnect();
        assertFalse(a.isConnected());
        assertNull(a.getPrivateGroup());
        List<Executable> calls = List.of(() -> a.join(g), () -> a.leave(g), () -> a.flush(g),
                () -> a.multicast(agreed(g, "x")), () -> a.unicast(agreed(g, "x"), "#ua#localhost"),
                () -> a.subgroupcast(agreed(g, "x"), new String[] {"#ua#localhost"}), a::receive,
                () -> a.receive(Duration.ZERO), a::poll, a::moreMessages, a::disconnect);
        for (Executable call : calls) {
            assertEquals(SpreadException.ILLEGAL_SESSION, code(call));
        }
        a.close();
        // The object connects again, under the same name.
        a.connect(daemon.address(), daemon.port, "ua", true);
        assertEquals("#ua#localhost", a.getPrivateGroup().toString());
        a.close();
        a.close();
    }

    @Test
    void connectFormsAndRefusals() throws Exception {
        try (FlushConnection named = new FlushConnection(); FlushConnection anonymous = new FlushConnection();
                FlushConnection unix = new FlushConnection()) {
            named.setConnectTimeout(Duration.ofSeconds(5));
            named.connect(daemon.name(), "cn", false);
            assertEquals("#cn#localhost", named.getPrivateGroup().toString());
            anonymous.connect(null, daemon.port, null, false);
            assertTrue(anonymous.getPrivateGroup().toString().endsWith("#localhost"));
            unix.connect(daemon.dir.resolve(Integer.toString(daemon.port)).toString(), "cu", false);
            assertEquals("#cu#localhost", unix.getPrivateGroup().toString());
            FlushConnection same = new FlushConnection();
            assertEquals(SpreadException.REJECT_NOT_UNIQUE, code(() -> same.connect(daemon.name(), "cn", false)));
            assertFalse(same.isConnected());
        }
        FlushConnection c = new FlushConnection();
        assertEquals(SpreadException.COULD_NOT_CONNECT,
                code(() -> c.connect(daemon.address(), Daemons.freePort(), "x", false)));
        assertEquals(SpreadException.ILLEGAL_SPREAD, code(() -> c.connect(daemon.address(), 70000, "x", false)));
        assertEquals(SpreadException.ILLEGAL_SPREAD, code(() -> c.connect((String) null, "x", false)));
        assertEquals(SpreadException.ILLEGAL_TIME, code(() -> c.setConnectTimeout(Duration.ZERO)));
        assertFalse(c.isConnected());
    }

    @Test
    void aDisconnectFromAnotherThreadEndsABlockedReceive() throws Exception {
        FlushConnection a = connect("blocked");
        AtomicReference<Object> outcome = new AtomicReference<>();
        Thread receiver = new Thread(() -> {
            try {
                outcome.set(a.receive());
            } catch (SpreadException e) {
                outcome.set(e);
            }
        });
        receiver.start();
        Thread.sleep(300);
        assertTrue(receiver.isAlive(), "the receive blocks");
        long t0 = System.nanoTime();
        a.disconnect();
        receiver.join(5000);
        assertFalse(receiver.isAlive(), "disconnect must end the blocked receive");
        assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(2));
        assertTrue(outcome.get() instanceof SpreadException, String.valueOf(outcome.get()));
        int c = ((SpreadException) outcome.get()).getCode();
        assertTrue(c == SpreadException.ILLEGAL_SESSION || c == SpreadException.CONNECTION_CLOSED, "code " + c);
    }

    @Test
    void aMessageSaysWhatItIsFromItsServiceType() {
        assertEquals(FlushMessage.Kind.DATA, FlushMessage.kindOf(SpreadMessage.AGREED_MESS | FlushMessage.SUBGROUP_CAST));
        assertEquals(FlushMessage.Kind.FLUSH_REQUEST, FlushMessage.kindOf(FlushMessage.FLUSH_REQ_MESS));
        assertEquals(FlushMessage.Kind.VIEW,
                FlushMessage.kindOf(SpreadMessage.REG_MEMB_MESS | SpreadMessage.CAUSED_BY_LEAVE));
        assertEquals(FlushMessage.Kind.TRANSITION, FlushMessage.kindOf(SpreadMessage.TRANSITION_MESS));
        assertEquals(FlushMessage.Kind.SELF_LEAVE, FlushMessage.kindOf(SpreadMessage.CAUSED_BY_LEAVE));
        assertEquals(FlushMessage.Kind.REJECT, FlushMessage.kindOf(SpreadMessage.REJECT_MESS | SpreadMessage.AGREED_MESS));
    }
}
