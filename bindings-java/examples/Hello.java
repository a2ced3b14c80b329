import java.net.InetAddress;
import spread.AdvancedMessageListener;
import spread.MembershipInfo;
import spread.SpreadConnection;
import spread.SpreadException;
import spread.SpreadGroup;
import spread.SpreadMessage;

/**
 * A Spread program written against Spread 5.0.1's Java API: it joins a
 * group, prints what the group says through a listener, sends three
 * messages to it and leaves.
 *
 *   java -cp spread-0.1.0.jar:. Hello [host [port]]
 */
public class Hello {
    public static void main(String[] args) throws Exception {
        InetAddress host = InetAddress.getByName(args.length > 0 ? args[0] : "127.0.0.1");
        int port = args.length > 1 ? Integer.parseInt(args[1]) : 4803;

        SpreadConnection connection = new SpreadConnection();
        connection.add(new AdvancedMessageListener() {
            public void regularMessageReceived(SpreadMessage m) {
                System.out.println("message from " + m.getSender() + ": " + new String(m.getData()));
            }

            public void membershipMessageReceived(SpreadMessage m) {
                MembershipInfo info = m.getMembershipInfo();
                if (info.isRegularMembership()) {
                    System.out.println("view of " + info.getGroup() + ": " + info.getMembers().length
                            + " member(s), joined: " + info.getJoined());
                } else if (info.isSelfLeave()) {
                    System.out.println("left " + info.getGroup());
                }
            }
        });
        connection.connect(host, port, "hello", false, true);
        System.out.println("connected as " + connection.getPrivateGroup());

        SpreadGroup group = new SpreadGroup();
        group.join(connection, "chat");
        for (int i = 1; i <= 3; i++) {
            SpreadMessage message = new SpreadMessage();
            message.setSafe();
            message.addGroup("chat");
            message.setData(("hello " + i).getBytes());
            connection.multicast(message);
        }
        Thread.sleep(500);
        group.leave();
        Thread.sleep(200);
        connection.disconnect();
        System.out.println("disconnected");
    }
}
