package spread;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
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

    /** Spread's name field: 31 bytes of name and a NUL. */
    static final int MAX_GROUP_NAME = 32;

    // Slots of the numbers a receive writes (the native side's message::meta).
    static final int META_SERVICE_TYPE = 0;
    static final int META_MESS_TYPE = 1;
    static final int META_ENDIAN_MISMATCH = 2;
    static final int META_NUM_GROUPS = 3;
    static final int META_DATA_LEN = 4;
    static final int META_GROUP_ID = 5;
    static final int META_NUM_VS_SETS = 8;
    static final int META_LOCAL_VS_SET = 9;
    static final int META_LEN = 10;

    // The sessions are the native library's; Java holds them by handle.
    /**
     * timeoutMillis 0: no limit. A secretIdentity (with secret or secretFile) chooses SECRET.
     * A tlsCaFile (PEM) speaks TLS, showing tlsCertFile and tlsKeyFile if not null.
     */
    static native long connect(String daemon, String privateName, int priority, boolean membership,
            String authName, Object authObject, String secretIdentity, byte[] secret, String secretFile,
            String tlsCaFile, String tlsCertFile, String tlsKeyFile, long timeoutMillis) throws SpreadException;

    static native String privateGroup(long handle) throws SpreadException;

    static native void join(long handle, String group) throws SpreadException;

    static native void leave(long handle, String group) throws SpreadException;

    /** {@code groupFields}: the destinations as 32-byte name fields, see {@link #nameFields}. */
    static native int multicast(long handle, int serviceType, byte[] groupFields, short type, byte[] data)
            throws SpreadException;

    /**
     * timeoutNanos &lt; 0 blocks, 0 takes only what is there; null when nothing
     * came. Otherwise the names and body, the numbers written into {@code meta}.
     */
    static native byte[] receive(long handle, long timeoutNanos, int[] meta) throws SpreadException;

    static native int poll(long handle) throws SpreadException;

    static native void disconnect(long handle) throws SpreadException;

    static native void kill(long handle);

    static native int constant(String name) throws SpreadException;

    static native void panicForTest() throws SpreadException;

    // Flush Spread: the same shapes over FlushMailbox, with handles of their own.
    /** timeoutMillis 0: no limit. Membership messages are always on. */
    static native long flConnect(String daemon, String privateName, int priority, long timeoutMillis)
            throws SpreadException;

    static native String flPrivateGroup(long handle) throws SpreadException;

    static native void flJoin(long handle, String group) throws SpreadException;

    static native void flLeave(long handle, String group) throws SpreadException;

    static native void flFlush(long handle, String group) throws SpreadException;

    /** {@code receiverFields} null: to the whole view; otherwise name fields of the receivers. */
    static native int flSend(long handle, int serviceType, String group, byte[] receiverFields, short type,
            byte[] data) throws SpreadException;

    /** As {@link #receive}, in the same layout. */
    static native byte[] flReceive(long handle, long timeoutNanos, int[] meta) throws SpreadException;

    static native int flPoll(long handle) throws SpreadException;

    static native int flMoreMessages(long handle) throws SpreadException;

    static native void flDisconnect(long handle) throws SpreadException;

    static native void flKill(long handle);

    /** Receives one message as a {@code SpreadMessage}; null when nothing came in time. */
    static SpreadMessage receiveMessage(long handle, long timeoutNanos) throws SpreadException {
        int[] meta = new int[META_LEN];
        byte[] bytes = receive(handle, timeoutNanos, meta);
        return bytes == null ? null : decode(meta, bytes);
    }

    /** Receives one Flush message; null when nothing came in time. */
    static FlushMessage receiveFlushMessage(long handle, long timeoutNanos) throws SpreadException {
        int[] meta = new int[META_LEN];
        byte[] bytes = flReceive(handle, timeoutNanos, meta);
        return bytes == null ? null : decodeFlush(meta, bytes);
    }

    /**
     * The destination names as Spread's name fields, cut to 31 bytes as the C
     * library cuts them. Names are Latin-1, as in Spread 5.0.1's Java client;
     * a character beyond it or a NUL would name another group, so it is refused.
     */
    static byte[] nameFields(SpreadGroup[] groups) throws SpreadException {
        return nameFields(groups, "Group", "of the message", SpreadException.ILLEGAL_GROUP);
    }

    /** As {@link #nameFields(SpreadGroup[])}; errors say "{what} {i} {of}" and carry {@code code}. */
    static byte[] nameFields(SpreadGroup[] groups, String what, String of, int code) throws SpreadException {
        byte[] fields = new byte[groups.length * MAX_GROUP_NAME];
        for (int i = 0; i < groups.length; i++) {
            String name = groups[i] == null ? null : groups[i].toString();
            if (name == null) {
                throw new SpreadException(what + " " + i + " " + of + " is null.", code);
            }
            int n = Math.min(name.length(), MAX_GROUP_NAME - 1);
            for (int k = 0; k < n; k++) {
                char ch = name.charAt(k);
                if (ch == 0 || ch > 0xff) {
                    throw new SpreadException("Illegal character U+" + Integer.toHexString(ch) + " in "
                            + what.toLowerCase(Locale.ROOT) + " name " + name + ".", code);
                }
                fields[i * MAX_GROUP_NAME + k] = (byte) ch;
            }
        }
        return fields;
    }

    private static String name(byte[] b, int at) {
        int end = at;
        while (end < at + MAX_GROUP_NAME && b[end] != 0) {
            end++;
        }
        return new String(b, at, end - at, StandardCharsets.ISO_8859_1);
    }

    /** What the bytes of a receive hold besides the numbers. */
    private static final class Parts {
        SpreadGroup sender;
        SpreadGroup[] groups;
        String[][] vsSets;
        byte[] data;
    }

    private static Parts parse(int[] meta, byte[] b) {
        Parts p = new Parts();
        int at = 0;
        p.sender = new SpreadGroup(null, name(b, at));
        at += MAX_GROUP_NAME;
        p.groups = new SpreadGroup[meta[META_NUM_GROUPS]];
        for (int i = 0; i < p.groups.length; i++) {
            p.groups[i] = new SpreadGroup(null, name(b, at));
            at += MAX_GROUP_NAME;
        }
        int sets = meta[META_NUM_VS_SETS];
        if (sets >= 0) {
            p.vsSets = new String[sets][];
            for (int s = 0; s < sets; s++) {
                int count = (b[at] & 0xff) << 24 | (b[at + 1] & 0xff) << 16 | (b[at + 2] & 0xff) << 8 | (b[at + 3] & 0xff);
                at += 4;
                p.vsSets[s] = new String[count];
                for (int k = 0; k < count; k++) {
                    p.vsSets[s][k] = name(b, at);
                    at += MAX_GROUP_NAME;
                }
            }
        }
        p.data = Arrays.copyOfRange(b, at, at + meta[META_DATA_LEN]);
        return p;
    }

    private static SpreadMessage message(int[] meta, Parts p) {
        int serviceType = meta[META_SERVICE_TYPE];
        MembershipInfo info = null;
        if ((serviceType & SpreadMessage.MEMBERSHIP_MESS) != 0 && (serviceType & SpreadMessage.REJECT_MESS) == 0) {
            int[] groupId = p.vsSets != null
                    ? new int[] {meta[META_GROUP_ID], meta[META_GROUP_ID + 1], meta[META_GROUP_ID + 2]}
                    : null;
            info = new MembershipInfo(serviceType, p.sender, p.groups, groupId, p.vsSets, meta[META_LOCAL_VS_SET]);
        }
        return new SpreadMessage(serviceType, p.sender, p.groups, (short) meta[META_MESS_TYPE],
                meta[META_ENDIAN_MISMATCH] != 0, p.data, info);
    }

    /** Builds a received message from the native receive's numbers and bytes. */
    static SpreadMessage decode(int[] meta, byte[] b) {
        return message(meta, parse(meta, b));
    }

    /** Builds a received Flush message (a view has one vs-set) from the numbers and bytes. */
    static FlushMessage decodeFlush(int[] meta, byte[] b) {
        Parts p = parse(meta, b);
        SpreadGroup[] vsSet = null;
        if (p.vsSets != null && p.vsSets.length == 1) {
            vsSet = new SpreadGroup[p.vsSets[0].length];
            for (int i = 0; i < vsSet.length; i++) {
                vsSet[i] = new SpreadGroup(null, p.vsSets[0][i]);
            }
        }
        return new FlushMessage(message(meta, p), vsSet);
    }
}
