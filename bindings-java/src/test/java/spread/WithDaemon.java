package spread;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** A test class whose tests share one daemon, started before its first test and stopped after its last. */
abstract class WithDaemon {
    static Daemons.Single daemon;

    @BeforeAll
    static void startDaemon() throws Exception {
        daemon = new Daemons.Single();
    }

    @AfterAll
    static void stopDaemon() {
        if (daemon != null) {
            daemon.close();
            daemon = null;
        }
    }
}
