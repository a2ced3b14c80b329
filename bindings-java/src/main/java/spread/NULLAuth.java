package spread;

/** Spread's {@code NULL} authentication: no exchange, always accepted. */
public class NULLAuth implements SpreadAuthInterface {
    /** Makes the method; it has no state. */
    public NULLAuth() {}

    /** Accepts: the NULL method has nothing to exchange. */
    @Override
    public void authenticate() throws SpreadException {}
}
