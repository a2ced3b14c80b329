//! Certificates for the TLS tests, made in the test: a CA, a daemon's
//! certificate for `localhost` and `127.0.0.1`, clients' certificates by
//! common name. Written as PEM files where a daemon or client reads them.

use rcgen::{
    BasicConstraints, Certificate, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair,
};
use std::path::{Path, PathBuf};

/// A test CA and what it signs.
pub struct TestPki {
    ca: Certificate,
    ca_key: KeyPair,
}

/// The files of a daemon's TLS: the CA that signed it, its certificate
/// and key.
pub struct ServerFiles {
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl Default for TestPki {
    fn default() -> Self {
        TestPki::new()
    }
}

impl TestPki {
    pub fn new() -> TestPki {
        let ca_key = KeyPair::generate().expect("CA key");
        let mut p = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        p.distinguished_name
            .push(DnType::CommonName, "spread test CA");
        let ca = p.self_signed(&ca_key).expect("CA certificate");
        TestPki { ca, ca_key }
    }

    /// The CA's certificate (PEM).
    pub fn ca_pem(&self) -> String {
        self.ca.pem()
    }

    fn signed(
        &self,
        sans: Vec<String>,
        cn: &str,
        usage: ExtendedKeyUsagePurpose,
    ) -> (Certificate, KeyPair) {
        let key = KeyPair::generate().expect("key");
        let mut p = CertificateParams::new(sans).expect("params");
        p.distinguished_name.push(DnType::CommonName, cn);
        p.extended_key_usages = vec![usage];
        let cert = p
            .signed_by(&key, &self.ca, &self.ca_key)
            .expect("certificate");
        (cert, key)
    }

    /// A client certificate with common name `cn`, and its key (DER).
    pub fn client_der(&self, cn: &str) -> (Vec<u8>, Vec<u8>) {
        let (c, k) = self.signed(Vec::new(), cn, ExtendedKeyUsagePurpose::ClientAuth);
        (c.der().to_vec(), k.serialize_der())
    }

    /// A client certificate with common name `cn` and its key, as PEM.
    pub fn client_pem(&self, cn: &str) -> (String, String) {
        let (c, k) = self.signed(Vec::new(), cn, ExtendedKeyUsagePurpose::ClientAuth);
        (c.pem(), k.serialize_pem())
    }

    /// Writes a client certificate and key for `cn` into `dir`
    /// (`<cn>.crt`, `<cn>.key`).
    pub fn write_client(&self, dir: &Path, cn: &str) -> (PathBuf, PathBuf) {
        let (c, k) = self.client_pem(cn);
        let cert = dir.join(format!("{cn}.crt"));
        let key = dir.join(format!("{cn}.key"));
        std::fs::write(&cert, c).expect("write client certificate");
        std::fs::write(&key, k).expect("write client key");
        (cert, key)
    }

    /// Writes the CA and a daemon's certificate (for `localhost` and
    /// `127.0.0.1`) and key into `dir`.
    pub fn write_server(&self, dir: &Path) -> ServerFiles {
        let sans = vec!["localhost".to_string(), "127.0.0.1".to_string()];
        let (c, k) = self.signed(sans, "localhost", ExtendedKeyUsagePurpose::ServerAuth);
        let files = ServerFiles {
            ca: dir.join("ca.pem"),
            cert: dir.join("server.crt"),
            key: dir.join("server.key"),
        };
        std::fs::write(&files.ca, self.ca.pem()).expect("write CA");
        std::fs::write(&files.cert, c.pem()).expect("write certificate");
        std::fs::write(&files.key, k.serialize_pem()).expect("write key");
        files
    }
}
