package spread;

import java.util.Arrays;

/**
 * The identity of one view of a group: two views are the same view exactly
 * when their ids are equal, at every member that sees them.
 */
public class GroupID {
    private final int[] id;

    /**
     * An id from its three numbers as the daemon sends them.
     *
     * @param id0 the daemon membership's representative
     * @param id1 the daemon membership's time stamp
     * @param id2 the view's index within that membership
     */
    protected GroupID(int id0, int id1, int id2) {
        id = new int[] {id0, id1, id2};
    }

    /** The three numbers of this id (a copy). */
    protected int[] getID() {
        return id.clone();
    }

    @Override
    public boolean equals(Object object) {
        if (object == null || object.getClass() != getClass()) {
            return false;
        }
        return Arrays.equals(id, ((GroupID) object).id);
    }

    /** Consistent with {@link #equals(Object)} (5.0.1's was not). */
    @Override
    public int hashCode() {
        return Arrays.hashCode(id);
    }

    /** The three numbers separated by spaces, as Spread prints an id. */
    @Override
    public String toString() {
        return id[0] + " " + id[1] + " " + id[2];
    }
}
