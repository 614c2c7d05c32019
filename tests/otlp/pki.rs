//! Certificates made at test time for the TLS receiver: a CA, a server
//! certificate for `localhost` and `127.0.0.1` signed by it, and a client
//! certificate (mTLS), written as PEM files to a folder of the test's own.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};

/// The PEM files, and the server's certificate and key as text.
pub struct Pki {
    pub dir: PathBuf,
    /// The CA certificate: what `OTEL_EXPORTER_OTLP_CERTIFICATE` names.
    pub ca: PathBuf,
    pub ca_pem: String,
    pub server_cert: String,
    pub server_key: String,
    pub client_cert: PathBuf,
    pub client_key: PathBuf,
}

impl Drop for Pki {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn leaf(
    names: &[&str],
    usage: ExtendedKeyUsagePurpose,
    ca: &CertifiedIssuer<'_, KeyPair>,
) -> (String, String) {
    let key = KeyPair::generate().unwrap();
    let mut params =
        CertificateParams::new(names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>()).unwrap();
    params.distinguished_name.push(DnType::CommonName, names[0]);
    params.extended_key_usages = vec![usage];
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    let cert = params.signed_by(&key, ca).unwrap();
    (cert.pem(), key.serialize_pem())
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// A fresh CA with a server and a client certificate, in a folder named
/// after `tag` and the process.
pub fn generate(tag: &str) -> Pki {
    let dir = std::env::temp_dir().join(format!("obs-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params
        .distinguished_name
        .push(DnType::CommonName, "obs test CA");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
    let (server_cert, server_key) = leaf(
        &["localhost", "127.0.0.1"],
        ExtendedKeyUsagePurpose::ServerAuth,
        &ca,
    );
    let (client_cert, client_key) = leaf(
        &["obs-test-client"],
        ExtendedKeyUsagePurpose::ClientAuth,
        &ca,
    );
    let ca_pem = ca.pem();
    Pki {
        ca: write(&dir, "ca.pem", &ca_pem),
        client_cert: write(&dir, "client.pem", &client_cert),
        client_key: write(&dir, "client.key", &client_key),
        dir,
        ca_pem,
        server_cert,
        server_key,
    }
}
