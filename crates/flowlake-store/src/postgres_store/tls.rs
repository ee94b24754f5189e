//! TLS to the PostgreSQL server, with the rustls and platform verifier the HTTP sources already use.
//!
//! `sslmode=prefer` (libpq's default) and `require` encrypt when the server offers TLS, and the server's
//! certificate is always verified: against `ca_file` when one is given (a private CA, a self-signed server),
//! else against the system's roots. That is stricter than libpq's `require`, which encrypts without checking
//! who answers; `sslmode=disable` turns TLS off for a trusted network or a local socket.

use std::path::Path;
use std::sync::Arc;

use rustls::{ClientConfig, RootCertStore};
use rustls_platform_verifier::BuilderVerifierExt;
use tokio_postgres_rustls::MakeRustlsConnect;

/// The TLS connector for `ca_file` (PEM, one or more certificates), or for the system's roots without one.
pub(super) fn connector(ca_file: Option<&Path>) -> Result<MakeRustlsConnect, String> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?;
    let config = match ca_file {
        Some(file) => {
            let mut roots = RootCertStore::empty();
            for cert in crate::tls::ca_certificates(file)? {
                roots
                    .add(cert)
                    .map_err(|e| format!("store.ca_file {}: {e}", file.display()))?;
            }
            builder.with_root_certificates(roots).with_no_client_auth()
        }
        None => builder
            .with_platform_verifier()
            .map_err(|e| format!("TLS: the system's certificate roots: {e}"))?
            .with_no_client_auth(),
    };
    Ok(MakeRustlsConnect::new(config))
}
