package spread;

import static org.junit.jupiter.api.Assertions.*;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** Properties that only a JVM of its own shows: -Xcheck:jni, exit, loading. */
class JvmProcessTest extends WithDaemon {

    record Run(int exit, String output, boolean finished) {}

    static String classpath() {
        String cp = System.getProperty("spread.test.classpath");
        return cp != null ? cp : System.getProperty("java.class.path");
    }

    static Run java(List<String> jvmArgs, String classpath, String main, String... args)
            throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Paths.get(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(jvmArgs);
        cmd.add("-cp");
        cmd.add(classpath);
        cmd.add(main);
        cmd.addAll(Arrays.asList(args));
        Path out = Files.createTempFile("spread-jvm", ".log");
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile()).start();
            boolean finished = p.waitFor(60, TimeUnit.SECONDS);
            if (!finished) {
                p.destroyForcibly().waitFor();
            }
            return new Run(finished ? p.exitValue() : -1, Files.readString(out), finished);
        } finally {
            Files.deleteIfExists(out);
        }
    }

    @Test
    void everyNativeMethodPassesXcheckJniWithoutWarnings() throws Exception {
        Run r = java(List.of("-Xcheck:jni"), classpath(), "spread.JniWorkload", Integer.toString(daemon.port));
        assertTrue(r.finished(), r.output());
        assertEquals(0, r.exit(), r.output());
        assertTrue(r.output().contains("WORKLOAD OK"), r.output());
        List<String> warnings = r.output().lines()
                .filter(l -> l.contains("WARNING") || l.contains("FATAL ERROR"))
                .collect(Collectors.toList());
        assertEquals(List.of(), warnings, r.output());
    }

    @Test
    void aReceiveBlockedInNativeCodeDoesNotKeepTheJvmAlive() throws Exception {
        long t0 = System.nanoTime();
        Run r = java(List.of(), classpath(), "spread.ExitWhileBlocked", Integer.toString(daemon.port));
        assertTrue(r.finished(), "the JVM did not exit: " + r.output());
        assertEquals(0, r.exit(), r.output());
        assertTrue(r.output().contains("MAIN RETURNS"), r.output());
        assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(30));
    }

    /** Compiles {@code examples/<name>.java} against the classes, runs it against the daemon, returns its output. */
    static String runExample(String name) throws Exception {
        javax.tools.JavaCompiler javac = javax.tools.ToolProvider.getSystemJavaCompiler();
        org.junit.jupiter.api.Assumptions.assumeTrue(javac != null, "this JVM has no compiler (a JRE)");
        Path example = Daemons.workspace().resolve("bindings-java/examples/" + name + ".java");
        Path out = Files.createTempDirectory("spread-example");
        try {
            String classes = classpath().split(File.pathSeparator)[0];
            int rc = javac.run(null, null, null, "-d", out.toString(), "-cp", classes, example.toString());
            assertEquals(0, rc, "javac " + example);
            Run r = java(List.of(), classes + File.pathSeparator + out, name, "127.0.0.1",
                    Integer.toString(daemon.port));
            assertEquals(0, r.exit(), r.output());
            return r.output();
        } finally {
            Daemons.deleteTree(out);
        }
    }

    @Test
    void theReadmeExampleCompilesAndRuns() throws Exception {
        String expected = "connected as #hello#localhost\n"
                + "view of chat: 1 member(s), joined: #hello#localhost\n"
                + "message from #hello#localhost: hello 1\n"
                + "message from #hello#localhost: hello 2\n"
                + "message from #hello#localhost: hello 3\n"
                + "left chat\n"
                + "disconnected\n";
        assertEquals(expected, runExample("Hello"));
    }

    @Test
    void theReadmeFlushExampleCompilesAndRuns() throws Exception {
        String expected = "connected as #flhello#localhost\n"
                + "view of flchat: [#flhello#localhost], I am #0\n"
                + "message from #flhello#localhost: hello\n"
                + "left flchat\n"
                + "disconnected\n";
        assertEquals(expected, runExample("FlushHello"));
    }

    /** target/classes without the packed library: the jar of a platform we did not build for. */
    static Path classesWithoutLibrary() throws IOException {
        Path classes = Paths.get(classpath().split(File.pathSeparator)[0]);
        Path copy = Files.createTempDirectory("spread-nolib");
        try (Stream<Path> walk = Files.walk(classes)) {
            for (Path p : (Iterable<Path>) walk::iterator) {
                Path rel = classes.relativize(p);
                if (rel.startsWith("native")) {
                    continue;
                }
                Path to = copy.resolve(rel.toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(to);
                } else {
                    Files.copy(p, to);
                }
            }
        }
        return copy;
    }

    static Path packedLibrary() {
        Path classes = Paths.get(classpath().split(File.pathSeparator)[0]);
        return classes.resolve("native").resolve(Native.platform()).resolve("libspread_jni.so");
    }

    @Test
    void theLoaderNamesEverythingItTried() throws Exception {
        Path bare = classesWithoutLibrary();
        try {
            Path empty = Files.createTempDirectory("spread-empty");
            String cp = bare + File.pathSeparator + classpath().split(File.pathSeparator)[1];
            Run r = java(List.of("-Djava.library.path=" + empty), cp, "spread.LoadOnly");
            assertNotEquals(0, r.exit(), r.output());
            assertTrue(r.output().contains("UnsatisfiedLinkError"), r.output());
            assertTrue(r.output().contains("java.library.path=" + empty), r.output());
            assertTrue(r.output().contains("/native/" + Native.platform() + "/libspread_jni.so"), r.output());
            assertTrue(r.output().contains("spread.library.path"), "the message says how to fix it: " + r.output());
            Files.delete(empty);

            Path libDir = packedLibrary().getParent();
            Run viaJava = java(List.of("-Djava.library.path=" + libDir), cp, "spread.LoadOnly");
            assertEquals(0, viaJava.exit(), viaJava.output());
            assertTrue(viaJava.output().contains("LOADED 5"), viaJava.output());
        } finally {
            Daemons.deleteTree(bare);
        }
    }

    @Test
    void spreadLibraryPathOverridesAndFailsLoudly() throws Exception {
        Run missing = java(List.of("-Dspread.library.path=/nonexistent/libspread_jni.so"), classpath(),
                "spread.LoadOnly");
        assertNotEquals(0, missing.exit(), missing.output());
        assertTrue(missing.output().contains("UnsatisfiedLinkError"), missing.output());
        assertTrue(missing.output().contains("/nonexistent/libspread_jni.so"), missing.output());

        Run file = java(List.of("-Dspread.library.path=" + packedLibrary()), classpath(), "spread.LoadOnly");
        assertEquals(0, file.exit(), file.output());
        Run dir = java(List.of("-Dspread.library.path=" + packedLibrary().getParent()), classpath(),
                "spread.LoadOnly");
        assertEquals(0, dir.exit(), dir.output());
        assertTrue(dir.output().contains("LOADED 5"), dir.output());
    }

    @Test
    void theJarsCopyIsLoadedAndLeavesNoFileBehind() throws Exception {
        Path tmp = Files.createTempDirectory("spread-tmpdir");
        try {
            Run r = java(List.of("-Djava.io.tmpdir=" + tmp), classpath(), "spread.LoadOnly");
            assertEquals(0, r.exit(), r.output());
            try (Stream<Path> left = Files.list(tmp)) {
                assertEquals(List.of(), left.collect(Collectors.toList()), "the extracted library is removed");
            }
        } finally {
            Daemons.deleteTree(tmp);
        }
    }
}
