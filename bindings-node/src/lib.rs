//! Node.js binding of the Spread client.
