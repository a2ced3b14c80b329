package spread;

/**
 * A failure of a Spread operation.
 *
 * <p>Beyond Spread 5.0.1's class, every exception carries a number from
 * Spread's {@code sp.h} ({@link #getCode()}): the code the client library
 * returned, or for errors found on the Java side (a null or illegal group,
 * a call on a closed connection) the code libspread gives for the same
 * mistake. A {@link FlushConnection} adds the five codes of Flush Spread's
 * {@code fl.h}, {@link #ILLEGAL_PARAM} to {@link #ILLEGAL_RECEIVERS}.
 */
public class SpreadException extends Exception {
    private static final long serialVersionUID = 1L;

    /** Illegal daemon name (address or port). */
    public static final int ILLEGAL_SPREAD = -1;
    /** The daemon could not be reached. */
    public static final int COULD_NOT_CONNECT = -2;
    /** The daemon refused: too many sessions. */
    public static final int REJECT_QUOTA = -3;
    /** The daemon refused: no name. */
    public static final int REJECT_NO_NAME = -4;
    /** The daemon refused: illegal private name. */
    public static final int REJECT_ILLEGAL_NAME = -5;
    /** The daemon refused: private name already in use at that daemon. */
    public static final int REJECT_NOT_UNIQUE = -6;
    /** The daemon refused: incompatible version. */
    public static final int REJECT_VERSION = -7;
    /** The connection was closed by the daemon or broke. */
    public static final int CONNECTION_CLOSED = -8;
    /** The daemon refused: authentication failed. */
    public static final int REJECT_AUTH = -9;
    /** The connection is not open (never connected, or disconnected). */
    public static final int ILLEGAL_SESSION = -11;
    /** The service type of a message cannot be sent. */
    public static final int ILLEGAL_SERVICE = -12;
    /** The message cannot be sent or decoded. */
    public static final int ILLEGAL_MESSAGE = -13;
    /** A group name is null, empty, too long or has an illegal character. */
    public static final int ILLEGAL_GROUP = -14;
    /** Body and group names are larger than a daemon delivers. */
    public static final int MESSAGE_TOO_LONG = -17;
    /** A network error on the session; it can no longer be used. */
    public static final int NET_ERROR_ON_SESSION = -18;
    /** A bug in the client library (including a caught native panic). */
    public static final int SP_BUG = -19;
    /** An illegal time value. */
    public static final int ILLEGAL_TIME = -20;

    // Flush Spread's codes (fl.h), thrown by FlushConnection.
    /**
     * Flush: an illegal parameter such as a negative size (in fl.h; Java's
     * arrays cannot carry one, so {@link FlushConnection} never throws it).
     */
    public static final int ILLEGAL_PARAM = -24;
    /**
     * Flush: a non-blocking receive found nothing (in fl.h;
     * {@link FlushConnection#receive(java.time.Duration)} returns null instead).
     */
    public static final int WOULD_BLOCK = -25;
    /** Flush: a message type below {@link FlushConnection#MIN_MESSAGE_TYPE} (reserved for the protocol). */
    public static final int ILLEGAL_MESSAGE_TYPE = -26;
    /** Flush: a flush with no flush request pending, or a send to a group already flushed. */
    public static final int ILLEGAL_STATE = -27;
    /** Flush: a receiver of a subgroupcast or unicast is not in the sender's view of the group. */
    public static final int ILLEGAL_RECEIVERS = -28;

    private final int code;

    /** An exception with no message and code {@link #SP_BUG}. */
    public SpreadException() {
        this(null, SP_BUG);
    }

    /** An exception with a message and code {@link #SP_BUG}. */
    public SpreadException(String errorMessage) {
        this(errorMessage, SP_BUG);
    }

    /**
     * An exception with a message and Spread's error code.
     *
     * @param errorMessage what went wrong
     * @param code a negative number of {@code sp.h}
     */
    public SpreadException(String errorMessage, int code) {
        super(errorMessage);
        this.code = code;
    }

    SpreadException(String errorMessage, int code, Throwable cause) {
        super(errorMessage, cause);
        this.code = code;
    }

    /** Spread's (negative) error code for this failure. */
    public int getCode() {
        return code;
    }

    @Override
    public String toString() {
        return getClass().getName() + " (" + code + "): " + getMessage();
    }
}
