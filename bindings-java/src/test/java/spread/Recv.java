package spread;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;

/** Receiving in tests: never forever, and skipping what a test does not look at. */
final class Recv {
    static final Duration WAIT = Duration.ofSeconds(10);

    private Recv() {}

    static SpreadMessage next(SpreadConnection c) throws SpreadException {
        SpreadMessage m = c.receive(WAIT);
        assertNotNull(m, "no message within " + WAIT);
        return m;
    }

    static SpreadMessage data(SpreadConnection c) throws SpreadException {
        while (true) {
            SpreadMessage m = next(c);
            if (m.isRegular()) {
                return m;
            }
        }
    }

    /** The next regular membership of {@code group}, skipping data and others' views. */
    static MembershipInfo view(SpreadConnection c, String group) throws SpreadException {
        while (true) {
            SpreadMessage m = next(c);
            if (m.isMembership() && m.getMembershipInfo().isRegularMembership()
                    && m.getMembershipInfo().getGroup().toString().equals(group)) {
                return m.getMembershipInfo();
            }
        }
    }

    /** Waits for the view of {@code group} that has exactly {@code members} members. */
    static MembershipInfo viewOf(SpreadConnection c, String group, int members) throws SpreadException {
        while (true) {
            MembershipInfo v = view(c, group);
            if (v.getMembers().length == members) {
                return v;
            }
        }
    }

    static void quiet(SpreadConnection c, Duration d) throws SpreadException {
        SpreadMessage m = c.receive(d);
        assertTrue(m == null, () -> "expected nothing, got " + describe(m));
    }

    static String describe(SpreadMessage m) {
        if (m == null) {
            return "null";
        }
        return "service " + Integer.toHexString(m.getServiceType()) + " from " + m.getSender() + " len "
                + m.getData().length;
    }
}
