package spread;

import static org.junit.jupiter.api.Assertions.*;

import java.net.InetAddress;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** Wrong arguments and wrong states: a SpreadException that says what is wrong, and the JVM lives on. */
class BadInputTest extends WithDaemon {

    private static SpreadException fails(int code, String words, Executable call) {
        SpreadException e = assertThrows(SpreadException.class, call);
        assertEquals(code, e.getCode(), e::toString);
        assertNotNull(e.getMessage());
        assertTrue(e.getMessage().toLowerCase().contains(words.toLowerCase()),
                () -> "message '" + e.getMessage() + "' should mention '" + words + "'");
        return e;
    }

    @Test
    void illegalGroupNamesAreRefusedAndTheConnectionGoesOn() throws Exception {
        try (SpreadConnection c = daemon.connect("bad1", true)) {
            fails(SpreadException.ILLEGAL_GROUP, "null", () -> new SpreadGroup().join(c, null));
            fails(SpreadException.ILLEGAL_SESSION, "null", () -> new SpreadGroup().join(null, "g"));
            fails(SpreadException.ILLEGAL_GROUP, "group", () -> new SpreadGroup().join(c, ""));
            fails(SpreadException.ILLEGAL_GROUP, "group", () -> new SpreadGroup().join(c, "has space"));
            fails(SpreadException.ILLEGAL_GROUP, "group", () -> new SpreadGroup().join(c, "x".repeat(40)));
            fails(SpreadException.ILLEGAL_GROUP, "group", () -> new SpreadGroup().join(c, "caf\u00e9"));
            fails(SpreadException.ILLEGAL_GROUP, "group", () -> new SpreadGroup().join(c, "nul\u0000in"));
            SpreadGroup g = new SpreadGroup();
            assertThrows(SpreadException.class, () -> g.join(c, "bad name"));
            assertNull(g.toString(), "a refused join leaves the object unjoined");
            String ok = ConnectionTest.group();
            g.join(c, ok);
            assertTrue(Recv.view(c, ok).isCausedByJoin(), "the connection still works");
        }
    }

    @Test
    void nullAndIllegalMessagesAreRefused() throws Exception {
        try (SpreadConnection c = daemon.connect("bad2", false)) {
            fails(SpreadException.ILLEGAL_MESSAGE, "null", () -> c.multicast((SpreadMessage) null));
            fails(SpreadException.ILLEGAL_MESSAGE, "null", () -> c.multicast((SpreadMessage[]) null));
            SpreadMessage nullName = new SpreadMessage();
            nullName.addGroup((String) null);
            fails(SpreadException.ILLEGAL_GROUP, "null", () -> c.multicast(nullName));
            SpreadMessage nullGroup = new SpreadMessage();
            nullGroup.addGroup("fine");
            nullGroup.addGroup((SpreadGroup) null);
            fails(SpreadException.ILLEGAL_GROUP, "group 1", () -> c.multicast(nullGroup));
            fails(SpreadException.ILLEGAL_MESSAGE, "null", () -> c.multicast(new SpreadMessage[] {null}));

            SpreadMessage join = new SpreadMessage();
            join.addGroup("g");
            join.setServiceType(SpreadMessage.JOIN_MESS);
            fails(SpreadException.ILLEGAL_SERVICE, "service", () -> c.multicast(join));
            join.setServiceType(0);
            fails(SpreadException.ILLEGAL_SERVICE, "service", () -> c.multicast(join));
            join.setServiceType(SpreadMessage.AGREED_MESS | SpreadMessage.SAFE_MESS);
            fails(SpreadException.ILLEGAL_SERVICE, "service", () -> c.multicast(join));

            SpreadMessage euro = new SpreadMessage();
            euro.addGroup("price\u20ac");
            fails(SpreadException.ILLEGAL_GROUP, "character", () -> c.multicast(euro));
            SpreadMessage nul = new SpreadMessage();
            nul.addGroup("a\u0000b");
            fails(SpreadException.ILLEGAL_GROUP, "character", () -> c.multicast(nul));

            SpreadMessage many = new SpreadMessage();
            for (int i = 0; i < 101; i++) {
                many.addGroup("g" + i);
            }
            fails(SpreadException.ILLEGAL_GROUP, "101", () -> c.multicast(many));

            SpreadMessage fine = new SpreadMessage();
            fine.addGroup(c.getPrivateGroup());
            fine.setData(new byte[] {1});
            c.multicast(fine);
            assertArrayEquals(new byte[] {1}, Recv.data(c).getData(), "the connection still works");
        }
    }

    @Test
    void callsOnAClosedConnectionSayNotConnected() throws Exception {
        SpreadConnection c = new SpreadConnection();
        SpreadMessage m = new SpreadMessage();
        m.addGroup("g");
        fails(SpreadException.ILLEGAL_SESSION, "not connected", () -> c.multicast(m));
        fails(SpreadException.ILLEGAL_SESSION, "not connected", c::receive);
        fails(SpreadException.ILLEGAL_SESSION, "not connected", () -> c.receive(3));
        fails(SpreadException.ILLEGAL_SESSION, "not connected", () -> c.receive(Duration.ofMillis(1)));
        fails(SpreadException.ILLEGAL_SESSION, "not connected", c::poll);
        fails(SpreadException.ILLEGAL_SESSION, "not connected", c::disconnect);
        fails(SpreadException.ILLEGAL_SESSION, "not connected", () -> new SpreadGroup().join(c, "g"));
        c.close();
    }

    @Test
    void noDaemonOrABadAddressIsAnError() throws Exception {
        int nobody = Daemons.freePort();
        SpreadConnection c = new SpreadConnection();
        fails(SpreadException.COULD_NOT_CONNECT, "could not connect",
                () -> c.connect(InetAddress.getLoopbackAddress(), nobody, "x", false, false));
        assertFalse(c.isConnected());
        fails(SpreadException.ILLEGAL_SPREAD, "port", () -> c.connect(null, 70000, "x", false, false));
        fails(SpreadException.ILLEGAL_SPREAD, "port", () -> c.connect(null, -5, "x", false, false));
        fails(SpreadException.ILLEGAL_SPREAD, "null", () -> c.connect((String) null, "x", false, false));
        fails(SpreadException.ILLEGAL_SPREAD, "expected", () -> c.connect("no:such:form", "x", false, false));
        fails(SpreadException.COULD_NOT_CONNECT, "could not connect",
                () -> c.connect("/nonexistent/dir/4803", "x", false, false));
        c.connect(InetAddress.getLoopbackAddress(), daemon.port, "afterbad", false, false);
        c.disconnect();
    }

    @Test
    void theDaemonsRefusalsAreReportedWithTheirCodes() throws Exception {
        try (SpreadConnection first = daemon.connect("taken", false)) {
            SpreadConnection second = new SpreadConnection();
            fails(SpreadException.REJECT_NOT_UNIQUE, "unique",
                    () -> second.connect(daemon.address(), daemon.port, "taken", false, false));
            assertFalse(second.isConnected());
            fails(SpreadException.REJECT_ILLEGAL_NAME, "illegal private name",
                    () -> second.connect(daemon.address(), daemon.port, "bad name", false, false));
            assertTrue(first.isConnected());
        }
    }

    @Test
    void aDaemonThatDiesEndsTheSessionWithErrorsNotHangs() throws Exception {
        Daemons.Single doomed = new Daemons.Single();
        SpreadConnection c;
        SpreadConnection listened;
        java.util.concurrent.BlockingQueue<Throwable> reported = new java.util.concurrent.LinkedBlockingQueue<>();
        Thread.UncaughtExceptionHandler before = Thread.getDefaultUncaughtExceptionHandler();
        Thread.setDefaultUncaughtExceptionHandler((t, e) -> reported.add(e));
        try {
            c = doomed.connect("doomed", false);
            listened = doomed.connect("doomedl", false);
            listened.add((BasicMessageListener) m -> { });
        } finally {
            doomed.close();
        }
        try {
            SpreadException lost = assertThrows(SpreadException.class, () -> c.receive(Duration.ofSeconds(10)));
            assertEquals(SpreadException.CONNECTION_CLOSED, lost.getCode(), lost::toString);
            SpreadMessage m = new SpreadMessage();
            m.addGroup("g");
            SpreadException after = assertThrows(SpreadException.class, () -> c.multicast(m));
            assertEquals(SpreadException.NET_ERROR_ON_SESSION, after.getCode(), after::toString);
            assertTrue(c.isConnected(), "as in 5.0.1, the connection is open until disconnected");
            c.disconnect();
            assertFalse(c.isConnected());
            Throwable fromListener = reported.poll(10, java.util.concurrent.TimeUnit.SECONDS);
            assertTrue(fromListener instanceof SpreadException, String.valueOf(fromListener));
            listened.disconnect();
        } finally {
            Thread.setDefaultUncaughtExceptionHandler(before);
        }
    }

    @Test
    void aConnectTimeoutEndsAHandshakeThatNeverAnswers() throws Exception {
        try (java.net.ServerSocket silent = new java.net.ServerSocket(0, 5, InetAddress.getLoopbackAddress())) {
            SpreadConnection c = new SpreadConnection();
            fails(SpreadException.ILLEGAL_TIME, "timeout", () -> c.setConnectTimeout(Duration.ZERO));
            c.setConnectTimeout(Duration.ofMillis(300));
            long t0 = System.nanoTime();
            SpreadException e = fails(SpreadException.CONNECTION_CLOSED, "timed out",
                    () -> c.connect(InetAddress.getLoopbackAddress(), silent.getLocalPort(), "t", false, false));
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertTrue(ms >= 250 && ms < 5000, ms + " ms: " + e);
            assertFalse(c.isConnected());
            c.setConnectTimeout(null);
            c.connect(InetAddress.getLoopbackAddress(), daemon.port, "aftertimeout", false, false);
            c.disconnect();
        }
    }
}
