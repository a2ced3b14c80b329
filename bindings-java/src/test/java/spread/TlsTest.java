package spread;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * TLS to a daemon's TlsAddress (spread-rs) from Java, with a client
 * certificate the daemon requires; certificates made by
 * scripts/test-certs.sh (openssl). The TLS is the Rust client's.
 */
class TlsTest {
    private static Path files;
    private static Daemons.Single daemon;
    private static String tlsName;

    @BeforeAll
    static void start() throws Exception {
        boolean openssl;
        try {
            openssl = new ProcessBuilder("openssl", "version").start().waitFor() == 0;
        } catch (java.io.IOException e) {
            openssl = false;
        }
        assumeTrue(openssl, "no openssl command to make certificates");
        files = Files.createTempDirectory("spread-java-tls");
        Process p = new ProcessBuilder(Daemons.workspace().resolve("scripts/test-certs.sh").toString(),
                files.toString(), "alice").inheritIO().start();
        assertEquals(0, p.waitFor(), "scripts/test-certs.sh");
        int port = Daemons.freePort();
        tlsName = port + "@127.0.0.1";
        daemon = new Daemons.Single("TlsAddress = 127.0.0.1:" + port + "\nTlsCertificateFile = "
                + files.resolve("server.crt") + "\nTlsKeyFile = " + files.resolve("server.key")
                + "\nTlsClientCAFile = " + files.resolve("ca.pem"));
    }

    @AfterAll
    static void stop() {
        if (daemon != null) {
            daemon.close();
        }
        if (files != null) {
            Daemons.deleteTree(files);
        }
    }

    @Test
    void aSessionOverTlsWithAClientCertificate() throws Exception {
        try (SpreadConnection c = new SpreadConnection()) {
            c.registerTls(files.resolve("ca.pem"), files.resolve("alice.crt"), files.resolve("alice.key"));
            c.connect(tlsName, "jtls", false, false);
            SpreadGroup g = new SpreadGroup();
            g.join(c, "jtlsg");
            SpreadMessage m = new SpreadMessage();
            m.addGroup("jtlsg");
            m.setAgreed();
            m.setData(new byte[] {1, 2, 3});
            c.multicast(m);
            SpreadMessage got = Recv.data(c);
            assertArrayEquals(new byte[] {1, 2, 3}, got.getData());
            c.disconnect();

            // No client certificate: the daemon refuses.
            c.registerTls(files.resolve("ca.pem"), null, null);
            SpreadException anon = assertThrows(SpreadException.class, () -> c.connect(tlsName, "janon", false, false));
            assertEquals(SpreadException.COULD_NOT_CONNECT, anon.getCode());
            assertTrue(anon.getMessage().contains("CertificateRequired"), anon.getMessage());
            // A file that does not read: named.
            c.registerTls(files.resolve("missing.pem"), null, null);
            SpreadException missing = assertThrows(SpreadException.class, () -> c.connect(tlsName, "jm", false, false));
            assertTrue(missing.getMessage().contains("missing.pem"), missing.getMessage());
            assertThrows(SpreadException.class, () -> c.registerTls(files.resolve("ca.pem"), files.resolve("alice.crt"), null));
            // TLS off: the plain port.
            c.registerTls(null, null, null);
            c.connect(daemon.address(), daemon.port, "jplain", false, false);
        }
    }
}
