package spread;

import java.io.InterruptedIOException;
import java.lang.ref.Cleaner;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.time.Duration;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A connection to a Spread daemon: join and leave groups, send messages,
 * receive messages directly or through listeners.
 *
 * <h2>Threads</h2>
 * <ul>
 *   <li>Every method may be called from any thread. Sends from several threads
 *       go out whole, one after another. Receives in several threads each get
 *       different messages, in order between them.</li>
 *   <li>{@link #disconnect()} (or {@link #close()}) from another thread ends a
 *       {@link #receive()} blocked in this connection: it throws a
 *       {@link SpreadException}.</li>
 *   <li>Listeners run on one listener thread per connection, started when the
 *       first listener is added to a connected connection (or at connect) and
 *       stopped when the last is removed or at disconnect. It is a daemon
 *       thread: it does not keep the JVM alive. Listeners may call any method
 *       of the connection, including {@code add}, {@code remove} and
 *       {@code disconnect}.</li>
 *   <li>{@link Thread#interrupt()} does not end a blocked receive; use
 *       {@link #receive(Duration)} or disconnect.</li>
 * </ul>
 * A connection that is neither disconnected nor reachable is closed by the
 * garbage collector, without a goodbye to the daemon. A connection with
 * listeners is reachable from its listener thread: it stays open until it
 * is disconnected (or its listeners are removed and it is dropped).
 */
public class SpreadConnection implements AutoCloseable {
    private static final Cleaner CLEANER = Cleaner.create();

    /** How often a listener thread with nothing to do checks whether to stop. */
    private static final long LISTENER_TICK_NANOS = Duration.ofMillis(100).toNanos();

    private static final int DEFAULT_PORT = 4803;
    private static final int MAX_AUTH_NAME = 30;

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
            Native.kill(handle);
        }
    }

    private final Object lifecycle = new Object();
    private volatile Session session;
    private Cleaner.Cleanable cleanable;

    private Duration connectTimeout;
    private String authName = "NULL";
    private String authClassName = NULLAuth.class.getName();
    /** SECRET (ours): the identity, and the secret or the file holding it. */
    private String secretIdentity;
    private byte[] secret;
    private String secretFile;
    /** TLS (ours): the CAs to trust, and the client certificate and key, as paths. */
    private String tlsCaFile;
    private String tlsCertFile;
    private String tlsKeyFile;

    private final List<BasicMessageListener> basicListeners = new CopyOnWriteArrayList<>();
    private final List<AdvancedMessageListener> advancedListeners = new CopyOnWriteArrayList<>();
    private Thread listener;
    /** Messages a stopping listener thread received after its last listener left. */
    private final Queue<SpreadMessage> leftovers = new ConcurrentLinkedQueue<>();

    /** A connection object, not yet connected. */
    public SpreadConnection() {}

    /**
     * Chooses the authentication method for the next connects. Spread 5.0.1's
     * daemons offer {@code NULL} and {@code IP}, which need no exchange.
     *
     * @param authName the method's name as the daemon knows it (cut to 30 characters)
     * @param authClassName a class implementing {@link SpreadAuthInterface}
     *     with a public no-argument constructor
     * @throws SpreadException if connected, or a name is null
     */
    public void registerAuthentication(String authName, String authClassName) throws SpreadException {
        if (authName == null || authClassName == null) {
            throw new SpreadException("The authentication name and class must not be null.",
                    SpreadException.REJECT_AUTH);
        }
        synchronized (lifecycle) {
            if (session != null) {
                throw new SpreadException("Already connected.", SpreadException.ILLEGAL_SESSION);
            }
            this.authName = authName.length() > MAX_AUTH_NAME ? authName.substring(0, MAX_AUTH_NAME) : authName;
            this.authClassName = authClassName;
            clearSecretLocked();
        }
    }

    /**
     * Chooses PEERCRED for the next connects (a daemon of spread-rs): on the
     * Unix socket the daemon checks this process's user and group with the
     * kernel; nothing is exchanged. Over TCP the daemon refuses it. An
     * addition to Spread 5.0.1's Java API.
     *
     * @throws SpreadException if connected
     */
    public void registerPeerCredAuthentication() throws SpreadException {
        registerAuthentication("PEERCRED", NULLAuth.class.getName());
    }

    /**
     * Chooses SECRET for the next connects (a daemon of spread-rs with an
     * AuthSecretFile): the daemon's challenge is answered with an HMAC of
     * the secret, which is never sent. An addition to Spread 5.0.1's Java API.
     *
     * @param identity the name the daemon knows the secret by (1 to 64 letters,
     *     digits, '.', '_', '-', '@')
     * @param secret the shared secret (copied)
     * @throws SpreadException if connected, or an argument is null
     */
    public void registerSecretAuthentication(String identity, byte[] secret) throws SpreadException {
        if (identity == null || secret == null) {
            throw new SpreadException("The identity and secret must not be null.", SpreadException.REJECT_AUTH);
        }
        setSecret(identity, secret.clone(), null);
    }

    /**
     * As {@link #registerSecretAuthentication(String, byte[])}, the secret read
     * at each connect from {@code file} (its bytes without a final newline;
     * mode 0600 or 0400, else the connect fails with REJECT_AUTH).
     *
     * @param identity the name the daemon knows the secret by
     * @param file the file holding the secret
     * @throws SpreadException if connected, or an argument is null
     */
    public void registerSecretAuthentication(String identity, java.nio.file.Path file) throws SpreadException {
        if (identity == null || file == null) {
            throw new SpreadException("The identity and file must not be null.", SpreadException.REJECT_AUTH);
        }
        setSecret(identity, null, file.toString());
    }

    private void setSecret(String identity, byte[] bytes, String file) throws SpreadException {
        synchronized (lifecycle) {
            if (session != null) {
                throw new SpreadException("Already connected.", SpreadException.ILLEGAL_SESSION);
            }
            authName = "SECRET";
            authClassName = NULLAuth.class.getName();
            secretIdentity = identity;
            secret = bytes;
            secretFile = file;
        }
    }

    /**
     * Speaks TLS on the next connects (a daemon of spread-rs, at its
     * TlsAddress: {@code connect("4813@host", ...)}): the daemon's certificate
     * must be signed by a CA of {@code caFile} (PEM) and carry the host of the
     * daemon name; {@code certFile} and {@code keyFile} (PEM, both or neither)
     * are shown to a daemon that asks for a client certificate. The files are
     * read at each connect; a bad one fails it with COULD_NOT_CONNECT and its
     * name. A null {@code caFile} turns TLS off. An addition to Spread 5.0.1's
     * Java API.
     *
     * @param caFile the CAs to trust, or null for no TLS
     * @param certFile the client certificate chain, or null
     * @param keyFile its private key, or null
     * @throws SpreadException if connected, or a certificate comes without its key
     */
    public void registerTls(java.nio.file.Path caFile, java.nio.file.Path certFile, java.nio.file.Path keyFile)
            throws SpreadException {
        if ((certFile == null) != (keyFile == null) || (caFile == null && certFile != null)) {
            throw new SpreadException("A client certificate needs its key and a CA file.",
                    SpreadException.COULD_NOT_CONNECT);
        }
        synchronized (lifecycle) {
            if (session != null) {
                throw new SpreadException("Already connected.", SpreadException.ILLEGAL_SESSION);
            }
            tlsCaFile = caFile == null ? null : caFile.toString();
            tlsCertFile = certFile == null ? null : certFile.toString();
            tlsKeyFile = keyFile == null ? null : keyFile.toString();
        }
    }

    private void clearSecretLocked() {
        secretIdentity = null;
        secret = null;
        secretFile = null;
    }

    /**
     * Limits how long the next connects may take, from opening the socket to
     * the daemon's accept; by default (and with null) there is no limit, as in
     * Spread 5.0.1. An addition to Spread 5.0.1's Java API.
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
     * Connects to the daemon at {@code address}, port {@code port}, over TCP.
     *
     * @param address the daemon's address; null for this machine (the loopback address)
     * @param port the daemon's client port; 0 for Spread's 4803
     * @param privateName this connection's name (up to 10 characters; null or
     *     empty lets the daemon choose); the private group is {@code #name#daemon}
     * @param priority ask for a priority connection
     * @param groupMembership receive membership messages of the groups joined
     * @throws SpreadException if already connected, the port is out of range,
     *     the daemon cannot be reached, or it refuses
     */
    public void connect(InetAddress address, int port, String privateName, boolean priority,
            boolean groupMembership) throws SpreadException {
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
        connect(port + "@" + host, privateName, priority, groupMembership);
    }

    /**
     * Connects to a daemon named as Spread's C library names it: {@code "4803"}
     * (the Unix socket {@code /tmp/4803}), {@code "4803@host"}, {@code "host:4803"}
     * or a socket path. An addition to Spread 5.0.1's Java API.
     *
     * @param daemon the daemon's name
     * @param privateName this connection's name (null or empty lets the daemon choose)
     * @param priority ask for a priority connection
     * @param groupMembership receive membership messages of the groups joined
     * @throws SpreadException if already connected, the name is illegal, the
     *     daemon cannot be reached, or it refuses
     */
    public void connect(String daemon, String privateName, boolean priority, boolean groupMembership)
            throws SpreadException {
        if (daemon == null) {
            throw new SpreadException("The daemon name is null.", SpreadException.ILLEGAL_SPREAD);
        }
        synchronized (lifecycle) {
            if (session != null) {
                throw new SpreadException("Already connected.", SpreadException.ILLEGAL_SESSION);
            }
            Object auth = makeAuthentication();
            long millis = 0;
            if (connectTimeout != null) {
                try {
                    millis = Math.max(1, connectTimeout.toMillis());
                } catch (ArithmeticException longerThanEver) {
                    millis = 0;
                }
            }
            long handle = Native.connect(daemon, privateName, priority ? 1 : 0, groupMembership, authName, auth,
                    secretIdentity, secret, secretFile, tlsCaFile, tlsCertFile, tlsKeyFile, millis);
            Session s;
            try {
                s = new Session(handle, new SpreadGroup(null, Native.privateGroup(handle)));
            } catch (SpreadException | RuntimeException | Error e) {
                Native.kill(handle);
                throw e;
            }
            cleanable = CLEANER.register(this, s);
            session = s;
            startListenerLocked();
        }
    }

    private Object makeAuthentication() throws SpreadException {
        try {
            Class<?> c;
            try {
                c = Class.forName(authClassName);
            } catch (ClassNotFoundException e) {
                ClassLoader context = Thread.currentThread().getContextClassLoader();
                if (context == null) {
                    throw e;
                }
                c = Class.forName(authClassName, true, context);
            }
            return c.getDeclaredConstructor().newInstance();
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            throw new SpreadException("Cannot make the authentication method " + authName + " (class "
                    + authClassName + "): " + e, SpreadException.REJECT_AUTH, e);
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
     * Sends the daemon a goodbye and closes the connection. Its groups are
     * left; a receive blocked in another thread throws; the listener thread
     * stops. The object can connect again afterwards.
     *
     * @throws SpreadException if not connected
     */
    public void disconnect() throws SpreadException {
        Session s;
        Thread l;
        Cleaner.Cleanable c;
        synchronized (lifecycle) {
            s = require();
            session = null;
            l = listener;
            listener = null;
            c = cleanable;
            cleanable = null;
        }
        try {
            Native.disconnect(s.handle);
        } finally {
            c.clean();
            leftovers.clear();
            if (l != null && l != Thread.currentThread()) {
                joinQuietly(l);
            }
        }
    }

    /**
     * Disconnects if connected; does nothing otherwise. An addition to Spread
     * 5.0.1's Java API, for try-with-resources.
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

    /**
     * This connection's private group ({@code #name#daemon}), where messages
     * to this connection alone are sent; null when not connected.
     */
    public SpreadGroup getPrivateGroup() {
        Session s = session;
        return s == null ? null : s.privateGroup;
    }

    void joinGroup(String group) throws SpreadException {
        Native.join(require().handle, group);
    }

    void leaveGroup(String group) throws SpreadException {
        Native.leave(require().handle, group);
    }

    private void checkNoListeners() throws SpreadException {
        if (!basicListeners.isEmpty() || !advancedListeners.isEmpty()) {
            throw new SpreadException("Tried to receive while there are listeners.", SpreadException.ILLEGAL_SESSION);
        }
    }

    /**
     * Receives the next message, waiting for it as long as it takes.
     *
     * @return the message
     * @throws SpreadException if not connected, listeners are registered, the
     *     connection is lost, or another thread disconnects meanwhile
     * @throws InterruptedIOException never; declared as Spread 5.0.1 declares
     *     it, so code written for it compiles
     */
    public SpreadMessage receive() throws SpreadException, InterruptedIOException {
        checkNoListeners();
        SpreadMessage m = leftovers.poll();
        return m != null ? m : Native.receiveMessage(require().handle, -1);
    }

    /**
     * Receives the next {@code numMessages} messages, waiting for all of them.
     *
     * @param numMessages how many
     * @return the messages, in order
     * @throws SpreadException as {@link #receive()}, or if {@code numMessages} is negative
     * @throws InterruptedIOException never (see {@link #receive()})
     */
    public SpreadMessage[] receive(int numMessages) throws SpreadException, InterruptedIOException {
        if (numMessages < 0) {
            throw new SpreadException("Cannot receive " + numMessages + " messages.", SpreadException.ILLEGAL_MESSAGE);
        }
        SpreadMessage[] out = new SpreadMessage[numMessages];
        for (int i = 0; i < numMessages; i++) {
            out[i] = receive();
        }
        return out;
    }

    /**
     * Receives the next message if one arrives within {@code timeout}. An
     * addition to Spread 5.0.1's Java API.
     *
     * @param timeout how long to wait; zero takes only a message already here
     * @return the message, or null if none came in time
     * @throws SpreadException as {@link #receive()}, or (code
     *     {@link SpreadException#ILLEGAL_TIME}) for a null or negative timeout
     */
    public SpreadMessage receive(Duration timeout) throws SpreadException {
        if (timeout == null || timeout.isNegative()) {
            throw new SpreadException("Illegal timeout " + timeout + ".", SpreadException.ILLEGAL_TIME);
        }
        checkNoListeners();
        SpreadMessage m = leftovers.poll();
        if (m != null) {
            return m;
        }
        long nanos;
        try {
            nanos = timeout.toNanos();
        } catch (ArithmeticException tooLong) {
            return Native.receiveMessage(require().handle, -1);
        }
        return Native.receiveMessage(require().handle, nanos);
    }

    /**
     * True if a message (or the start of one) is waiting to be received.
     *
     * @throws SpreadException if not connected or the connection is lost
     */
    public boolean poll() throws SpreadException {
        Session s = require();
        return !leftovers.isEmpty() || Native.poll(s.handle) > 0;
    }

    /**
     * Sends a message to its groups.
     *
     * @param message an outgoing message with at least one group
     * @throws SpreadException if not connected, the message or one of its
     *     groups is null (code {@link SpreadException#ILLEGAL_GROUP}), its
     *     service type cannot be sent ({@link SpreadException#ILLEGAL_SERVICE}),
     *     it is too long ({@link SpreadException#MESSAGE_TOO_LONG}), or the
     *     connection is lost
     */
    public void multicast(SpreadMessage message) throws SpreadException {
        if (message == null) {
            throw new SpreadException("The message is null.", SpreadException.ILLEGAL_MESSAGE);
        }
        byte[] fields = Native.nameFields(message.getGroups());
        Native.multicast(require().handle, message.getServiceType(), fields, message.getType(), message.getData());
    }

    /**
     * Sends messages one after another.
     *
     * @param messages the messages
     * @throws SpreadException as {@link #multicast(SpreadMessage)}; messages
     *     before the failing one were sent
     */
    public void multicast(SpreadMessage[] messages) throws SpreadException {
        if (messages == null) {
            throw new SpreadException("The message array is null.", SpreadException.ILLEGAL_MESSAGE);
        }
        for (SpreadMessage m : messages) {
            multicast(m);
        }
    }

    /**
     * Adds a listener; while any listener is registered, the listener thread
     * receives every message and gives it to each listener in turn, and
     * {@link #receive()} may not be called.
     *
     * @param listener the listener
     * @throws NullPointerException if it is null
     */
    public void add(BasicMessageListener listener) {
        if (listener == null) {
            throw new NullPointerException("the listener is null");
        }
        basicListeners.add(listener);
        synchronized (lifecycle) {
            startListenerLocked();
        }
    }

    /**
     * Adds a listener that gets data and membership messages in separate
     * calls; otherwise as {@link #add(BasicMessageListener)}.
     *
     * @param listener the listener
     * @throws NullPointerException if it is null
     */
    public void add(AdvancedMessageListener listener) {
        if (listener == null) {
            throw new NullPointerException("the listener is null");
        }
        advancedListeners.add(listener);
        synchronized (lifecycle) {
            startListenerLocked();
        }
    }

    /**
     * Removes a listener. After the last one is removed (from outside a
     * listener), the listener thread has stopped when this returns, and
     * {@link #receive()} continues with the next message; so this waits for
     * a callback in progress, which must not wait for this thread.
     *
     * @param listener the listener
     */
    public void remove(BasicMessageListener listener) {
        basicListeners.remove(listener);
        stopListenerIfIdle();
    }

    /**
     * Removes a listener; as {@link #remove(BasicMessageListener)}.
     *
     * @param listener the listener
     */
    public void remove(AdvancedMessageListener listener) {
        advancedListeners.remove(listener);
        stopListenerIfIdle();
    }

    private boolean hasListeners() {
        return !basicListeners.isEmpty() || !advancedListeners.isEmpty();
    }

    private void startListenerLocked() {
        Session s = session;
        if (s == null || listener != null || !hasListeners()) {
            return;
        }
        Thread t = new Thread(() -> listen(s), "spread-listener " + s.privateGroup);
        t.setDaemon(true);
        listener = t;
        t.start();
    }

    private void stopListenerIfIdle() {
        Thread t;
        synchronized (lifecycle) {
            t = listener;
        }
        if (t != null && t != Thread.currentThread() && !hasListeners()) {
            joinQuietly(t);
        }
    }

    private static void joinQuietly(Thread t) {
        boolean interrupted = false;
        while (t.isAlive()) {
            try {
                t.join();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    private void listen(Session s) {
        boolean failed = false;
        try {
            while (session == s && hasListeners()) {
                SpreadMessage m = Native.receiveMessage(s.handle, LISTENER_TICK_NANOS);
                if (m != null && !dispatch(m)) {
                    leftovers.add(m);
                }
            }
        } catch (SpreadException e) {
            failed = true;
            if (session == s) {
                Thread.UncaughtExceptionHandler h = Thread.currentThread().getUncaughtExceptionHandler();
                h.uncaughtException(Thread.currentThread(), e);
            }
        } finally {
            synchronized (lifecycle) {
                if (listener == Thread.currentThread()) {
                    listener = null;
                    // A listener added just as this thread decided to stop
                    // found it still running; it gets a thread of its own.
                    if (!failed) {
                        startListenerLocked();
                    }
                }
            }
        }
    }

    /** Gives a message to every listener; false if there were none. */
    private boolean dispatch(SpreadMessage m) {
        if (!hasListeners()) {
            return false;
        }
        for (BasicMessageListener l : basicListeners) {
            try {
                l.messageReceived(m);
            } catch (RuntimeException | Error e) {
                report(e);
            }
        }
        for (AdvancedMessageListener l : advancedListeners) {
            try {
                if (m.isRegular()) {
                    l.regularMessageReceived(m);
                } else {
                    l.membershipMessageReceived(m);
                }
            } catch (RuntimeException | Error e) {
                report(e);
            }
        }
        return true;
    }

    /** A listener's exception goes to the thread's handler; the thread goes on. */
    private static void report(Throwable e) {
        Thread t = Thread.currentThread();
        t.getUncaughtExceptionHandler().uncaughtException(t, e);
    }
}
