package spread;

/**
 * Receives every message of a connection on its listener thread.
 *
 * @see SpreadConnection#add(BasicMessageListener)
 */
public interface BasicMessageListener {
    /**
     * Called on the connection's listener thread for each message, data and
     * membership alike, in the order they arrive.
     *
     * @param message the message received
     */
    void messageReceived(SpreadMessage message);
}
