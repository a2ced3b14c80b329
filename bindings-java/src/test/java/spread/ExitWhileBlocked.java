package spread;

import java.net.InetAddress;

/**
 * Leaves a receive blocked in native code and a listener thread running,
 * then returns from main: the JVM must exit anyway.
 */
public final class ExitWhileBlocked {
    private ExitWhileBlocked() {}

    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(args[0]);
        SpreadConnection listened = new SpreadConnection();
        listened.add((BasicMessageListener) m -> { });
        listened.connect(InetAddress.getLoopbackAddress(), port, "exl", false, true);
        SpreadConnection blocked = new SpreadConnection();
        blocked.connect(InetAddress.getLoopbackAddress(), port, "exb", false, true);
        Thread t = new Thread(() -> {
            try {
                blocked.receive();
            } catch (Exception e) {
                System.out.println("receive ended: " + e);
            }
        });
        t.setDaemon(true);
        t.start();
        Thread.sleep(300);
        System.out.println("MAIN RETURNS");
    }
}
