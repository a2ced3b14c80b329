package spread;

/**
 * A group, by name: a destination for messages, and a membership this
 * program holds after {@link #join(SpreadConnection, String)}.
 *
 * <p>Received messages name their sender and groups with {@code SpreadGroup}s
 * (private groups such as {@code #user#daemon} among them). Two groups are
 * equal when their names are. A {@code SpreadGroup} is not safe to join or
 * leave from several threads at once; comparing and printing it is.
 */
public class SpreadGroup {
    private volatile String name;
    private volatile SpreadConnection connection;

    /**
     * A group with a name, joined through {@code connection} if that is not null.
     *
     * @param connection the connection it was joined on, or null
     * @param name the group's name
     */
    protected SpreadGroup(SpreadConnection connection, String name) {
        this.connection = connection;
        this.name = name;
    }

    /** A group object with no name yet; join a group with it. */
    public SpreadGroup() {
        this(null, null);
    }

    /**
     * Joins the group {@code name} on {@code connection}: from when the daemon
     * orders the join until {@link #leave()}, the connection receives the
     * messages sent to the group (and its memberships, if it asked for them).
     *
     * @param connection an open connection
     * @param name the group's name: 1 to 31 characters from '$' to '~'
     * @throws SpreadException if this object already joined a group (code
     *     {@link SpreadException#ILLEGAL_GROUP}), the connection or name is
     *     null or illegal, or the request cannot be sent
     */
    public void join(SpreadConnection connection, String name) throws SpreadException {
        if (connection == null) {
            throw new SpreadException("Cannot join: the connection is null.", SpreadException.ILLEGAL_SESSION);
        }
        if (name == null) {
            throw new SpreadException("Cannot join: the group name is null.", SpreadException.ILLEGAL_GROUP);
        }
        synchronized (this) {
            if (this.connection != null) {
                throw new SpreadException(
                        "Already joined " + this.name + "; use another SpreadGroup object.",
                        SpreadException.ILLEGAL_GROUP);
            }
            connection.joinGroup(name);
            this.name = name;
            this.connection = connection;
        }
    }

    /**
     * Leaves the group this object joined; the connection stops receiving its
     * messages once the daemon orders the leave.
     *
     * @throws SpreadException if this object has not joined a group, or the
     *     request cannot be sent
     */
    public void leave() throws SpreadException {
        synchronized (this) {
            if (connection == null) {
                throw new SpreadException("No group to leave: this object has not joined one.",
                        SpreadException.ILLEGAL_GROUP);
            }
            connection.leaveGroup(name);
            connection = null;
        }
    }

    /** The group's name (null for a new object that has not joined). */
    @Override
    public String toString() {
        return name;
    }

    /** True for another {@code SpreadGroup} with the same name. */
    @Override
    public boolean equals(Object object) {
        if (object == this) {
            return true;
        }
        if (object == null || object.getClass() != getClass()) {
            return false;
        }
        String other = ((SpreadGroup) object).name;
        return name == null ? other == null : name.equals(other);
    }

    /** The hash of the name. */
    @Override
    public int hashCode() {
        return name == null ? 0 : name.hashCode();
    }
}
