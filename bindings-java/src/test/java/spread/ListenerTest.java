package spread;

import static org.junit.jupiter.api.Assertions.*;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** Basic and advanced listeners and their thread. */
class ListenerTest extends WithDaemon {

    private static SpreadMessage take(BlockingQueue<SpreadMessage> q) throws InterruptedException {
        SpreadMessage m = q.poll(10, TimeUnit.SECONDS);
        assertNotNull(m, "the listener got nothing within 10 s");
        return m;
    }

    private static void send(SpreadConnection c, String g, short type) throws SpreadException {
        SpreadMessage m = new SpreadMessage();
        m.addGroup(g);
        m.setType(type);
        c.multicast(m);
    }

    @Test
    void basicListenersGetEverythingOnADaemonThread() throws Exception {
        String g = ConnectionTest.group();
        BlockingQueue<SpreadMessage> got = new LinkedBlockingQueue<>();
        AtomicReference<Thread> thread = new AtomicReference<>();
        try (SpreadConnection c = daemon.connect("lb", true)) {
            BasicMessageListener l = m -> {
                thread.set(Thread.currentThread());
                got.add(m);
            };
            c.add(l);
            new SpreadGroup().join(c, g);
            assertTrue(take(got).isMembership());
            send(c, g, (short) 5);
            SpreadMessage m = take(got);
            assertTrue(m.isRegular());
            assertEquals(5, m.getType());
            assertTrue(thread.get().isDaemon(), "the listener thread must not keep the JVM alive");
            assertNotSame(Thread.currentThread(), thread.get());
            SpreadException busy = assertThrows(SpreadException.class, c::receive);
            assertTrue(busy.getMessage().contains("listeners"));
            assertThrows(SpreadException.class, () -> c.receive(Duration.ZERO));
            c.remove(l);
            assertFalse(thread.get().isAlive(), "removing the last listener stops its thread");
            send(c, g, (short) 6);
            assertEquals(6, Recv.data(c).getType(), "receive works again, nothing was lost");
            assertTrue(got.isEmpty());
        }
    }

    @Test
    void advancedListenersGetDataAndMembershipApart() throws Exception {
        String g = ConnectionTest.group();
        BlockingQueue<SpreadMessage> regular = new LinkedBlockingQueue<>();
        BlockingQueue<SpreadMessage> membership = new LinkedBlockingQueue<>();
        BlockingQueue<SpreadMessage> basic = new LinkedBlockingQueue<>();
        try (SpreadConnection c = daemon.connect("la", true)) {
            AdvancedMessageListener l = new AdvancedMessageListener() {
                @Override
                public void regularMessageReceived(SpreadMessage m) {
                    regular.add(m);
                }

                @Override
                public void membershipMessageReceived(SpreadMessage m) {
                    membership.add(m);
                }
            };
            BasicMessageListener b = basic::add;
            c.add(l);
            c.add(b);
            SpreadGroup sg = new SpreadGroup();
            sg.join(c, g);
            assertTrue(take(membership).getMembershipInfo().isCausedByJoin());
            send(c, g, (short) 1);
            assertEquals(1, take(regular).getType());
            sg.leave();
            assertTrue(take(membership).getMembershipInfo().isSelfLeave());
            assertEquals(3, basic.size(), "the basic listener saw all three");
            assertTrue(regular.isEmpty() && membership.isEmpty());
            c.remove(l);
            c.remove(b);
        }
    }

    @Test
    void listenersAddedBeforeConnectStartWithIt() throws Exception {
        String g = ConnectionTest.group();
        BlockingQueue<SpreadMessage> got = new LinkedBlockingQueue<>();
        SpreadConnection c = new SpreadConnection();
        c.add((BasicMessageListener) got::add);
        c.connect(daemon.address(), daemon.port, "early", false, true);
        try {
            new SpreadGroup().join(c, g);
            assertTrue(take(got).isMembership());
        } finally {
            c.disconnect();
        }
    }

    @Test
    void aListenerMayDisconnectAndChangeListenersFromItsCallback() throws Exception {
        String g = ConnectionTest.group();
        CountDownLatch done = new CountDownLatch(1);
        List<Throwable> errors = Collections.synchronizedList(new ArrayList<>());
        SpreadConnection c = daemon.connect("lcb", false);
        BlockingQueue<SpreadMessage> second = new LinkedBlockingQueue<>();
        BasicMessageListener secondListener = second::add;
        c.add(new BasicMessageListener() {
            @Override
            public void messageReceived(SpreadMessage m) {
                try {
                    if (m.getType() == 1) {
                        c.add(secondListener);
                        c.remove(this);
                    }
                } catch (Throwable e) {
                    errors.add(e);
                }
            }
        });
        new SpreadGroup().join(c, g);
        send(c, g, (short) 1);
        send(c, g, (short) 2);
        assertEquals(2, take(second).getType(), "the listener added in a callback gets the next message");
        c.remove(secondListener);
        c.add((BasicMessageListener) m -> {
            try {
                c.disconnect();
            } catch (Throwable e) {
                errors.add(e);
            } finally {
                done.countDown();
            }
        });
        send(c, g, (short) 3);
        assertTrue(done.await(10, TimeUnit.SECONDS));
        assertTrue(errors.isEmpty(), errors::toString);
        assertFalse(c.isConnected());
    }

    @Test
    void aThrowingListenerDoesNotStopTheOthers() throws Exception {
        String g = ConnectionTest.group();
        BlockingQueue<SpreadMessage> got = new LinkedBlockingQueue<>();
        try (SpreadConnection c = daemon.connect("lth", false)) {
            BasicMessageListener bad = m -> {
                throw new IllegalStateException("listener failure on purpose");
            };
            BasicMessageListener good = got::add;
            Thread.UncaughtExceptionHandler before = Thread.getDefaultUncaughtExceptionHandler();
            List<Throwable> reported = Collections.synchronizedList(new ArrayList<>());
            Thread.setDefaultUncaughtExceptionHandler((t, e) -> reported.add(e));
            try {
                c.add(bad);
                c.add(good);
                new SpreadGroup().join(c, g);
                send(c, g, (short) 1);
                send(c, g, (short) 2);
                assertEquals(1, take(got).getType());
                assertEquals(2, take(got).getType());
                assertEquals(2, reported.size(), "each failure goes to the uncaught-exception handler");
            } finally {
                c.remove(bad);
                c.remove(good);
                Thread.setDefaultUncaughtExceptionHandler(before);
            }
        }
    }
}
