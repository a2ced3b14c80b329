//! Java (JNI) binding of the Spread client.
