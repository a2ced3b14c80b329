package spread;

/**
 * Receives a connection's messages on its listener thread, with data and
 * membership messages sent to different methods.
 *
 * @see SpreadConnection#add(AdvancedMessageListener)
 */
public interface AdvancedMessageListener {
    /**
     * Called for each data message (one of the regular service types).
     *
     * @param message the message received
     */
    void regularMessageReceived(SpreadMessage message);

    /**
     * Called for every other message: memberships, transitional signals,
     * self-leaves and rejected messages.
     *
     * @param message the message received
     */
    void membershipMessageReceived(SpreadMessage message);
}
