package spread;

import java.net.InetAddress;
import java.time.Duration;

/**
 * Runs every native method of the binding, the failure paths included, in
 * a JVM of its own: {@link JvmProcessTest} starts it under -Xcheck:jni.
 * Plain Java (no JUnit): it fails by exiting non-zero.
 */
public final class JniWorkload {
    private JniWorkload() {}

    private static void check(boolean ok, String what) {
        if (!ok) {
            throw new AssertionError(what);
        }
    }

    private static SpreadMessage next(SpreadConnection c) throws SpreadException {
        SpreadMessage m = c.receive(Duration.ofSeconds(10));
        check(m != null, "a message within 10 s");
        return m;
    }

    private static FlushMessage next(FlushConnection c) throws SpreadException {
        FlushMessage m = c.receive(Duration.ofSeconds(10));
        check(m != null, "a Flush message within 10 s");
        return m;
    }

    /** The next view of {@code group} at {@code c}, answering its flush requests. */
    private static FlushMessage view(FlushConnection c, String group) throws SpreadException {
        while (true) {
            FlushMessage m = next(c);
            if (m.isFlushRequest()) {
                c.flush(m.getGroup());
            } else if (m.isView() && m.getGroup().toString().equals(group)) {
                return m;
            }
        }
    }

    /** Every Flush native, its failures included. */
    private static void flush(int port) throws Exception {
        InetAddress lo = InetAddress.getLoopbackAddress();
        FlushConnection a = new FlushConnection();
        a.connect(lo, port, "fwa", false);
        FlushConnection b = new FlushConnection();
        b.connect(port + "@127.0.0.1", "fwb", true);
        a.join("fwork");
        check(view(a, "fwork").getMembers().length == 1, "a's view");
        b.join("fwork");
        Thread other = new Thread(() -> {
            try {
                view(a, "fwork");
            } catch (SpreadException e) {
                throw new AssertionError(e);
            }
        });
        other.start();
        check(view(b, "fwork").getVsSet().length == 1, "b's view");
        other.join(10000);
        SpreadMessage m = new SpreadMessage();
        m.setAgreed();
        m.addGroup("fwork");
        m.setData(new byte[100_000]);
        for (int round = 0; round < 20; round++) {
            a.multicast(m);
            a.unicast(m, b.getPrivateGroup());
            a.subgroupcast(m, new String[] {"#fwb#localhost", "#fwa#localhost"});
        }
        for (int round = 0; round < 60; round++) {
            check(next(b).getData().length == 100_000, "b's data");
        }
        for (int round = 0; round < 40; round++) {
            next(a);
        }
        check(a.receive(Duration.ZERO) == null && !a.poll() && a.moreMessages() == 0, "a has nothing left");
        int thrown = 0;
        for (int i = 0; i < 100; i++) {
            try {
                a.flush("fwork");
            } catch (SpreadException expected) {
                thrown++;
            }
            try {
                a.unicast(m, "#nobody#localhost");
            } catch (SpreadException expected) {
                thrown++;
            }
            try {
                Native.flReceive(-1, 0, new int[Native.META_LEN]);
            } catch (SpreadException expected) {
                thrown++;
            }
        }
        check(thrown == 300, "every bad Flush call threw");
        b.leave("fwork");
        check(next(b).isSelfLeave(), "b's self-leave");
        check(view(a, "fwork").isCausedByLeave(), "a's view without b");
        b.disconnect();
        Native.flKill(-1);
        Thread blocked = new Thread(() -> {
            try {
                a.receive();
            } catch (Exception expected) {
                // The disconnect below ends it.
            }
        });
        blocked.start();
        Thread.sleep(200);
        a.disconnect();
        blocked.join(5000);
        check(!blocked.isAlive(), "the blocked Flush receive ended");
    }

    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(args[0]);
        InetAddress lo = InetAddress.getLoopbackAddress();
        SpreadConnection a = new SpreadConnection();
        a.registerAuthentication("NULL", NULLAuth.class.getName());
        a.connect(lo, port, "wa", false, true);
        SpreadConnection b = new SpreadConnection();
        b.connect(port + "@127.0.0.1", "wb", true, true);
        SpreadGroup ga = new SpreadGroup();
        ga.join(a, "work");
        check(next(a).getMembershipInfo().isCausedByJoin(), "a's join view");
        SpreadGroup gb = new SpreadGroup();
        gb.join(b, "work");
        check(next(a).getMembershipInfo().getMembers().length == 2, "a sees b join");
        check(next(b).getMembershipInfo().getVirtualSynchronySets() == null, "b's join view");

        // A send to 100 groups and a receive of its 100-name list: loops over
        // many JNI references in one call.
        SpreadMessage wide = new SpreadMessage();
        wide.setAgreed();
        wide.addGroup("work");
        for (int i = 1; i < 100; i++) {
            wide.addGroup("other" + i);
        }
        wide.setData(new byte[100_000]);
        for (int round = 0; round < 50; round++) {
            a.multicast(wide);
        }
        for (int round = 0; round < 50; round++) {
            check(next(b).getGroups().length == 100, "100 groups");
        }
        for (int round = 0; round < 50; round++) {
            next(a);
        }
        check(a.receive(Duration.ZERO) == null, "nothing left");
        check(!a.poll(), "poll says nothing");

        // Failures thrown from native code.
        int thrown = 0;
        for (int i = 0; i < 200; i++) {
            try {
                new SpreadGroup().join(a, "bad name");
            } catch (SpreadException expected) {
                thrown++;
            }
            try {
                Native.panicForTest();
            } catch (SpreadException expected) {
                thrown++;
            }
        }
        check(thrown == 400, "every bad call threw");
        check(Native.constant("MAX_GROUP_NAME") == 32, "a constant");
        try {
            new SpreadConnection().connect(lo, 1, "none", false, false);
            check(false, "no daemon on port 1");
        } catch (SpreadException expected) {
            check(expected.getCode() == SpreadException.COULD_NOT_CONNECT, "could not connect");
        }

        // A leave, a disconnect seen by the other, and a receive ended by a
        // disconnect from another thread.
        gb.leave();
        check(next(b).getMembershipInfo().isSelfLeave(), "self leave");
        b.disconnect();
        check(next(a).getMembershipInfo().isCausedByLeave(), "a sees b leave");
        Thread blocked = new Thread(() -> {
            try {
                a.receive();
            } catch (Exception expected) {
                // The disconnect below ends it.
            }
        });
        blocked.start();
        Thread.sleep(200);
        a.disconnect();
        blocked.join(5000);
        check(!blocked.isAlive(), "the blocked receive ended");
        flush(port);
        System.out.println("WORKLOAD OK");
    }
}
