package spread;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** PEERCRED and SECRET (methods of spread-rs's daemon) from Java; the exchanges are the Rust client's. */
class AuthTest {
    private static final String SECRET = "the shared secret of the backup service";
    private static Path files;
    private static Daemons.Single daemon;

    @BeforeAll
    static void start() throws Exception {
        files = Files.createTempDirectory("spread-java-auth");
        Path secrets = files.resolve("secrets");
        Files.writeString(secrets, "backup " + SECRET + "\n");
        Files.setPosixFilePermissions(secrets, PosixFilePermissions.fromString("rw-------"));
        // The directory just made is this process's user's.
        Object uid = Files.getAttribute(files, "unix:uid");
        daemon = new Daemons.Single("AllowedAuthMethods = \"NULL PEERCRED SECRET\"\nAllowUsers = " + uid
                + "\nAuthSecretFile = " + secrets);
    }

    @AfterAll
    static void stop() {
        if (daemon != null) {
            daemon.close();
        }
        Daemons.deleteTree(files);
    }

    @Test
    void peerCredPassesOnTheUnixSocketOnly() throws Exception {
        try (SpreadConnection c = new SpreadConnection()) {
            c.registerPeerCredAuthentication();
            c.connect(daemon.dir.resolve(Integer.toString(daemon.port)).toString(), "pc", false, false);
            assertEquals("#pc#localhost", c.getPrivateGroup().toString());
            c.disconnect();
            SpreadException e = assertThrows(SpreadException.class,
                    () -> c.connect(daemon.address(), daemon.port, "pctcp", false, false));
            assertEquals(SpreadException.REJECT_AUTH, e.getCode());
        }
    }

    @Test
    void secretFromBytesAndFromAFile() throws Exception {
        try (SpreadConnection c = new SpreadConnection()) {
            c.registerSecretAuthentication("backup", SECRET.getBytes(StandardCharsets.UTF_8));
            c.connect(daemon.address(), daemon.port, "sec", false, false);
            c.disconnect();
            c.registerSecretAuthentication("backup", "not the secret at all".getBytes(StandardCharsets.UTF_8));
            SpreadException wrong = assertThrows(SpreadException.class,
                    () -> c.connect(daemon.address(), daemon.port, "wrong", false, false));
            assertEquals(SpreadException.REJECT_AUTH, wrong.getCode());
            Path key = files.resolve("client-secret");
            Files.writeString(key, SECRET + "\n");
            Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-r--r--"));
            c.registerSecretAuthentication("backup", key);
            SpreadException open = assertThrows(SpreadException.class,
                    () -> c.connect(daemon.address(), daemon.port, "open", false, false));
            assertEquals(SpreadException.REJECT_AUTH, open.getCode());
            assertTrue(open.getMessage().contains("chmod 600"), open.getMessage());
            Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-------"));
            c.connect(daemon.address(), daemon.port, "file", false, false);
            c.disconnect();
            // Back to 5.0.1's NULL.
            c.registerAuthentication("NULL", NULLAuth.class.getName());
            c.connect(daemon.address(), daemon.port, "null", false, false);
        }
    }
}
