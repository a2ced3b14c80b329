package spread;

import java.util.Locale;

/**
 * A flooder written against Spread's Java API, with spflooder's algorithm
 * and flags (send and read back, a window of own messages in flight), for
 * comparing the binding's throughput with the Rust spflooder on one daemon.
 *
 * <pre>java -cp target/classes:target/test-classes spread.Flooder -s 4803@127.0.0.1 -t agreed -m 100000 -b 1000</pre>
 */
public final class Flooder {
    private Flooder() {}

    private static final String USAGE = "Usage: spread.Flooder [-u user] [-m messages] [-b bytes] [-s port@host]"
            + " [-g group] [-t unreliable|reliable|fifo|causal|agreed|safe] [-w window] [-warmup messages]";

    public static void main(String[] args) throws Exception {
        String user = "jflooder";
        String daemon = "4803@127.0.0.1";
        String group = "flooder";
        String service = "reliable";
        long messages = 10_000;
        int bytes = 1000;
        long window = 200;
        long warmup = 0;
        for (int i = 0; i < args.length; i++) {
            String flag = args[i];
            if (i + 1 >= args.length) {
                System.err.println("flag " + flag + " needs a value\n" + USAGE);
                System.exit(2);
            }
            String v = args[++i];
            switch (flag) {
                case "-u": user = v; break;
                case "-s": daemon = v; break;
                case "-g": group = v; break;
                case "-t": service = v.toLowerCase(Locale.ROOT); break;
                case "-m": messages = Long.parseLong(v); break;
                case "-b": bytes = Integer.parseInt(v); break;
                case "-w": window = Long.parseLong(v); break;
                case "-warmup": warmup = Long.parseLong(v); break;
                default:
                    System.err.println("unknown flag " + flag + "\n" + USAGE);
                    System.exit(2);
            }
        }
        try (SpreadConnection c = new SpreadConnection()) {
            c.connect(daemon, user, false, false);
            SpreadGroup me = c.getPrivateGroup();
            new SpreadGroup().join(c, group);
            SpreadMessage m = new SpreadMessage();
            switch (service) {
                case "unreliable": m.setUnreliable(); break;
                case "reliable": m.setReliable(); break;
                case "fifo": m.setFifo(); break;
                case "causal": m.setCausal(); break;
                case "agreed": m.setAgreed(); break;
                case "safe": m.setSafe(); break;
                default:
                    System.err.println("unknown service " + service + "\n" + USAGE);
                    System.exit(2);
            }
            m.addGroup(group);
            m.setData(new byte[bytes]);
            if (warmup > 0) {
                flood(c, m, me, warmup, window);
            }
            long t0 = System.nanoTime();
            flood(c, m, me, messages, window);
            double secs = (System.nanoTime() - t0) / 1e9;
            System.out.printf(Locale.ROOT,
                    "flooder: %d messages, %d bytes in %.3f s: %.1f msgs/s, %.3f MB/s (1 MB = 10^6 bytes)%n",
                    messages, messages * bytes, secs, messages / secs, messages * (double) bytes / secs / 1e6);
        }
    }

    /** Sends {@code n}; past the window, reads until one of its own is back; then reads all back. */
    private static void flood(SpreadConnection c, SpreadMessage m, SpreadGroup me, long n, long window)
            throws Exception {
        long back = 0;
        for (long i = 1; i <= n; i++) {
            c.multicast(m);
            if (i > window) {
                while (!isMine(c.receive(), me)) {
                    // other senders' messages and memberships are skipped
                }
                back++;
            }
        }
        while (back < n) {
            if (isMine(c.receive(), me)) {
                back++;
            }
        }
    }

    private static boolean isMine(SpreadMessage m, SpreadGroup me) throws SpreadException {
        if (m.isReject()) {
            throw new SpreadException("the daemon rejected a message", SpreadException.ILLEGAL_MESSAGE);
        }
        return m.isRegular() && me.equals(m.getSender());
    }
}
