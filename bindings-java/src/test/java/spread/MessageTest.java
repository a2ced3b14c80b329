package spread;

import static org.junit.jupiter.api.Assertions.*;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Vector;
import org.junit.jupiter.api.Test;

/** The parts of the API that need no daemon: messages, groups, ids, versions, constants. */
class MessageTest {
    @Test
    void aNewMessageIsOutgoingReliableAndEmpty() {
        SpreadMessage m = new SpreadMessage();
        assertTrue(m.isOutgoing());
        assertFalse(m.isIncoming());
        assertTrue(m.isReliable());
        assertTrue(m.isRegular());
        assertFalse(m.isMembership());
        assertFalse(m.isReject());
        assertEquals(0, m.getData().length);
        assertEquals(0, m.getGroups().length);
        assertEquals(0, m.getType());
        assertNull(m.getSender());
        assertNull(m.getMembershipInfo());
        assertFalse(m.getEndianMismatch());
    }

    @Test
    void eachServiceLevelSetterLeavesExactlyItsBit() {
        SpreadMessage m = new SpreadMessage();
        m.setSelfDiscard(true);
        m.setUnreliable();
        assertTrue(m.isUnreliable() && !m.isReliable());
        m.setReliable();
        assertTrue(m.isReliable() && !m.isUnreliable());
        m.setFifo();
        assertTrue(m.isFifo() && !m.isReliable());
        m.setCausal();
        assertTrue(m.isCausal() && !m.isFifo());
        m.setAgreed();
        assertTrue(m.isAgreed() && !m.isCausal());
        m.setSafe();
        assertTrue(m.isSafe() && !m.isAgreed());
        assertEquals(SpreadMessage.SAFE_MESS | SpreadMessage.SELF_DISCARD, m.getServiceType());
        assertTrue(m.isSelfDiscard());
        m.setSelfDiscard(false);
        assertFalse(m.isSelfDiscard());
        assertEquals(SpreadMessage.SAFE_MESS, m.getServiceType());
        m.setServiceType(SpreadMessage.REJECT_MESS | SpreadMessage.AGREED_MESS);
        assertTrue(m.isReject());
        assertFalse(m.isRegular());
        m.setServiceType(SpreadMessage.REG_MEMB_MESS | SpreadMessage.CAUSED_BY_JOIN);
        assertTrue(m.isMembership());
        assertFalse(m.isRegular());
    }

    @Test
    void groupsAreAddedInOrderByObjectOrName() {
        SpreadMessage m = new SpreadMessage();
        m.addGroup("a");
        m.addGroups(new String[] {"b", "c"});
        SpreadGroup d = new SpreadGroup(null, "d");
        m.addGroup(d);
        m.addGroups(new SpreadGroup[] {new SpreadGroup(null, "e")});
        List<String> names = new ArrayList<>();
        for (SpreadGroup g : m.getGroups()) {
            names.add(g.toString());
        }
        assertEquals(Arrays.asList("a", "b", "c", "d", "e"), names);
        m.getGroups()[0] = null;
        assertNotNull(m.getGroups()[0], "getGroups hands out a copy");
    }

    @Test
    void setDataCopiesAndTypeIsKept() {
        byte[] b = {1, 2, 3};
        SpreadMessage m = new SpreadMessage();
        m.setData(b);
        b[0] = 9;
        assertArrayEquals(new byte[] {1, 2, 3}, m.getData());
        m.setType((short) -7);
        assertEquals(-7, m.getType());
        m.setData(null);
        assertEquals(0, m.getData().length);
    }

    @Test
    void setObjectAndGetObjectRoundTrip() throws SpreadException {
        Map<String, List<Integer>> value = new HashMap<>();
        value.put("k", new ArrayList<>(Arrays.asList(1, 2, 3)));
        SpreadMessage m = new SpreadMessage();
        m.setObject((java.io.Serializable) value);
        assertEquals(value, m.getObject());
        m.setData(new byte[] {1, 2, 3});
        SpreadException e = assertThrows(SpreadException.class, m::getObject);
        assertEquals(SpreadException.ILLEGAL_MESSAGE, e.getCode());
        assertTrue(e.getMessage().contains("not a serialized object"), e.getMessage());
    }

    @Test
    void setObjectRefusesWhatCannotBeSerialized() {
        SpreadMessage m = new SpreadMessage();
        ArrayList<Object> holder = new ArrayList<>();
        holder.add(new Object());
        SpreadException e = assertThrows(SpreadException.class, () -> m.setObject(holder));
        assertEquals(SpreadException.ILLEGAL_MESSAGE, e.getCode());
    }

    @Test
    void digestCollectsObjectsAndACloneContinuesIt() throws SpreadException {
        SpreadMessage m = new SpreadMessage();
        m.digest("one");
        m.digest(2);
        assertEquals(new Vector<Object>(Arrays.asList("one", 2)), m.getDigest());
        SpreadMessage copy = (SpreadMessage) m.clone();
        copy.digest("three");
        copy.digest("one");
        assertEquals(Arrays.asList("one", 2, "three", "one"), copy.getDigest());
        assertEquals(Arrays.asList("one", 2), m.getDigest(), "the original is untouched");
        m.setData(new byte[] {5});
        assertArrayEquals(new byte[] {5}, m.getData(), "setData ends the digest");
    }

    @Test
    void cloneCopiesServiceGroupsTypeAndData() {
        SpreadMessage m = new SpreadMessage();
        m.setSafe();
        m.addGroup("g");
        m.setType((short) 3);
        m.setData(new byte[] {7});
        SpreadMessage c = (SpreadMessage) m.clone();
        assertNotSame(m, c);
        assertEquals(m.getServiceType(), c.getServiceType());
        assertArrayEquals(m.getGroups(), c.getGroups());
        assertEquals(3, c.getType());
        assertArrayEquals(new byte[] {7}, c.getData());
        c.addGroup("h");
        assertEquals(1, m.getGroups().length);
    }

    @Test
    void messageFactoryMakesCopiesOfItsDefault() {
        SpreadMessage d = new SpreadMessage();
        d.setAgreed();
        d.addGroup("g");
        MessageFactory f = new MessageFactory(d);
        SpreadMessage a = f.createMessage();
        SpreadMessage b = f.createMessage();
        assertNotSame(a, b);
        assertTrue(a.isAgreed());
        assertEquals("g", a.getGroups()[0].toString());
        a.addGroup("x");
        assertEquals(1, b.getGroups().length);
        SpreadMessage other = new SpreadMessage();
        other.setFifo();
        f.setDefault(other);
        assertTrue(f.createMessage().isFifo());
    }

    @Test
    void groupsAreEqualByName() {
        SpreadGroup a = new SpreadGroup(null, "g1");
        SpreadGroup b = new SpreadGroup(null, "g1");
        SpreadGroup c = new SpreadGroup(null, "g2");
        assertEquals(a, b);
        assertEquals(a.hashCode(), b.hashCode());
        assertNotEquals(a, c);
        assertNotEquals(a, null);
        assertNotEquals(a, "g1");
        assertEquals("g1", a.toString());
        assertNull(new SpreadGroup().toString());
        assertEquals(new SpreadGroup(), new SpreadGroup());
    }

    @Test
    void groupIdsAreEqualByTheirThreeNumbers() {
        GroupID a = new GroupID(1, 2, 3);
        GroupID b = new GroupID(1, 2, 3);
        assertEquals(a, b);
        assertEquals(a.hashCode(), b.hashCode());
        assertNotEquals(a, new GroupID(1, 2, 4));
        assertNotEquals(a, null);
        assertEquals("1 2 3", a.toString());
        assertArrayEquals(new int[] {1, 2, 3}, a.getID());
    }

    @Test
    void versionIs501() {
        SpreadVersion v = new SpreadVersion();
        assertEquals(5, v.getMajorVersion());
        assertEquals(0, v.getMinorVersion());
        assertEquals(1, v.getPatchVersion());
        assertEquals(5.0f, v.getVersion());
        assertEquals("5.00.01", v.toString());
    }

    @Test
    void exceptionsCarryCodes() {
        SpreadException plain = new SpreadException("x");
        assertEquals(SpreadException.SP_BUG, plain.getCode());
        assertEquals("x", plain.getMessage());
        assertNull(new SpreadException().getMessage());
        SpreadException coded = new SpreadException("y", SpreadException.ILLEGAL_GROUP);
        assertEquals(-14, coded.getCode());
        assertTrue(coded.toString().contains("(-14)"));
    }

    @Test
    void nullAuthAccepts() throws SpreadException {
        new NULLAuth().authenticate();
    }

    @Test
    @SuppressWarnings("deprecation") // getStayed is part of the API under test
    void virtualSynchronySetsHoldWhatWasAdded() {
        MembershipInfo info = new MembershipInfo(SpreadMessage.REG_MEMB_MESS | SpreadMessage.CAUSED_BY_NETWORK,
                new SpreadGroup(null, "g"), new SpreadGroup[] {new SpreadGroup(null, "#a#d1")}, new int[] {1, 2, 3},
                new String[][] {{"#a#d1"}, {"#b#d2", "#c#d2"}}, 1);
        MembershipInfo.VirtualSynchronySet[] sets = info.getVirtualSynchronySets();
        assertEquals(2, sets.length);
        assertSame(sets[1], info.getMyVirtualSynchronySet());
        assertEquals(2, sets[1].getSize());
        assertEquals(new SpreadGroup(null, "#c#d2"), info.getStayed()[1]);
        assertEquals(new GroupID(1, 2, 3), info.getGroupID());
        assertNull(info.getJoined(), "a network view names no single member");
        MembershipInfo.VirtualSynchronySet fresh = info.new VirtualSynchronySet(1);
        assertEquals(0, fresh.getSize());
        assertEquals(1, fresh.getCapacity());
        fresh.addMember(new SpreadGroup(null, "#x#y"));
        assertEquals(1, fresh.getSize());
        assertEquals("#x#y", fresh.getMembers()[0].toString());
        assertThrows(ArrayIndexOutOfBoundsException.class, () -> fresh.addMember(new SpreadGroup(null, "#z#y")));
    }

    @Test
    void aDecodedTransitionalSignalHasOnlyItsGroup() {
        int[] meta = new int[Native.META_LEN];
        meta[Native.META_SERVICE_TYPE] = SpreadMessage.TRANSITION_MESS;
        meta[Native.META_MESS_TYPE] = -1;
        meta[Native.META_NUM_VS_SETS] = -1;
        meta[Native.META_DATA_LEN] = 12;
        byte[] bytes = new byte[Native.MAX_GROUP_NAME + 12];
        System.arraycopy("grp".getBytes(), 0, bytes, 0, 3);
        SpreadMessage m = Native.decode(meta, bytes);
        assertTrue(m.isMembership());
        MembershipInfo info = m.getMembershipInfo();
        assertTrue(info.isTransition());
        assertFalse(info.isRegularMembership());
        assertEquals("grp", info.getGroup().toString());
        assertNull(info.getGroupID());
        assertNull(info.getMembers());
        assertNull(info.getVirtualSynchronySets());
        assertEquals(-1, m.getType());
        assertEquals(12, m.getData().length);
    }

    @Test
    void aDecodedRejectKeepsItsOldTypeAndIsNeitherDataNorMembership() {
        int[] meta = new int[Native.META_LEN];
        meta[Native.META_SERVICE_TYPE] = SpreadMessage.REJECT_MESS | SpreadMessage.AGREED_MESS;
        meta[Native.META_MESS_TYPE] = 77;
        meta[Native.META_NUM_GROUPS] = 1;
        meta[Native.META_DATA_LEN] = 2;
        meta[Native.META_NUM_VS_SETS] = -1;
        byte[] bytes = new byte[2 * Native.MAX_GROUP_NAME + 2];
        System.arraycopy("#me#d".getBytes(), 0, bytes, 0, 5);
        System.arraycopy("dest".getBytes(), 0, bytes, Native.MAX_GROUP_NAME, 4);
        bytes[bytes.length - 1] = 9;
        SpreadMessage m = Native.decode(meta, bytes);
        assertTrue(m.isReject());
        assertTrue(m.isAgreed());
        assertFalse(m.isRegular());
        assertFalse(m.isMembership());
        assertNull(m.getMembershipInfo());
        assertEquals(77, m.getType());
        assertEquals("#me#d", m.getSender().toString());
        assertEquals("dest", m.getGroups()[0].toString());
        assertArrayEquals(new byte[] {0, 9}, m.getData());
    }
}
