//! The CA certificates of `store.ca_file`, read once for both server stores (PostgreSQL's TLS connector and
//! ClickHouse's HTTPS client), so a missing, unreadable or empty file reads the same whichever store it is for.

use std::path::Path;

use rustls::RootCertStore;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;

/// The certificates of `file` (PEM, one or more), each checked to be a usable trust anchor. Every error
/// names the key and the file.
pub(crate) fn ca_certificates(file: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let shown = file.display();
    let why = |e: &dyn std::fmt::Display| format!("store.ca_file {shown}: {e}");
    let mut certs = Vec::new();
    // A scratch store: adding a certificate parses it as a trust anchor, which a garbled one fails.
    let mut check = RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(file).map_err(|e| why(&e))? {
        let cert = cert.map_err(|e| why(&e))?;
        check.add(cert.clone()).map_err(|e| why(&e))?;
        certs.push(cert);
    }
    if certs.is_empty() {
        return Err(why(&"no PEM certificate in it"));
    }
    Ok(certs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_or_certificate_less_file_names_the_key_and_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.pem");
        let e = ca_certificates(&missing).unwrap_err();
        assert!(
            e.starts_with(&format!("store.ca_file {}: ", missing.display())),
            "{e}"
        );
        let text = dir.path().join("not-pem.txt");
        std::fs::write(&text, "just some text\n").unwrap();
        let e = ca_certificates(&text).unwrap_err();
        assert!(
            e.contains("store.ca_file") && e.contains("not-pem.txt"),
            "{e}"
        );
        assert!(e.contains("no PEM certificate"), "{e}");
        let garbled = dir.path().join("garbled.pem");
        std::fs::write(
            &garbled,
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        )
        .unwrap();
        let e = ca_certificates(&garbled).unwrap_err();
        assert!(
            e.contains("store.ca_file") && e.contains("garbled.pem"),
            "{e}"
        );
    }
}
