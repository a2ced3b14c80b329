package spread;

import static org.junit.jupiter.api.Assertions.*;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** Volume, many connections, and several threads on one connection. */
class ConcurrencyTest extends WithDaemon {

    @Test
    void tenThousandMessagesArriveInOrder() throws Exception {
        String g = ConnectionTest.group();
        int n = 10_000;
        try (SpreadConnection a = daemon.connect("ord1", false); SpreadConnection b = daemon.connect("ord2", true)) {
            new SpreadGroup().join(b, g);
            Recv.view(b, g);
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Thread sender = new Thread(() -> {
                try {
                    SpreadMessage m = new SpreadMessage();
                    m.setFifo();
                    m.addGroup(g);
                    for (int i = 0; i < n; i++) {
                        m.setData(Integer.toString(i).getBytes());
                        a.multicast(m);
                    }
                } catch (Throwable e) {
                    failure.set(e);
                }
            });
            sender.start();
            for (int i = 0; i < n; i++) {
                SpreadMessage m = Recv.next(b);
                assertEquals(Integer.toString(i), new String(m.getData()), "message " + i);
            }
            sender.join();
            assertNull(failure.get());
        }
    }

    @Test
    void aHundredConnectionsInOneJvm() throws Exception {
        String g = ConnectionTest.group();
        List<SpreadConnection> all = new ArrayList<>();
        try {
            for (int i = 0; i < 100; i++) {
                // Only the sender asks for views: the one with all hundred
                // members is ordered after every join, and so is its send.
                SpreadConnection c = daemon.connect("c" + i, i == 0);
                new SpreadGroup().join(c, g);
                all.add(c);
            }
            Recv.viewOf(all.get(0), g, 100);
            SpreadMessage m = new SpreadMessage();
            m.setAgreed();
            m.addGroup(g);
            m.setData("to all".getBytes());
            all.get(0).multicast(m);
            for (SpreadConnection c : all) {
                assertEquals("to all", new String(Recv.data(c).getData()), c.getPrivateGroup().toString());
            }
        } finally {
            for (SpreadConnection c : all) {
                c.disconnect();
            }
        }
    }

    @Test
    void disconnectFromAnotherThreadEndsABlockedReceive() throws Exception {
        SpreadConnection c = daemon.connect("blk", false);
        CountDownLatch entered = new CountDownLatch(1);
        AtomicReference<Throwable> outcome = new AtomicReference<>();
        Thread receiver = new Thread(() -> {
            entered.countDown();
            try {
                SpreadMessage m = c.receive();
                outcome.set(new AssertionError("received " + Recv.describe(m)));
            } catch (Throwable e) {
                outcome.set(e);
            }
        });
        receiver.start();
        assertTrue(entered.await(5, TimeUnit.SECONDS));
        Thread.sleep(300);
        assertTrue(receiver.isAlive(), "the receive blocks while nothing arrives");
        long t0 = System.nanoTime();
        c.disconnect();
        receiver.join(5000);
        assertFalse(receiver.isAlive(), "disconnect must end the blocked receive");
        assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(2));
        assertTrue(outcome.get() instanceof SpreadException, String.valueOf(outcome.get()));
        SpreadException e = (SpreadException) outcome.get();
        assertTrue(e.getCode() == SpreadException.ILLEGAL_SESSION || e.getCode() == SpreadException.CONNECTION_CLOSED,
                e.toString());
    }

    @Test
    void severalThreadsSendAndReceiveOnOneConnection() throws Exception {
        String g = ConnectionTest.group();
        int threads = 4;
        int each = 500;
        try (SpreadConnection c = daemon.connect("mt", false)) {
            new SpreadGroup().join(c, g);
            ExecutorService pool = Executors.newFixedThreadPool(threads * 2);
            try {
                List<Future<int[]>> receivers = new ArrayList<>();
                int[] counts = new int[threads];
                Object lock = new Object();
                for (int r = 0; r < threads; r++) {
                    receivers.add(pool.submit(() -> {
                        int[] mine = new int[threads];
                        int[] last = new int[threads];
                        java.util.Arrays.fill(last, -1);
                        while (true) {
                            SpreadMessage m = c.receive(Duration.ofSeconds(2));
                            if (m == null) {
                                return mine;
                            }
                            String[] parts = new String(m.getData()).split(":");
                            int sender = Integer.parseInt(parts[0]);
                            mine[sender]++;
                            synchronized (lock) {
                                counts[sender]++;
                            }
                        }
                    }));
                }
                List<Future<?>> senders = new ArrayList<>();
                for (int s = 0; s < threads; s++) {
                    int id = s;
                    senders.add(pool.submit(() -> {
                        SpreadMessage m = new SpreadMessage();
                        m.setFifo();
                        m.addGroup(g);
                        for (int i = 0; i < each; i++) {
                            m.setData((id + ":" + i).getBytes());
                            c.multicast(m);
                        }
                        return null;
                    }));
                }
                for (Future<?> f : senders) {
                    f.get(60, TimeUnit.SECONDS);
                }
                int total = 0;
                for (Future<int[]> f : receivers) {
                    for (int x : f.get(60, TimeUnit.SECONDS)) {
                        total += x;
                    }
                }
                assertEquals(threads * each, total, "every message received exactly once");
                for (int s = 0; s < threads; s++) {
                    assertEquals(each, counts[s], "from sender " + s);
                }
            } finally {
                pool.shutdownNow();
            }
        }
    }
}
