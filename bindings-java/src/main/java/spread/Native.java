package spread;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The native library (Rust, over spread-rs's client core) and its loader.
 *
 * <p>Where the library comes from, first match wins:
 * <ol>
 *   <li>the system property {@code spread.library.path}: the library file, or
 *       a directory holding {@code libspread_jni.so} (when set, nothing else
 *       is tried);</li>
 *   <li>{@code java.library.path}, through {@link System#loadLibrary};</li>
 *   <li>the copy packed in the jar under {@code /native/<os>-<arch>/},
 *       written to a private temporary directory and deleted once loaded.</li>
 * </ol>
 */
final class Native {
    static final String LIBRARY = "spread_jni";

    static {
        load();
    }

    private Native() {}

    static String platform() {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        if (os.startsWith("linux")) {
            os = "linux";
        } else if (os.startsWith("mac")) {
            os = "macos";
        }
        if (arch.equals("amd64") || arch.equals("x86_64")) {
            arch = "x86_64";
        } else if (arch.equals("arm64")) {
            arch = "aarch64";
        }
        return os + "-" + arch;
    }

    private static void load() {
        String file = System.mapLibraryName(LIBRARY);
        String explicit = System.getProperty("spread.library.path");
        if (explicit != null && !explicit.isEmpty()) {
            File f = new File(explicit);
            if (f.isDirectory()) {
                f = new File(f, file);
            }
            try {
                System.load(f.getAbsolutePath());
                return;
            } catch (UnsatisfiedLinkError e) {
                throw new UnsatisfiedLinkError("Cannot load the Spread native library from -Dspread.library.path="
                        + explicit + " (tried " + f.getAbsolutePath() + "): " + e.getMessage());
            }
        }
        List<String> tried = new ArrayList<>();
        try {
            System.loadLibrary(LIBRARY);
            return;
        } catch (UnsatisfiedLinkError e) {
            tried.add("java.library.path=" + System.getProperty("java.library.path") + ": " + e.getMessage());
        }
        String resource = "/native/" + platform() + "/" + file;
        try (InputStream in = Native.class.getResourceAsStream(resource)) {
            if (in == null) {
                tried.add("the jar's " + resource + ": not packed (no build for " + platform() + ")");
            } else {
                // A directory of our own (mode 700) so no other user can swap
                // the file between writing and loading it.
                Path dir = Files.createTempDirectory("spread-jni");
                Path lib = dir.resolve(file);
                try {
                    Files.copy(in, lib);
                    System.load(lib.toAbsolutePath().toString());
                    return;
                } finally {
                    // Once mapped, the file is not needed; nothing is left behind.
                    Files.deleteIfExists(lib);
                    Files.deleteIfExists(dir);
                }
            }
        } catch (IOException | UnsatisfiedLinkError e) {
            tried.add("the jar's " + resource + ": " + e.getMessage());
        }
        throw new UnsatisfiedLinkError("Cannot load the Spread native library " + file + "; tried "
                + String.join("; then ", tried)
                + ". Set -Dspread.library.path to the library file or its directory.");
    }

    // The sessions are the native library's; Java holds them by handle.
    static native long connect(String daemon, String privateName, int priority, boolean membership,
            String authName, Object authObject, long timeoutMillis) throws SpreadException;

    static native String privateGroup(long handle) throws SpreadException;

    static native void join(long handle, String group) throws SpreadException;

    static native void leave(long handle, String group) throws SpreadException;

    static native int multicast(long handle, int serviceType, String[] groups, short type, byte[] data)
            throws SpreadException;

    /** timeoutNanos &lt; 0 blocks, 0 takes only what is there; null when nothing came. */
    static native SpreadMessage receive(long handle, long timeoutNanos) throws SpreadException;

    static native int poll(long handle) throws SpreadException;

    static native void disconnect(long handle) throws SpreadException;

    static native void kill(long handle);

    static native int constant(String name) throws SpreadException;

    static native void panicForTest() throws SpreadException;

    /** Called by the native receive to build what it received. */
    static SpreadMessage makeMessage(int serviceType, String sender, String[] groupNames, short type,
            boolean endianMismatch, byte[] data, int[] groupId, String[][] vsSets, int localVsSet) {
        SpreadGroup senderGroup = new SpreadGroup(null, sender);
        SpreadGroup[] groups = new SpreadGroup[groupNames.length];
        for (int i = 0; i < groups.length; i++) {
            groups[i] = new SpreadGroup(null, groupNames[i]);
        }
        MembershipInfo info = null;
        if ((serviceType & SpreadMessage.MEMBERSHIP_MESS) != 0 && (serviceType & SpreadMessage.REJECT_MESS) == 0) {
            info = new MembershipInfo(serviceType, senderGroup, groups, groupId, vsSets, localVsSet);
        }
        return new SpreadMessage(serviceType, senderGroup, groups, type, endianMismatch, data, info);
    }
}
