package spread;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.OutputStream;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Vector;

/**
 * A message: one to send (made with {@link #SpreadMessage()}) or one received
 * from {@link SpreadConnection#receive()} or a listener.
 *
 * <p>An outgoing message starts RELIABLE with no groups and no data. Its
 * body is bytes ({@link #setData(byte[])}), one serialized object
 * ({@link #setObject(Serializable)}) or a sequence of them
 * ({@link #digest(Serializable)}), in Java's serialization format, as
 * Spread 5.0.1's Java client writes them.
 *
 * <p>A message is not thread-safe: build it in one thread; a finished
 * message may be sent by several threads at once, and a received message
 * may be read by several.
 */
public class SpreadMessage implements Cloneable {
    // The numbers of Spread's sp.h; a test checks them against the native
    // library's definitions.
    protected static final int UNRELIABLE_MESS = 0x00000001;
    protected static final int RELIABLE_MESS = 0x00000002;
    protected static final int FIFO_MESS = 0x00000004;
    protected static final int CAUSAL_MESS = 0x00000008;
    protected static final int AGREED_MESS = 0x00000010;
    protected static final int SAFE_MESS = 0x00000020;
    protected static final int REGULAR_MESS = 0x0000003f;
    protected static final int SELF_DISCARD = 0x00000040;
    protected static final int REG_MEMB_MESS = 0x00001000;
    protected static final int TRANSITION_MESS = 0x00002000;
    protected static final int CAUSED_BY_JOIN = 0x00000100;
    protected static final int CAUSED_BY_LEAVE = 0x00000200;
    protected static final int CAUSED_BY_DISCONNECT = 0x00000400;
    protected static final int CAUSED_BY_NETWORK = 0x00000800;
    protected static final int MEMBERSHIP_MESS = 0x00003f00;
    protected static final int REJECT_MESS = 0x00400000;
    protected static final int JOIN_MESS = 0x00010000;
    protected static final int LEAVE_MESS = 0x00020000;
    protected static final int KILL_MESS = 0x00040000;
    protected static final int GROUPS_MESS = 0x00080000;

    private final boolean outgoing;
    private int serviceType;
    private final List<SpreadGroup> groups;
    private final SpreadGroup sender;
    private byte[] data;
    private short type;
    private final boolean endianMismatch;
    private final MembershipInfo membershipInfo;

    /** The digest being written, when the body is a digest; else null. */
    private ByteArrayOutputStream digestBytes;
    private ObjectOutputStream digestOutput;

    /** A new outgoing message: RELIABLE, no groups, empty body, type 0. */
    public SpreadMessage() {
        outgoing = true;
        serviceType = RELIABLE_MESS;
        groups = new ArrayList<>();
        sender = null;
        data = new byte[0];
        endianMismatch = false;
        membershipInfo = null;
    }

    SpreadMessage(int serviceType, SpreadGroup sender, SpreadGroup[] groups, short type,
            boolean endianMismatch, byte[] data, MembershipInfo membershipInfo) {
        this.outgoing = false;
        this.serviceType = serviceType;
        this.sender = sender;
        this.groups = new ArrayList<>(Arrays.asList(groups));
        this.type = type;
        this.endianMismatch = endianMismatch;
        this.data = data;
        this.membershipInfo = membershipInfo;
    }

    /** True for a message that was received. */
    public boolean isIncoming() {
        return !outgoing;
    }

    /** True for a message made to be sent. */
    public boolean isOutgoing() {
        return outgoing;
    }

    /** The service type: Spread's bits, as sent or as received. */
    public int getServiceType() {
        return serviceType;
    }

    /** True for a data message (one of the six service levels), not a rejected one. */
    public boolean isRegular() {
        return (serviceType & REGULAR_MESS) != 0 && (serviceType & REJECT_MESS) == 0;
    }

    /** True for a message the daemon refused and sent back. */
    public boolean isReject() {
        return (serviceType & REJECT_MESS) != 0;
    }

    /** True for a membership message; {@link #getMembershipInfo()} describes it. */
    public boolean isMembership() {
        return (serviceType & MEMBERSHIP_MESS) != 0 && (serviceType & REJECT_MESS) == 0;
    }

    /** True if the service level is UNRELIABLE. */
    public boolean isUnreliable() {
        return (serviceType & UNRELIABLE_MESS) != 0;
    }

    /** True if the service level is RELIABLE. */
    public boolean isReliable() {
        return (serviceType & RELIABLE_MESS) != 0;
    }

    /** True if the service level is FIFO. */
    public boolean isFifo() {
        return (serviceType & FIFO_MESS) != 0;
    }

    /** True if the service level is CAUSAL. */
    public boolean isCausal() {
        return (serviceType & CAUSAL_MESS) != 0;
    }

    /** True if the service level is AGREED. */
    public boolean isAgreed() {
        return (serviceType & AGREED_MESS) != 0;
    }

    /** True if the service level is SAFE. */
    public boolean isSafe() {
        return (serviceType & SAFE_MESS) != 0;
    }

    /** True if the sender does not receive its own copy. */
    public boolean isSelfDiscard() {
        return (serviceType & SELF_DISCARD) != 0;
    }

    /**
     * Sets all of the service type's bits at once.
     *
     * @param serviceType Spread's bits; a send refuses types that are not one
     *     service level plus optional SELF_DISCARD
     */
    public void setServiceType(int serviceType) {
        this.serviceType = serviceType;
    }

    private void setLevel(int level) {
        serviceType = (serviceType & ~REGULAR_MESS) | level;
    }

    /** Sends UNRELIABLE: may be lost, no order. */
    public void setUnreliable() {
        setLevel(UNRELIABLE_MESS);
    }

    /** Sends RELIABLE: delivered, no order. */
    public void setReliable() {
        setLevel(RELIABLE_MESS);
    }

    /** Sends FIFO: in the sender's order. */
    public void setFifo() {
        setLevel(FIFO_MESS);
    }

    /** Sends CAUSAL: in causal order. */
    public void setCausal() {
        setLevel(CAUSAL_MESS);
    }

    /** Sends AGREED: in one total order at every member. */
    public void setAgreed() {
        setLevel(AGREED_MESS);
    }

    /** Sends SAFE: in total order, delivered once every member's daemon has it. */
    public void setSafe() {
        setLevel(SAFE_MESS);
    }

    /**
     * Sets or clears SELF_DISCARD.
     *
     * @param selfDiscard true: the sender does not receive its own copy
     */
    public void setSelfDiscard(boolean selfDiscard) {
        serviceType = selfDiscard ? serviceType | SELF_DISCARD : serviceType & ~SELF_DISCARD;
    }

    /**
     * The destinations of an outgoing message; of a received data message, the
     * sender's whole destination list; of a view, its members.
     */
    public SpreadGroup[] getGroups() {
        return groups.toArray(new SpreadGroup[0]);
    }

    /** The sender's private group; for membership messages, the group. Null for outgoing messages. */
    public SpreadGroup getSender() {
        return sender;
    }

    /**
     * The body. For a digest, the objects digested so far. For a received view,
     * the raw membership body as the daemon sent it.
     */
    public byte[] getData() {
        if (digestBytes != null) {
            data = digestBytes.toByteArray();
        }
        return data;
    }

    /**
     * Reads the body as one serialized object.
     *
     * @throws SpreadException (code {@link SpreadException#ILLEGAL_MESSAGE}) if
     *     the body is not a serialized object or its class cannot be found
     */
    public Object getObject() throws SpreadException {
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(getData()))) {
            return in.readObject();
        } catch (IOException | ClassNotFoundException e) {
            throw new SpreadException("The body is not a serialized object: " + e, SpreadException.ILLEGAL_MESSAGE, e);
        }
    }

    /**
     * Reads the body as a digest: every serialized object in it, in order.
     *
     * @throws SpreadException (code {@link SpreadException#ILLEGAL_MESSAGE}) if
     *     the body is not a stream of serialized objects
     */
    public Vector<Object> getDigest() throws SpreadException {
        Vector<Object> objects = new Vector<>();
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(getData()))) {
            while (true) {
                objects.add(in.readObject());
            }
        } catch (EOFException end) {
            return objects;
        } catch (IOException | ClassNotFoundException e) {
            throw new SpreadException("The body is not a digest of serialized objects: " + e,
                    SpreadException.ILLEGAL_MESSAGE, e);
        }
    }

    /**
     * The message type: the application's 16-bit number. For a received view,
     * this connection's index among the members; for other membership kinds, -1.
     */
    public short getType() {
        return type;
    }

    /** True if the sender's machine has the other byte order (its type was converted). */
    public boolean getEndianMismatch() {
        return endianMismatch;
    }

    /**
     * Adds a destination.
     *
     * @param group a group; a null is refused when the message is sent
     */
    public void addGroup(SpreadGroup group) {
        groups.add(group);
    }

    /**
     * Adds destinations.
     *
     * @param groups groups; nulls are refused when the message is sent
     */
    public void addGroups(SpreadGroup[] groups) {
        this.groups.addAll(Arrays.asList(groups));
    }

    /**
     * Adds a destination by name.
     *
     * @param group a group name; a null is refused when the message is sent
     */
    public void addGroup(String group) {
        groups.add(new SpreadGroup(null, group));
    }

    /**
     * Adds destinations by name.
     *
     * @param groups group names; nulls are refused when the message is sent
     */
    public void addGroups(String[] groups) {
        for (String g : groups) {
            addGroup(g);
        }
    }

    /**
     * Sets the body to a copy of {@code data}.
     *
     * @param data the bytes; null means an empty body
     */
    public void setData(byte[] data) {
        digestBytes = null;
        digestOutput = null;
        this.data = data == null ? new byte[0] : data.clone();
    }

    /**
     * Sets the body to one object, serialized now.
     *
     * @param object the object
     * @throws SpreadException (code {@link SpreadException#ILLEGAL_MESSAGE}) if
     *     it cannot be serialized
     */
    public void setObject(Serializable object) throws SpreadException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(object);
        } catch (IOException e) {
            throw new SpreadException("Cannot serialize the object: " + e, SpreadException.ILLEGAL_MESSAGE, e);
        }
        digestBytes = null;
        digestOutput = null;
        data = bytes.toByteArray();
    }

    /**
     * Appends one object to the body, serialized now; the first call replaces
     * whatever body the message had. {@link #getDigest()} reads them all back.
     *
     * @param object the object
     * @throws SpreadException (code {@link SpreadException#ILLEGAL_MESSAGE}) if
     *     it cannot be serialized
     */
    public void digest(Serializable object) throws SpreadException {
        try {
            if (digestOutput == null) {
                digestBytes = new ByteArrayOutputStream();
                digestOutput = new ObjectOutputStream(digestBytes);
            }
            digestOutput.writeObject(object);
            digestOutput.flush();
        } catch (IOException e) {
            throw new SpreadException("Cannot serialize the object: " + e, SpreadException.ILLEGAL_MESSAGE, e);
        }
    }

    /**
     * Sets the message type.
     *
     * @param type the application's 16-bit number
     */
    public void setType(short type) {
        this.type = type;
    }

    /** For a membership message, what it says; otherwise null. */
    public MembershipInfo getMembershipInfo() {
        return membershipInfo;
    }

    /**
     * A new outgoing message with this one's service type, groups, type and
     * body; a digest in progress can be continued on the copy.
     */
    @Override
    public Object clone() {
        SpreadMessage copy = new SpreadMessage();
        copy.serviceType = serviceType;
        copy.groups.addAll(groups);
        copy.type = type;
        copy.data = getData().clone();
        if (digestBytes != null) {
            copy.digestBytes = new ByteArrayOutputStream();
            copy.digestBytes.writeBytes(copy.data);
            try {
                copy.digestOutput = new ContinuedObjectStream(copy.digestBytes);
            } catch (IOException e) {
                throw new IllegalStateException("writing to memory failed", e);
            }
        }
        return copy;
    }

    /**
     * Continues a serialization stream already holding objects: no second
     * stream header, and a reset mark first so the reader forgets the
     * earlier objects' handles just as this writer never knew them.
     */
    private static final class ContinuedObjectStream extends ObjectOutputStream {
        ContinuedObjectStream(OutputStream out) throws IOException {
            super(out);
        }

        @Override
        protected void writeStreamHeader() throws IOException {
            reset();
        }
    }
}
