package spread;

/**
 * What a membership message says: a new view of a group (who is in it, why
 * it changed, which members came through the change together), a
 * transitional signal, or the notice that this connection left a group.
 *
 * <p>Immutable once received; safe to read from any thread.
 */
public class MembershipInfo {
    private final int serviceType;
    private final SpreadGroup group;
    private final GroupID groupID;
    private final SpreadGroup[] members;
    private final VirtualSynchronySet[] virtualSynchronySets;
    private final VirtualSynchronySet myVirtualSynchronySet;

    MembershipInfo(int serviceType, SpreadGroup group, SpreadGroup[] members, int[] groupId,
            String[][] vsSets, int localVsSet) {
        this.serviceType = serviceType;
        this.group = group;
        this.members = members;
        this.groupID = groupId == null ? null : new GroupID(groupId[0], groupId[1], groupId[2]);
        if (vsSets == null) {
            virtualSynchronySets = null;
            myVirtualSynchronySet = null;
        } else {
            virtualSynchronySets = new VirtualSynchronySet[vsSets.length];
            for (int i = 0; i < vsSets.length; i++) {
                VirtualSynchronySet set = new VirtualSynchronySet(vsSets[i].length);
                for (String member : vsSets[i]) {
                    set.addMember(new SpreadGroup(null, member));
                }
                virtualSynchronySets[i] = set;
            }
            myVirtualSynchronySet = localVsSet >= 0 && localVsSet < vsSets.length
                    ? virtualSynchronySets[localVsSet]
                    : null;
        }
    }

    /** True for a new view of the group: group, id and members are known. */
    public boolean isRegularMembership() {
        return (serviceType & SpreadMessage.REG_MEMB_MESS) != 0;
    }

    /** True for a transitional signal: the view is about to change. */
    public boolean isTransition() {
        return (serviceType & SpreadMessage.TRANSITION_MESS) != 0;
    }

    /** True if a member joined; {@link #getJoined()} names it. */
    public boolean isCausedByJoin() {
        return (serviceType & SpreadMessage.CAUSED_BY_JOIN) != 0;
    }

    /** True if a member left (or, without a view, this connection left). */
    public boolean isCausedByLeave() {
        return (serviceType & SpreadMessage.CAUSED_BY_LEAVE) != 0;
    }

    /** True if a member's connection ended; {@link #getDisconnected()} names it. */
    public boolean isCausedByDisconnect() {
        return (serviceType & SpreadMessage.CAUSED_BY_DISCONNECT) != 0;
    }

    /** True if daemons came or went (a crash, partition or merge). */
    public boolean isCausedByNetwork() {
        return (serviceType & SpreadMessage.CAUSED_BY_NETWORK) != 0;
    }

    /** True if this connection's own leave of {@link #getGroup()} took effect. */
    public boolean isSelfLeave() {
        return isCausedByLeave() && !isRegularMembership();
    }

    /** The group the message is about. */
    public SpreadGroup getGroup() {
        return group;
    }

    /** The new view's id; null unless {@link #isRegularMembership()}. */
    public GroupID getGroupID() {
        return isRegularMembership() ? groupID : null;
    }

    /**
     * The private groups of the new view's members, in the same order at
     * every member; null unless {@link #isRegularMembership()}.
     */
    public SpreadGroup[] getMembers() {
        return isRegularMembership() ? members.clone() : null;
    }

    private SpreadGroup changedMember() {
        SpreadGroup[] first = virtualSynchronySets[0].getMembers();
        return first.length == 0 ? null : first[0];
    }

    /** The member that joined; null unless a view caused by a join. */
    public SpreadGroup getJoined() {
        return isRegularMembership() && isCausedByJoin() ? changedMember() : null;
    }

    /** The member that left or disconnected; null for other messages. */
    public SpreadGroup getLeft() {
        return isRegularMembership() && (isCausedByLeave() || isCausedByDisconnect()) ? changedMember() : null;
    }

    /** The member that disconnected; null unless a view caused by a disconnect. */
    public SpreadGroup getDisconnected() {
        return isRegularMembership() && isCausedByDisconnect() ? changedMember() : null;
    }

    /**
     * The members that came through a network change together with this
     * connection; null unless a view caused by the network.
     *
     * @deprecated use {@link #getMyVirtualSynchronySet()}
     */
    @Deprecated
    public SpreadGroup[] getStayed() {
        VirtualSynchronySet mine = getMyVirtualSynchronySet();
        return mine == null ? null : mine.getMembers();
    }

    /**
     * The sets of members that came through a network change together, one
     * per former view; null unless a view caused by the network.
     */
    public VirtualSynchronySet[] getVirtualSynchronySets() {
        return isRegularMembership() && isCausedByNetwork() ? virtualSynchronySets.clone() : null;
    }

    /**
     * The set this connection belongs to among {@link #getVirtualSynchronySets()};
     * null unless a view caused by the network.
     */
    public VirtualSynchronySet getMyVirtualSynchronySet() {
        return isRegularMembership() && isCausedByNetwork() ? myVirtualSynchronySet : null;
    }

    /** Members that moved together from one view into the new one. */
    public class VirtualSynchronySet {
        private final SpreadGroup[] privateGroups;
        private int size;

        /**
         * An empty set with room for {@code capacity} members.
         *
         * @param capacity how many members the set will hold
         */
        protected VirtualSynchronySet(int capacity) {
            privateGroups = new SpreadGroup[capacity];
        }

        /** How many members the set has room for. */
        public int getCapacity() {
            return privateGroups.length;
        }

        /** How many members were added. */
        public int getSize() {
            return size;
        }

        /** The members (the array itself, of length {@link #getCapacity()}). */
        public SpreadGroup[] getMembers() {
            return privateGroups;
        }

        /**
         * Adds a member.
         *
         * @param member a private group
         * @throws ArrayIndexOutOfBoundsException when the set is full
         */
        public void addMember(SpreadGroup member) {
            privateGroups[size++] = member;
        }
    }
}
