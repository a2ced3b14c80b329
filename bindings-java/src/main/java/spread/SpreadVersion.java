package spread;

/** The version of Spread this client speaks (5.0.1). */
public class SpreadVersion {
    private static final int MAJOR = 5;
    private static final int MINOR = 0;
    private static final int PATCH = 1;

    /** The version of this client. */
    public SpreadVersion() {}

    /** The version as major.minor in one float: 5.0 for 5.0.x (the patch is left out). */
    public float getVersion() {
        return MAJOR + MINOR / 100.0f;
    }

    /** The major version (5). */
    public int getMajorVersion() {
        return MAJOR;
    }

    /** The minor version (0). */
    public int getMinorVersion() {
        return MINOR;
    }

    /** The patch version (1). */
    public int getPatchVersion() {
        return PATCH;
    }

    /** The version written A.BB.CC, as Spread prints it: {@code 5.00.01}. */
    @Override
    public String toString() {
        return String.format("%d.%02d.%02d", MAJOR, MINOR, PATCH);
    }
}
