package spread;

import java.lang.ref.Cleaner;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.time.Duration;

/**
 * A Flush Spread connection: view synchrony and closed groups over a Spread
 * daemon, with the semantics of Spread 5.0.1's {@code fl.h} (the C
 * {@code FL_*} functions; Spread's own Java library has no Flush API).
 * Interoperates with 5.0.1's Flush clients and with {@code FL_*} programs.
 *
 * <p>What Flush adds to a plain {@link SpreadConnection}:
 * <ul>
 *   <li><b>Views change only with every member's consent.</b> When a group's
 *       membership changes, each member receives a flush request
 *       ({@link FlushMessage#isFlushRequest()}), may go on sending, and then
 *       calls {@link #flush(SpreadGroup)}; the new view
 *       ({@link FlushMessage#isView()}) arrives once every member has
 *       flushed. Between its flush and the new view a member cannot send to
 *       the group.</li>
 *   <li><b>A message is delivered in the view it was sent in</b>, at every
 *       member of that view that survives into the next one, before that
 *       next view.</li>
 *   <li><b>Closed groups</b>: only members send to a group, and a
 *       subgroupcast or unicast goes to members of the sender's view.</li>
 * </ul>
 *
 * <p>A Flush connection must be read: flush requests come with the
 * messages, and a view cannot change until every member has answered. There
 * are no listeners; receive in a loop.
 *
 * <pre>{@code
 * try (FlushConnection c = new FlushConnection()) {
 *     c.connect(InetAddress.getLoopbackAddress(), 4803, "alice", false);
 *     c.join("chat");
 *     while (true) {
 *         FlushMessage m = c.receive();
 *         if (m.isFlushRequest()) {
 *             c.flush(m.getGroup());                 // consent to the next view
 *         } else if (m.isView()) {
 *             System.out.println("view " + Arrays.toString(m.getMembers()));
 *         } else if (m.isData()) {
 *             System.out.println(m.getSender() + ": " + new String(m.getData()));
 *         }
 *     }
 * }
 * }</pre>
 *
 * <p>Sends take a {@link SpreadMessage} built as for {@link SpreadConnection}
 * (service level, type, data) with exactly one group. Errors are
 * {@link SpreadException}s carrying the code {@code FL_*} returns for the
 * same mistake, Flush Spread's five among them
 * ({@link SpreadException#ILLEGAL_MESSAGE_TYPE}, {@link SpreadException#ILLEGAL_STATE},
 * {@link SpreadException#ILLEGAL_RECEIVERS} ...).
 *
 * <p>Threads: every method may be called from any thread; one thread may
 * receive while others send; receives are serialized. {@link #disconnect()}
 * from another thread ends a blocked {@link #receive()}, which throws.
 * A connection neither disconnected nor reachable is closed by the garbage
 * collector, without a goodbye to the daemon.
 */
public class FlushConnection implements AutoCloseable {
    private static final Cleaner CLEANER = Cleaner.create();
    private static final int DEFAULT_PORT = 4803;

    /**
     * The lowest message type an application may send ({@code fl.h}'s
     * {@code FL_MIN_LEGAL_MESS_TYPE}); the three below it are the protocol's.
     */
    public static final short MIN_MESSAGE_TYPE = -32765;

    /** The open session; its handle is immutable, so a call can never act on a later one. */
    private static final class Session implements Runnable {
        final long handle;
        final SpreadGroup privateGroup;

        Session(long handle, SpreadGroup privateGroup) {
            this.handle = handle;
            this.privateGroup = privateGroup;
        }

        /** The cleaner's action: close without a goodbye (a no-op after disconnect). */
        @Override
        public void run() {
            Native.flKill(handle);
        }
    }

    private final Object lifecycle = new Object();
    private volatile Session session;
    private Cleaner.Cleanable cleanable;
    private Duration connectTimeout;

    /** A connection object, not yet connected. */
    public FlushConnection() {}

    /**
     * Limits how long the next connects may take, from opening the socket to
     * the daemon's accept; by default (and with null) there is no limit.
     *
     * @param timeout the limit, or null for none
     * @throws SpreadException (code {@link SpreadException#ILLEGAL_TIME}) for a
     *     zero or negative limit
     */
    public void setConnectTimeout(Duration timeout) throws SpreadException {
        if (timeout != null && (timeout.isNegative() || timeout.isZero())) {
            throw new SpreadException("Illegal connect timeout " + timeout + ".", SpreadException.ILLEGAL_TIME);
        }
        synchronized (lifecycle) {
            connectTimeout = timeout;
        }
    }

    /**
     * Connects to the daemon at {@code address}, port {@code port}, over TCP,
     * as {@code FL_connect} (membership messages are always on: Flush needs
     * them).
     *
     * @param address the daemon's address; null for this machine (the loopback address)
     * @param port the daemon's client port; 0 for Spread's 4803
     * @param privateName this connection's name (up to 10 characters; null or
     *     empty lets the daemon choose); the private group is {@code #name#daemon}
     * @param priority ask for a priority connection
     * @throws SpreadException if already connected, the port is out of range,
     *     the daemon cannot be reached, or it refuses
     */
    public void connect(InetAddress address, int port, String privateName, boolean priority)
            throws SpreadException {
        if (address == null) {
            address = InetAddress.getLoopbackAddress();
        }
        if (port == 0) {
            port = DEFAULT_PORT;
        }
        if (port < 0 || port > 65535) {
            throw new SpreadException("Bad port (" + port + ").", SpreadException.ILLEGAL_SPREAD);
        }
        String host = address.getHostAddress();
        if (address instanceof Inet6Address) {
            host = "[" + host + "]";
        }
        connect(port + "@" + host, privateName, priority);
    }

    /**
     * Connects to a daemon named as Spread's C library names it: {@code "4803"}
     * (the Unix socket {@code /tmp/4803}), {@code "4803@host"},
     * {@code "host:4803"} or a socket path.
     *
     * @param daemon the daemon's name
     * @param privateName this connection's name (null or empty lets the daemon choose)
     * @param priority ask for a priority connection
     * @throws SpreadException if already connected, the name is illegal, the
     *     daemon cannot be reached, or it refuses
     */
    public void connect(String daemon, String privateName, boolean priority) throws SpreadException {
        if (daemon == null) {
            throw new SpreadException("The daemon name is null.", SpreadException.ILLEGAL_SPREAD);
        }
        synchronized (lifecycle) {
            if (session != null) {
                throw new SpreadException("Already connected.", SpreadException.ILLEGAL_SESSION);
            }
            long millis = 0;
            if (connectTimeout != null) {
                try {
                    millis = Math.max(1, connectTimeout.toMillis());
                } catch (ArithmeticException longerThanEver) {
                    millis = 0;
                }
            }
            long handle = Native.flConnect(daemon, privateName, priority ? 1 : 0, millis);
            Session s;
            try {
                s = new Session(handle, new SpreadGroup(null, Native.flPrivateGroup(handle)));
            } catch (SpreadException | RuntimeException | Error e) {
                Native.flKill(handle);
                throw e;
            }
            cleanable = CLEANER.register(this, s);
            session = s;
        }
    }

    private Session require() throws SpreadException {
        Session s = session;
        if (s == null) {
            throw new SpreadException("Not connected.", SpreadException.ILLEGAL_SESSION);
        }
        return s;
    }

    /**
     * Says goodbye to the daemon and closes the connection ({@code FL_disconnect});
     * the other members flush into views without it. A receive blocked in
     * another thread throws. The object can connect again afterwards.
     *
     * @throws SpreadException if not connected
     */
    public void disconnect() throws SpreadException {
        Session s;
        Cleaner.Cleanable c;
        synchronized (lifecycle) {
            s = require();
            session = null;
            c = cleanable;
            cleanable = null;
        }
        try {
            Native.flDisconnect(s.handle);
        } finally {
            c.clean();
        }
    }

    /**
     * Disconnects if connected; does nothing otherwise (for try-with-resources).
     *
     * @throws SpreadException if the goodbye cannot be sent
     */
    @Override
    public void close() throws SpreadException {
        try {
            disconnect();
        } catch (SpreadException e) {
            if (e.getCode() != SpreadException.ILLEGAL_SESSION) {
                throw e;
            }
        }
    }

    /** True between a successful connect and the disconnect. */
    public boolean isConnected() {
        return session != null;
    }

    /** This connection's private group ({@code #name#daemon}); null when not connected. */
    public SpreadGroup getPrivateGroup() {
        Session s = session;
        return s == null ? null : s.privateGroup;
    }

    private static String name(SpreadGroup group) throws SpreadException {
        String name = group == null ? null : group.toString();
        if (name == null) {
            throw new SpreadException("The group is null.", SpreadException.ILLEGAL_GROUP);
        }
        return name;
    }

    /**
     * Joins a group ({@code FL_join}). The first view that includes this
     * connection arrives once the members have flushed.
     *
     * @param group the group's name: 1 to 31 characters from '$' to '~'
     * @throws SpreadException if not connected, the name is null or illegal,
     *     or the group is already joined, being joined or being left (code
     *     {@link SpreadException#ILLEGAL_GROUP})
     */
    public void join(String group) throws SpreadException {
        if (group == null) {
            throw new SpreadException("Cannot join: the group name is null.", SpreadException.ILLEGAL_GROUP);
        }
        Native.flJoin(require().handle, group);
    }

    /**
     * Joins the group named by {@code group}; as {@link #join(String)}.
     *
     * @param group the group
     * @throws SpreadException as {@link #join(String)}
     */
    public void join(SpreadGroup group) throws SpreadException {
        join(name(group));
    }

    /**
     * Leaves a group ({@code FL_leave}); a self-leave
     * ({@link FlushMessage#isSelfLeave()}) follows, and the other members
     * flush into a view without this connection.
     *
     * @param group the group's name
     * @throws SpreadException if not connected, or not a member of the group
     *     (joined, view installed, not already leaving: code
     *     {@link SpreadException#ILLEGAL_GROUP})
     */
    public void leave(String group) throws SpreadException {
        if (group == null) {
            throw new SpreadException("Cannot leave: the group name is null.", SpreadException.ILLEGAL_GROUP);
        }
        Native.flLeave(require().handle, group);
    }

    /**
     * Leaves the group named by {@code group}; as {@link #leave(String)}.
     *
     * @param group the group
     * @throws SpreadException as {@link #leave(String)}
     */
    public void leave(SpreadGroup group) throws SpreadException {
        leave(name(group));
    }

    /**
     * Consents to the group's next view ({@code FL_flush}): the answer to a
     * flush request, once per request. Until the new view arrives, this
     * connection cannot send to the group.
     *
     * @param group the group's name
     * @throws SpreadException if not connected; not a member or leaving (code
     *     {@link SpreadException#ILLEGAL_GROUP}); no flush request pending (code
     *     {@link SpreadException#ILLEGAL_STATE})
     */
    public void flush(String group) throws SpreadException {
        if (group == null) {
            throw new SpreadException("Cannot flush: the group name is null.", SpreadException.ILLEGAL_GROUP);
        }
        Native.flFlush(require().handle, group);
    }

    /**
     * Flushes the group named by {@code group} (such as a flush request's
     * {@link FlushMessage#getGroup()}); as {@link #flush(String)}.
     *
     * @param group the group
     * @throws SpreadException as {@link #flush(String)}
     */
    public void flush(SpreadGroup group) throws SpreadException {
        flush(name(group));
    }

    private static String onlyGroup(SpreadMessage message) throws SpreadException {
        if (message == null) {
            throw new SpreadException("The message is null.", SpreadException.ILLEGAL_MESSAGE);
        }
        SpreadGroup[] groups = message.getGroups();
        if (groups.length != 1) {
            throw new SpreadException("A Flush message goes to exactly one group; this one names "
                    + groups.length + ".", SpreadException.ILLEGAL_GROUP);
        }
        return name(groups[0]);
    }

    private void send(SpreadMessage message, SpreadGroup[] receivers) throws SpreadException {
        String group = onlyGroup(message);
        byte[] fields = null;
        if (receivers != null) {
            fields = Native.nameFields(receivers, "Receiver", "of the subgroupcast",
                    SpreadException.ILLEGAL_RECEIVERS);
        }
        Native.flSend(require().handle, message.getServiceType(), group, fields, message.getType(),
                message.getData());
    }

    /**
     * Sends a message to every member of its group's current view
     * ({@code FL_multicast}): its service level, type and data; its one group
     * must be joined (or be a private group). Delivered in this view.
     *
     * @param message an outgoing message with exactly one group
     * @throws SpreadException if not connected; the message is null (code
     *     {@link SpreadException#ILLEGAL_MESSAGE}); it names no group or more
     *     than one, or a group not joined ({@link SpreadException#ILLEGAL_GROUP});
     *     its service type cannot be sent ({@link SpreadException#ILLEGAL_SERVICE});
     *     its type is below {@link #MIN_MESSAGE_TYPE}
     *     ({@link SpreadException#ILLEGAL_MESSAGE_TYPE}); the group was flushed
     *     and its new view has not come yet ({@link SpreadException#ILLEGAL_STATE});
     *     it is too long ({@link SpreadException#MESSAGE_TOO_LONG})
     */
    public void multicast(SpreadMessage message) throws SpreadException {
        send(message, null);
    }

    /**
     * Sends a message to some members of its group's current view
     * ({@code FL_subgroupcast}); they receive it with
     * {@link FlushMessage#getReceivers()} naming them.
     *
     * @param message an outgoing message with exactly one group
     * @param receivers members' private groups (such as a view's
     *     {@link FlushMessage#getMembers()})
     * @throws SpreadException as {@link #multicast(SpreadMessage)}, and (code
     *     {@link SpreadException#ILLEGAL_RECEIVERS}) if the array or a receiver
     *     is null, or a receiver is not in this connection's view of the group
     */
    public void subgroupcast(SpreadMessage message, SpreadGroup[] receivers) throws SpreadException {
        if (receivers == null) {
            throw new SpreadException("The receivers are null.", SpreadException.ILLEGAL_RECEIVERS);
        }
        send(message, receivers);
    }

    /**
     * Sends a message to the members named; as
     * {@link #subgroupcast(SpreadMessage, SpreadGroup[])}.
     *
     * @param message an outgoing message with exactly one group
     * @param receivers the members' private group names ({@code #name#daemon})
     * @throws SpreadException as {@link #subgroupcast(SpreadMessage, SpreadGroup[])}
     */
    public void subgroupcast(SpreadMessage message, String[] receivers) throws SpreadException {
        if (receivers == null) {
            throw new SpreadException("The receivers are null.", SpreadException.ILLEGAL_RECEIVERS);
        }
        SpreadGroup[] groups = new SpreadGroup[receivers.length];
        for (int i = 0; i < receivers.length; i++) {
            groups[i] = receivers[i] == null ? null : new SpreadGroup(null, receivers[i]);
        }
        send(message, groups);
    }

    /**
     * Sends a message to one member of its group's current view
     * ({@code FL_unicast}).
     *
     * @param message an outgoing message with exactly one group
     * @param receiver the member's private group
     * @throws SpreadException as {@link #subgroupcast(SpreadMessage, SpreadGroup[])}
     */
    public void unicast(SpreadMessage message, SpreadGroup receiver) throws SpreadException {
        send(message, new SpreadGroup[] {receiver});
    }

    /**
     * Sends a message to one member, by name; as
     * {@link #unicast(SpreadMessage, SpreadGroup)}.
     *
     * @param message an outgoing message with exactly one group
     * @param receiver the member's private group name ({@code #name#daemon})
     * @throws SpreadException as {@link #subgroupcast(SpreadMessage, SpreadGroup[])}
     */
    public void unicast(SpreadMessage message, String receiver) throws SpreadException {
        subgroupcast(message, new String[] {receiver});
    }

    /**
     * Receives the next message ({@code FL_receive}), waiting as long as it takes.
     *
     * @return the message
     * @throws SpreadException if not connected, the connection is lost, or
     *     another thread disconnects meanwhile
     */
    public FlushMessage receive() throws SpreadException {
        return Native.receiveFlushMessage(require().handle, -1);
    }

    /**
     * Receives the next message if one arrives within {@code timeout}.
     *
     * @param timeout how long to wait; zero takes only a message already
     *     here ({@code FL_receive} with {@code DONT_BLOCK}; also nothing while
     *     another thread is receiving)
     * @return the message, or null if none came in time
     * @throws SpreadException as {@link #receive()}, or (code
     *     {@link SpreadException#ILLEGAL_TIME}) for a null or negative timeout
     */
    public FlushMessage receive(Duration timeout) throws SpreadException {
        if (timeout == null || timeout.isNegative()) {
            throw new SpreadException("Illegal timeout " + timeout + ".", SpreadException.ILLEGAL_TIME);
        }
        long nanos;
        try {
            nanos = timeout.toNanos();
        } catch (ArithmeticException tooLong) {
            nanos = -1;
        }
        return Native.receiveFlushMessage(require().handle, nanos);
    }

    /**
     * True if a message (or the start of one) is waiting to be received
     * ({@code FL_poll} &gt; 0).
     *
     * @throws SpreadException if not connected or the connection is lost
     */
    public boolean poll() throws SpreadException {
        return Native.flPoll(require().handle) > 0;
    }

    /**
     * How many messages the Flush layer holds ready for this program
     * ({@code FL_more_msgs}); those still on the way from the daemon are not
     * counted: 0 does not mean {@link #receive()} would block.
     *
     * @throws SpreadException if not connected
     */
    public int moreMessages() throws SpreadException {
        return Native.flMoreMessages(require().handle);
    }
}
