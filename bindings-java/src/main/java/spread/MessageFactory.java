package spread;

/**
 * Makes messages that start as copies of a default message: the same
 * service type, groups, type and data.
 */
public class MessageFactory {
    /** The message every new one is cloned from. */
    protected SpreadMessage defaultMessage;

    /**
     * A factory whose messages copy {@code message}.
     *
     * @param message the default message (copied, later changes to it do not count)
     */
    public MessageFactory(SpreadMessage message) {
        setDefault(message);
    }

    /**
     * Replaces the default message.
     *
     * @param message the new default (copied)
     */
    public void setDefault(SpreadMessage message) {
        if (message == null) {
            throw new NullPointerException("the default message is null");
        }
        defaultMessage = (SpreadMessage) message.clone();
    }

    /** A new outgoing message, a copy of the default. */
    public SpreadMessage createMessage() {
        return (SpreadMessage) defaultMessage.clone();
    }
}
