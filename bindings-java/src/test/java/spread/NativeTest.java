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
                        || name.startsWith("MESSAGE") || name.startsWith("NET") || name.equals("SP_BUG")) {
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
