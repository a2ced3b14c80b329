package spread;

import java.util.Arrays;
import java.util.Vector;

/**
 * What a {@link FlushConnection} receives: application data, or news of a
 * group's views. {@link #getKind()} says which:
 *
 * <ul>
 *   <li>{@link Kind#DATA}: a message a member sent to the group (or to this
 *       connection's private group), delivered in the view it was sent in:
 *       {@link #getSender()}, {@link #getGroups()}, {@link #getType()},
 *       {@link #getData()}, the service type;</li>
 *   <li>{@link Kind#FLUSH_REQUEST}: the group's view is about to change;
 *       answer with {@link FlushConnection#flush(SpreadGroup)
 *       flush(getGroup())} once done sending in the current view;</li>
 *   <li>{@link Kind#VIEW}: a new view of {@link #getGroup()}, installed once
 *       every member has flushed: {@link #getMembers()},
 *       {@link #getMyIndex()}, {@link #getGroupID()}, {@link #getVsSet()} and
 *       the cause ({@link #isCausedByJoin()} ...);</li>
 *   <li>{@link Kind#TRANSITION}: members of the current view are gone; what
 *       follows until the next view is delivered in a transitional view;</li>
 *   <li>{@link Kind#SELF_LEAVE}: this connection's own leave of the group
 *       took effect;</li>
 *   <li>{@link Kind#REJECT}: a message the daemon refused, returned to its
 *       sender with its data.</li>
 * </ul>
 *
 * <p>The fields are those Flush Spread's {@code FL_receive} reports. Immutable;
 * safe to read from any thread (the array {@link #getData()} returns is
 * shared, as {@link SpreadMessage#getData()}'s is).
 */
public final class FlushMessage {
    /** The service type of a flush request ({@code fl.h}'s {@code FLUSH_REQ_MESS}). */
    public static final int FLUSH_REQ_MESS = 0x20000000;
    /** The service-type bit of a subgroupcast or unicast ({@code fl.h}'s {@code SUBGROUP_CAST}). */
    public static final int SUBGROUP_CAST = 0x40000000;

    /** What a {@link FlushMessage} is. */
    public enum Kind {
        /** Application data. */
        DATA,
        /** A request to flush the group. */
        FLUSH_REQUEST,
        /** A new view of the group. */
        VIEW,
        /** A transitional signal: members of the current view are gone. */
        TRANSITION,
        /** This connection's leave of the group took effect. */
        SELF_LEAVE,
        /** A message the daemon returned to its sender. */
        REJECT
    }

    private final SpreadMessage message;
    private final SpreadGroup[] vsSet;
    private final Kind kind;

    FlushMessage(SpreadMessage message, SpreadGroup[] vsSet) {
        this.message = message;
        this.vsSet = vsSet;
        this.kind = kindOf(message.getServiceType());
    }

    static Kind kindOf(int serviceType) {
        if ((serviceType & SpreadMessage.REJECT_MESS) != 0) {
            return Kind.REJECT;
        }
        if ((serviceType & FLUSH_REQ_MESS) != 0) {
            return Kind.FLUSH_REQUEST;
        }
        if ((serviceType & SpreadMessage.REG_MEMB_MESS) != 0) {
            return Kind.VIEW;
        }
        if ((serviceType & SpreadMessage.TRANSITION_MESS) != 0) {
            return Kind.TRANSITION;
        }
        if ((serviceType & SpreadMessage.CAUSED_BY_LEAVE) != 0) {
            return Kind.SELF_LEAVE;
        }
        return Kind.DATA;
    }

    /** What this message is. */
    public Kind getKind() {
        return kind;
    }

    /** True for application data. */
    public boolean isData() {
        return kind == Kind.DATA;
    }

    /** True for a flush request: answer it with {@link FlushConnection#flush(SpreadGroup)}. */
    public boolean isFlushRequest() {
        return kind == Kind.FLUSH_REQUEST;
    }

    /** True for a new view of {@link #getGroup()}. */
    public boolean isView() {
        return kind == Kind.VIEW;
    }

    /** True for a transitional signal of {@link #getGroup()}. */
    public boolean isTransition() {
        return kind == Kind.TRANSITION;
    }

    /** True when this connection's leave of {@link #getGroup()} took effect. */
    public boolean isSelfLeave() {
        return kind == Kind.SELF_LEAVE;
    }

    /** True for a message the daemon refused and returned. */
    public boolean isReject() {
        return kind == Kind.REJECT;
    }

    /**
     * The service type as {@code FL_receive} reports it: for data, the level
     * it was sent with (plus {@link #SUBGROUP_CAST} for a subgroupcast or
     * unicast); {@link #FLUSH_REQ_MESS}; for a view {@code REG_MEMB_MESS} and
     * its cause; {@code TRANSITION_MESS}; {@code CAUSED_BY_LEAVE} for a
     * self-leave; for a reject {@code REJECT_MESS} and the old type.
     */
    public int getServiceType() {
        return message.getServiceType();
    }

    /** Data sent UNRELIABLE. */
    public boolean isUnreliable() {
        return isData() && message.isUnreliable();
    }

    /** Data sent RELIABLE. */
    public boolean isReliable() {
        return isData() && message.isReliable();
    }

    /** Data sent FIFO. */
    public boolean isFifo() {
        return isData() && message.isFifo();
    }

    /** Data sent CAUSAL. */
    public boolean isCausal() {
        return isData() && message.isCausal();
    }

    /** Data sent AGREED. */
    public boolean isAgreed() {
        return isData() && message.isAgreed();
    }

    /** Data sent SAFE. */
    public boolean isSafe() {
        return isData() && message.isSafe();
    }

    /** Data sent to some members of the view only (a subgroupcast or a unicast). */
    public boolean isSubgroupcast() {
        return isData() && (getServiceType() & SUBGROUP_CAST) != 0;
    }

    /**
     * For data and rejects, the sender's private group; for the other kinds,
     * the group (as {@code FL_receive} reports it).
     */
    public SpreadGroup getSender() {
        return message.getSender();
    }

    /**
     * The group this message is about: for data (and rejects), the group it
     * was sent in (the last of {@link #getGroups()}; a private group for a
     * message sent to this connection alone); otherwise the group whose view
     * it concerns. Null for a reject without groups.
     */
    public SpreadGroup getGroup() {
        if (kind == Kind.DATA || kind == Kind.REJECT) {
            SpreadGroup[] groups = message.getGroups();
            return groups.length == 0 ? null : groups[groups.length - 1];
        }
        return message.getSender();
    }

    /**
     * The groups {@code FL_receive} reports: for data, the group; for a
     * subgroupcast or unicast, the receivers and then the group; for a view,
     * its members; for the other kinds none.
     */
    public SpreadGroup[] getGroups() {
        return message.getGroups();
    }

    /**
     * The receivers of a subgroupcast or unicast (the members it was sent
     * to); null for other messages, which went to the whole view.
     */
    public SpreadGroup[] getReceivers() {
        if (!isSubgroupcast()) {
            return null;
        }
        SpreadGroup[] groups = message.getGroups();
        return Arrays.copyOf(groups, Math.max(0, groups.length - 1));
    }

    /**
     * The message type: for data, the sender's 16-bit number; for a view,
     * this connection's index among its members; -1 for the other kinds.
     */
    public short getType() {
        return message.getType();
    }

    /** True if the sender's machine has the other byte order (its type was converted). */
    public boolean getEndianMismatch() {
        return message.getEndianMismatch();
    }

    /**
     * The body: for data, what was sent; for a view, {@code FL_receive}'s body
     * (the group id at 0, the vs-set's size at 12 and its 32-byte names from
     * 16, in this machine's byte order); empty for the other kinds.
     */
    public byte[] getData() {
        return message.getData();
    }

    /**
     * Reads the body as one serialized object, as
     * {@link SpreadMessage#getObject()} does.
     *
     * @throws SpreadException (code {@link SpreadException#ILLEGAL_MESSAGE}) if
     *     the body is not a serialized object or its class cannot be found
     */
    public Object getObject() throws SpreadException {
        return message.getObject();
    }

    /**
     * Reads the body as a digest, as {@link SpreadMessage#getDigest()} does.
     *
     * @throws SpreadException (code {@link SpreadException#ILLEGAL_MESSAGE}) if
     *     the body is not a stream of serialized objects
     */
    public Vector<Object> getDigest() throws SpreadException {
        return message.getDigest();
    }

    /** A view's members, in the same order at every member; null unless a view. */
    public SpreadGroup[] getMembers() {
        return isView() ? message.getGroups() : null;
    }

    /** This connection's index in {@link #getMembers()}; -1 unless a view. */
    public int getMyIndex() {
        return isView() ? message.getType() : -1;
    }

    /** A view's id: equal at every member that installs it; null unless a view. */
    public GroupID getGroupID() {
        return isView() ? message.getMembershipInfo().getGroupID() : null;
    }

    /**
     * A view's vs-set: for a view caused by a join, leave or disconnect, the
     * member that joined, left or disconnected; for a network change, the
     * members of the previous view that came through with this connection.
     * Null unless a view.
     */
    public SpreadGroup[] getVsSet() {
        return isView() && vsSet != null ? vsSet.clone() : null;
    }

    /** A view caused by a member's join. */
    public boolean isCausedByJoin() {
        return isView() && (getServiceType() & SpreadMessage.CAUSED_BY_JOIN) != 0;
    }

    /** A view caused by a member's leave. */
    public boolean isCausedByLeave() {
        return isView() && (getServiceType() & SpreadMessage.CAUSED_BY_LEAVE) != 0;
    }

    /** A view caused by a member's disconnect. */
    public boolean isCausedByDisconnect() {
        return isView() && (getServiceType() & SpreadMessage.CAUSED_BY_DISCONNECT) != 0;
    }

    /** A view caused by daemons coming or going (a crash, a partition, a merge). */
    public boolean isCausedByNetwork() {
        return isView() && (getServiceType() & SpreadMessage.CAUSED_BY_NETWORK) != 0;
    }

    /**
     * A view, transitional signal or self-leave as {@link SpreadConnection}
     * describes them (a view's one vs-set is its only virtual synchrony set);
     * null for the other kinds.
     */
    public MembershipInfo getMembershipInfo() {
        return message.getMembershipInfo();
    }

    /** The kind, the group and what matters for that kind, for logs. */
    @Override
    public String toString() {
        StringBuilder b = new StringBuilder(kind.toString()).append(' ').append(getGroup());
        switch (kind) {
            case DATA:
            case REJECT:
                b.append(" from ").append(getSender()).append(" type ").append(getType()).append(", ")
                        .append(getData().length).append(" bytes");
                if (isSubgroupcast()) {
                    b.append(" to ").append(Arrays.toString(getReceivers()));
                }
                break;
            case VIEW:
                b.append(' ').append(Arrays.toString(getMembers())).append(" index ").append(getMyIndex())
                        .append(" id ").append(getGroupID()).append(" vs-set ").append(Arrays.toString(vsSet));
                break;
            default:
                break;
        }
        return b.toString();
    }
}
