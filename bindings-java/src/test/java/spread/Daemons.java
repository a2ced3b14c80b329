package spread;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/** Real spread-rs daemons for the tests, each in a directory of its own. */
final class Daemons {
    private Daemons() {}

    /** The daemon binary: $SPREAD_DAEMON_BIN, else the workspace's debug, else release build. */
    static Path binary() {
        String env = System.getenv("SPREAD_DAEMON_BIN");
        List<Path> candidates = new ArrayList<>();
        if (env != null && !env.isEmpty()) {
            candidates.add(Paths.get(env));
        } else {
            Path target = Paths.get(System.getProperty("spread.target.dir", workspace().resolve("target").toString()));
            candidates.add(target.resolve("debug/spread"));
            candidates.add(target.resolve("release/spread"));
        }
        for (Path p : candidates) {
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        assumeTrue(false, "no spread daemon binary (tried " + candidates
                + "); build it with `cargo build -p spread-daemon --bins` or set SPREAD_DAEMON_BIN");
        throw new AssertionError("unreachable");
    }

    static Path workspace() {
        return Paths.get(System.getProperty("spread.workspace", "..")).toAbsolutePath().normalize();
    }

    static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new AssertionError("no free port", e);
        }
    }

    static void deleteTree(Path dir) {
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // A leftover temp directory is harmless.
        }
    }

    static void awaitAccepting(String host, int port, Process p, Path log) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (System.nanoTime() < deadline) {
            if (!p.isAlive()) {
                throw new AssertionError("the daemon exited with " + p.exitValue() + ": " + read(log));
            }
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(host, port), 200);
                return;
            } catch (IOException notYet) {
                sleep(20);
            }
        }
        throw new AssertionError("the daemon did not accept on " + host + ":" + port + ": " + read(log));
    }

    static String read(Path log) {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    static Process spawn(Path dir, String name) throws IOException {
        // The socket in the daemon's own directory, not /tmp/<port>; writable by all, so that a daemon
        // started as root (which then becomes DaemonUser) removes it.
        java.nio.file.Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwxrwxrwx"));
        ProcessBuilder pb = new ProcessBuilder(binary().toString(), "-n", name, "-c", "spread.conf");
        pb.environment().put("SPREAD_SOCKET_DIR", dir.toString());
        return pb
                .directory(dir.toFile())
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(dir.resolve("daemon.log").toFile())
                .start();
    }

    static void stop(Process p) {
        if (p == null) {
            return;
        }
        p.destroy();
        try {
            if (!p.waitFor(5, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** One daemon named {@code localhost} on 127.0.0.1 and a free port. */
    static final class Single implements AutoCloseable {
        final int port;
        final Path dir;
        private final Process process;

        Single() throws IOException {
            this("");
        }

        /** With {@code extra} appended to its spread.conf. */
        Single(String extra) throws IOException {
            Path bin = binary();
            port = freePort();
            dir = Files.createTempDirectory("spread-java-test");
            Files.writeString(dir.resolve("spread.conf"), "Spread_Segment 127.0.0.255:" + port
                    + " {\n\tlocalhost 127.0.0.1\n}\nRuntimeDir = " + dir + "\n" + extra + "\n");
            assert bin != null;
            process = spawn(dir, "localhost");
            awaitAccepting("127.0.0.1", port, process, dir.resolve("daemon.log"));
        }

        InetAddress address() {
            return InetAddress.getLoopbackAddress();
        }

        /** The daemon in Spread's own naming, {@code port@127.0.0.1}. */
        String name() {
            return port + "@127.0.0.1";
        }

        SpreadConnection connect(String privateName, boolean membership) throws SpreadException {
            SpreadConnection c = new SpreadConnection();
            c.connect(address(), port, privateName, false, membership);
            return c;
        }

        String log() {
            return read(dir.resolve("daemon.log"));
        }

        @Override
        public void close() {
            stop(process);
            deleteTree(dir);
        }
    }

    /** Daemons d1..dn on 127.0.S.1..n in one segment, with timeouts that see a crash in about half a second. */
    static final class Ring implements AutoCloseable {
        static final String FAST = "TokenTimeout = 200\nHurryTimeout = 80\nAliveTimeout = 40\nJoinTimeout = 40\n"
                + "RepTimeout = 120\nSegTimeout = 80\nGatherTimeout = 150\nFormTimeout = 200\nLookupTimeout = 5000\n";
        final int port;
        final int subnet;
        final Path dir;
        private final Process[] processes;

        Ring(int n) throws IOException {
            binary();
            port = freePort();
            subnet = 10 + new Random().nextInt(240);
            dir = Files.createTempDirectory("spread-java-ring");
            StringBuilder daemons = new StringBuilder();
            for (int i = 1; i <= n; i++) {
                String ip = ip(i);
                daemons.append("\td").append(i).append(' ').append(ip).append(" { D ").append(ip).append(" C ")
                        .append(ip).append(" }\n");
            }
            processes = new Process[n];
            for (int i = 1; i <= n; i++) {
                Path d = dir.resolve("d" + i);
                Files.createDirectories(d);
                Files.writeString(d.resolve("spread.conf"), "Spread_Segment 127.0." + subnet + ".255:" + port + " {\n"
                        + daemons + "}\nRuntimeDir = " + d + "\n" + FAST);
            }
            for (int i = 1; i <= n; i++) {
                processes[i - 1] = spawn(dir.resolve("d" + i), "d" + i);
            }
            for (int i = 1; i <= n; i++) {
                awaitAccepting(ip(i), port, processes[i - 1], dir.resolve("d" + i).resolve("daemon.log"));
            }
        }

        String ip(int i) {
            return "127.0." + subnet + "." + i;
        }

        SpreadConnection connect(int i, String privateName) throws SpreadException {
            SpreadConnection c = new SpreadConnection();
            try {
                c.connect(InetAddress.getByName(ip(i)), port, privateName, false, true);
            } catch (UnknownHostException e) {
                throw new AssertionError(e);
            }
            return c;
        }

        /** SIGKILL, as a crash. */
        void kill9(int i) throws InterruptedException {
            Process p = processes[i - 1];
            p.destroyForcibly();
            p.waitFor(5, TimeUnit.SECONDS);
        }

        String logs() {
            StringBuilder b = new StringBuilder();
            for (int i = 1; i <= processes.length; i++) {
                b.append("--- d").append(i).append(":\n").append(read(dir.resolve("d" + i).resolve("daemon.log")));
            }
            return b.toString();
        }

        @Override
        public void close() {
            for (Process p : processes) {
                stop(p);
            }
            deleteTree(dir);
        }
    }
}
