//! What a TLS client's certificate says about it: the common name (CN) of
//! its subject, the name `cert:NAME` in the group access rules matches.
//!
//! The certificate was verified (against `TlsClientCAFile`) before it is
//! read here; still, every length is checked and a certificate this reader
//! does not follow gives no name, never a panic.

/// `2.5.4.3`, id-at-commonName.
const COMMON_NAME: [u8; 3] = [0x55, 0x04, 0x03];

const SEQUENCE: u8 = 0x30;
const SET: u8 = 0x31;
const OID: u8 = 0x06;
/// `[0]`, the version of a v2 or v3 certificate.
const VERSION: u8 = 0xa0;

/// One DER element of `b`: its tag, its contents and what follows it.
fn element(b: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, b) = b.split_first()?;
    let (&first, mut b) = b.split_first()?;
    let len = if first < 0x80 {
        usize::from(first)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || b.len() < n {
            return None;
        }
        let len = b[..n].iter().fold(0usize, |l, &x| l << 8 | usize::from(x));
        b = &b[n..];
        len
    };
    if b.len() < len {
        return None;
    }
    Some((tag, &b[..len], &b[len..]))
}

/// The contents of the element of `b` with tag `want`, and what follows.
fn expect(b: &[u8], want: u8) -> Option<(&[u8], &[u8])> {
    let (tag, contents, rest) = element(b)?;
    (tag == want).then_some((contents, rest))
}

/// The subject's common name of the DER certificate `der` (the last one
/// if the subject has several), if it has one in a string type.
pub fn common_name(der: &[u8]) -> Option<String> {
    let (cert, _) = expect(der, SEQUENCE)?;
    let (tbs, _) = expect(cert, SEQUENCE)?;
    let mut rest = tbs;
    if let Some((VERSION, _, after)) = element(rest) {
        rest = after;
    }
    // serialNumber, signature, issuer, validity; then the subject.
    for _ in 0..4 {
        rest = element(rest)?.2;
    }
    let (mut subject, _) = expect(rest, SEQUENCE)?;
    let mut name = None;
    while !subject.is_empty() {
        let (mut set, after) = expect(subject, SET)?;
        subject = after;
        while !set.is_empty() {
            let (pair, after) = expect(set, SEQUENCE)?;
            set = after;
            let (oid, value) = expect(pair, OID)?;
            if oid != COMMON_NAME {
                continue;
            }
            let (tag, text, _) = element(value)?;
            // UTF8String, PrintableString, IA5String.
            if matches!(tag, 0x0c | 0x13 | 0x16) {
                name = String::from_utf8(text.to_vec())
                    .ok()
                    .filter(|n| !n.is_empty());
            }
        }
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;
    use spread_testkit::tls::TestPki;

    #[test]
    fn common_name_of_a_client_certificate() {
        let pki = TestPki::new();
        let (der, _) = pki.client_der("backup.example");
        assert_eq!(common_name(&der).as_deref(), Some("backup.example"));
        // Cut anywhere, it gives no name and does not panic.
        for n in 0..der.len() {
            let _ = common_name(&der[..n]);
        }
        assert_eq!(common_name(b""), None);
        assert_eq!(common_name(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff]), None);
    }
}
