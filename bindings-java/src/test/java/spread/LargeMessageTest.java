package spread;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;

/** Messages above 5.0.1's limit, through a daemon whose MaxMessageSize allows them (the binding sets no limit of its own). */
class LargeMessageTest {
    @Test
    void aOneMegabyteMessageWithMaxMessageSize() throws Exception {
        try (Daemons.Single daemon = new Daemons.Single("MaxMessageSize = 2097152");
                SpreadConnection a = daemon.connect("la", true);
                SpreadConnection b = daemon.connect("lb", false)) {
            new SpreadGroup().join(a, "large");
            Recv.view(a, "large");
            byte[] body = new byte[1 << 20];
            for (int i = 0; i < body.length; i++) {
                body[i] = (byte) (i * 7 + (i >> 12));
            }
            SpreadMessage m = new SpreadMessage();
            m.addGroup("large");
            m.setData(body);
            b.multicast(m);
            SpreadMessage got = Recv.data(a);
            assertEquals("#lb#localhost", got.getSender().toString());
            assertArrayEquals(body, got.getData());
            SpreadMessage tooBig = new SpreadMessage();
            tooBig.addGroup("large");
            tooBig.setData(new byte[(2 << 20) + 1]);
            SpreadException e = assertThrows(SpreadException.class, () -> b.multicast(tooBig));
            assertEquals(SpreadException.MESSAGE_TOO_LONG, e.getCode());
        }
    }
}
