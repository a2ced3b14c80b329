import java.net.InetAddress;
import java.util.Arrays;
import spread.*;

public class FlushHello {
    public static void main(String[] args) throws Exception {
        try (FlushConnection connection = new FlushConnection()) {
            connection.connect(InetAddress.getByName(args[0]), Integer.parseInt(args[1]), "flhello", false);
            System.out.println("connected as " + connection.getPrivateGroup());
            connection.join("flchat");
            while (true) {
                FlushMessage m = connection.receive();
                if (m.isFlushRequest()) {
                    connection.flush(m.getGroup());      // consent to the next view
                } else if (m.isView()) {
                    System.out.println("view of " + m.getGroup() + ": " + Arrays.toString(m.getMembers())
                            + ", I am #" + m.getMyIndex());
                    SpreadMessage hello = new SpreadMessage();
                    hello.setAgreed();
                    hello.addGroup(m.getGroup());
                    hello.setData("hello".getBytes());
                    connection.multicast(hello);         // delivered in this view
                } else if (m.isData()) {
                    System.out.println("message from " + m.getSender() + ": " + new String(m.getData()));
                    connection.leave(m.getGroup());
                } else if (m.isSelfLeave()) {
                    System.out.println("left " + m.getGroup());
                    break;
                }
            }
        }
        System.out.println("disconnected");
    }
}
