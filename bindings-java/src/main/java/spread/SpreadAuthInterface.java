package spread;

/**
 * A client-side authentication method, registered by class name with
 * {@link SpreadConnection#registerAuthentication(String, String)}.
 *
 * <p>An instance is made with the public no-argument constructor at each
 * connect; its {@link #authenticate()} runs on the connecting thread after the
 * method's name was sent to the daemon and before the daemon accepts.
 */
public interface SpreadAuthInterface {
    /**
     * Runs the method's exchange.
     *
     * @throws SpreadException to refuse the connection
     */
    void authenticate() throws SpreadException;
}
