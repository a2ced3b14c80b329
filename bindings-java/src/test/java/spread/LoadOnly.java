package spread;

/** Loads the native library and says where from; for the loader tests. */
public final class LoadOnly {
    private LoadOnly() {}

    public static void main(String[] args) throws Exception {
        System.out.println("LOADED " + Native.constant("SP_MAJOR_VERSION"));
    }
}
