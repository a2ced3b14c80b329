package spread;

import static org.junit.jupiter.api.Assertions.*;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import org.junit.jupiter.api.Test;

/** The native library itself: its numbers agree with Java's, and a panic stays inside it. */
class NativeTest {
    private static void sameAsNative(Class<?> c) throws Exception {
        int checked = 0;
        for (Field f : c.getDeclaredFields()) {
            int mod = f.getModifiers();
            if (Modifier.isStatic(mod) && Modifier.isFinal(mod) && f.getType() == int.class
                    && f.getName().equals(f.getName().toUpperCase())) {
                f.setAccessible(true);
                String name = f.getName();
                if (name.equals("DEFAULT_PORT")) {
                    name = "DEFAULT_SPREAD_PORT";
                }
                if (name.equals("MAX_AUTH_NAME") || name.equals("DEFAULT_SPREAD_PORT") || name.endsWith("_MESS")
                        || name.equals("SELF_DISCARD") || name.startsWith("ILLEGAL") || name.startsWith("REJECT")
                        || name.startsWith("CAUSED") || name.startsWith("COULD") || name.startsWith("CONNECTION")
                        || name.startsWith("MESSAGE") || name.startsWith("NET") || name.equals("SP_BUG")
                        || name.equals("WOULD_BLOCK") || name.equals("SUBGROUP_CAST")) {
                    assertEquals(Native.constant(name), f.getInt(null), c.getSimpleName() + "." + f.getName());
                    checked++;
                }
            }
        }
        assertTrue(checked > 0, "no constants of " + c + " checked");
    }

    @Test
    void javaConstantsAreTheCoreOnes() throws Exception {
        sameAsNative(SpreadMessage.class);
        sameAsNative(SpreadException.class);
        sameAsNative(SpreadConnection.class);
        sameAsNative(FlushMessage.class);
        assertEquals(Native.constant("FL_MIN_LEGAL_MESS_TYPE"), FlushConnection.MIN_MESSAGE_TYPE);
        assertEquals(-28, Native.constant("ILLEGAL_RECEIVERS"), "the Flush codes are among them");
        SpreadVersion v = new SpreadVersion();
        assertEquals(Native.constant("SP_MAJOR_VERSION"), v.getMajorVersion());
        assertEquals(Native.constant("SP_MINOR_VERSION"), v.getMinorVersion());
        assertEquals(Native.constant("SP_PATCH_VERSION"), v.getPatchVersion());
    }

    @Test
    void anUnknownConstantIsAnError() {
        SpreadException e = assertThrows(SpreadException.class, () -> Native.constant("NO_SUCH"));
        assertTrue(e.getMessage().contains("NO_SUCH"));
        assertThrows(SpreadException.class, () -> Native.constant(null));
    }

    @Test
    void aRustPanicBecomesASpreadException() throws SpreadException {
        // Once here (its one line of panic output shows in the build);
        // JniWorkload panics 200 times under -Xcheck:jni.
        SpreadException e = assertThrows(SpreadException.class, Native::panicForTest);
        assertEquals(SpreadException.SP_BUG, e.getCode());
        assertTrue(e.getMessage().contains("panic"), e.getMessage());
        assertEquals(5, Native.constant("SP_MAJOR_VERSION"), "the library works on after a panic");
    }

    @Test
    void staleHandlesAreRefusedNotFollowed() {
        SpreadException e = assertThrows(SpreadException.class,
                () -> Native.receive(987654321L, 0, new int[Native.META_LEN]));
        assertEquals(SpreadException.ILLEGAL_SESSION, e.getCode());
        assertThrows(SpreadException.class, () -> Native.multicast(-1, 2, new byte[32], (short) 0, new byte[0]));
        Native.kill(987654321L);
    }

    @Test
    void staleFlushHandlesAreRefusedNotFollowed() {
        SpreadException e = assertThrows(SpreadException.class,
                () -> Native.flReceive(987654321L, 0, new int[Native.META_LEN]));
        assertEquals(SpreadException.ILLEGAL_SESSION, e.getCode());
        for (long stale : new long[] {0, -1, 987654321L}) {
            assertEquals(SpreadException.ILLEGAL_SESSION,
                    assertThrows(SpreadException.class, () -> Native.flJoin(stale, "g")).getCode());
            assertEquals(SpreadException.ILLEGAL_SESSION,
                    assertThrows(SpreadException.class, () -> Native.flFlush(stale, "g")).getCode());
            assertEquals(SpreadException.ILLEGAL_SESSION, assertThrows(SpreadException.class,
                    () -> Native.flSend(stale, 16, "g", null, (short) 0, new byte[0])).getCode());
            assertEquals(SpreadException.ILLEGAL_SESSION,
                    assertThrows(SpreadException.class, () -> Native.flPoll(stale)).getCode());
            assertEquals(SpreadException.ILLEGAL_SESSION,
                    assertThrows(SpreadException.class, () -> Native.flMoreMessages(stale)).getCode());
            assertEquals(SpreadException.ILLEGAL_SESSION,
                    assertThrows(SpreadException.class, () -> Native.flDisconnect(stale)).getCode());
            assertEquals(SpreadException.ILLEGAL_SESSION,
                    assertThrows(SpreadException.class, () -> Native.flPrivateGroup(stale)).getCode());
            Native.flKill(stale);
        }
    }

    @Test
    void malformedFlushArgumentsAreRefused() {
        SpreadException shortMeta = assertThrows(SpreadException.class, () -> Native.flReceive(1, 0, new int[2]));
        assertTrue(shortMeta.getMessage().contains("short"), shortMeta.getMessage());
        assertThrows(SpreadException.class, () -> Native.flReceive(1, 0, null));
        SpreadException ragged = assertThrows(SpreadException.class,
                () -> Native.flSend(1, 16, "g", new byte[33], (short) 0, new byte[0]));
        assertEquals(SpreadException.ILLEGAL_GROUP, ragged.getCode());
        assertTrue(ragged.getMessage().contains("33 bytes"), ragged.getMessage());
        assertEquals(SpreadException.ILLEGAL_GROUP, assertThrows(SpreadException.class,
                () -> Native.flSend(1, 16, null, null, (short) 0, new byte[0])).getCode());
        assertEquals(SpreadException.ILLEGAL_MESSAGE, assertThrows(SpreadException.class,
                () -> Native.flSend(1, 16, "g", null, (short) 0, null)).getCode());
        assertEquals(SpreadException.ILLEGAL_GROUP,
                assertThrows(SpreadException.class, () -> Native.flJoin(1, null)).getCode());
        assertTrue(assertThrows(SpreadException.class, () -> Native.flConnect(null, "x", 0, 0)).getMessage()
                .contains("daemon name"));
    }

    @Test
    void theReceiveLayoutIsTheNativeOne() throws Exception {
        for (java.lang.reflect.Field f : Native.class.getDeclaredFields()) {
            if (f.getName().startsWith("META_") || f.getName().equals("MAX_GROUP_NAME")) {
                assertEquals(Native.constant(f.getName()), f.getInt(null), f.getName());
            }
        }
    }

    @Test
    void theLibraryCameFromTheJarResources() {
        assertNotNull(Native.class.getResource("/native/" + Native.platform() + "/libspread_jni.so"),
                "the build packs the library for " + Native.platform());
    }

    @Test
    void malformedNativeArgumentsAreRefused() {
        SpreadException shortMeta = assertThrows(SpreadException.class, () -> Native.receive(1, 0, new int[2]));
        assertTrue(shortMeta.getMessage().contains("short"), shortMeta.getMessage());
        assertThrows(SpreadException.class, () -> Native.receive(1, 0, null));
        SpreadException ragged = assertThrows(SpreadException.class,
                () -> Native.multicast(1, 2, new byte[33], (short) 0, new byte[0]));
        assertEquals(SpreadException.ILLEGAL_GROUP, ragged.getCode());
        assertTrue(ragged.getMessage().contains("33 bytes"), ragged.getMessage());
    }
}
