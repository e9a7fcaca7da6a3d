//! Real TLS on loopback: a rustls server with a certificate the public roots do not know. The client trusts it
//! only when its CA is configured, and speaks HTTP/2 when the server offers it through ALPN.

use bytes::Bytes;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tim_sig::SecretKey;
use tim_transport::retry::RetryPolicy;
use tim_transport::{Client, ClientConfig, Endpoint, Error};

/// Starts an HTTPS server for `localhost` offering `alpn`; returns its port, its CA certificate (PEM) and the
/// HTTP versions of the requests it served.
async fn https_server(alpn: Vec<Vec<u8>>) -> (u16, String, Arc<Mutex<Vec<http::Version>>>) {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).expect("a certificate");
    let pem = certified.cert.pem();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(certified.signing_key.serialize_der().into());
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_no_client_auth()
        .with_single_cert(vec![certified.cert.der().clone()], key)
        .expect("a server config");
    config.alpn_protocols = alpn;
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a port");
    let port = listener.local_addr().expect("an address").port();
    let versions = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&versions);
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else { return };
            let (acceptor, seen) = (acceptor.clone(), Arc::clone(&seen));
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(stream).await else { return };
                let service = service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
                    seen.lock().unwrap().push(request.version());
                    async {
                        Ok::<_, Infallible>(hyper::Response::new(Full::new(Bytes::from_static(
                            br#"{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":""}"#,
                        ))))
                    }
                });
                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(tls), service)
                    .await;
            });
        }
    });
    (port, pem, versions)
}

fn client(port: u16, extra_ca: Option<&str>) -> Client {
    let mut config = ClientConfig::new(Endpoint::BaseUrl(format!("https://localhost:{port}")));
    config.extra_ca_pem = extra_ca.map(|pem| pem.as_bytes().to_vec()).into_iter().collect();
    config.retry = RetryPolicy { max_attempts: 2, initial_backoff: Duration::from_millis(1), ..RetryPolicy::default() };
    Client::new(1_400_000_000, "administrator", SecretKey::new("tls-test-key").unwrap(), config).unwrap()
}

#[tokio::test]
async fn a_configured_ca_is_trusted_and_http2_is_used_when_offered() {
    let (port, ca, versions) = https_server(vec![b"h2".to_vec(), b"http/1.1".to_vec()]).await;
    let client = client(port, Some(&ca));
    for _ in 0..3 {
        let answer = client.call_json("im_open_login_svc/kick", serde_json::json!({"Identifier": "x"})).await.unwrap();
        assert_eq!(answer["ActionStatus"], "OK");
    }
    assert_eq!(*versions.lock().unwrap(), [http::Version::HTTP_2; 3]);
}

#[tokio::test]
async fn http1_is_used_when_the_server_offers_only_http1() {
    let (port, ca, versions) = https_server(vec![b"http/1.1".to_vec()]).await;
    client(port, Some(&ca)).call_json("im_open_login_svc/kick", serde_json::json!({"UserID": "x"})).await.unwrap();
    assert_eq!(*versions.lock().unwrap(), [http::Version::HTTP_11]);
}

#[tokio::test]
async fn an_unknown_ca_is_refused_as_a_connection_failure() {
    let (port, _, versions) = https_server(vec![b"h2".to_vec()]).await;
    let error =
        client(port, None).call_json("im_open_login_svc/kick", serde_json::json!({"UserID": "x"})).await.unwrap_err();
    assert!(matches!(&error, Error::Connect { attempts: 2, detail, .. } if detail.contains("certificate")), "{error}");
    assert!(versions.lock().unwrap().is_empty(), "nothing reached the service");
}

#[test]
fn a_bad_extra_ca_is_refused_when_the_client_is_built() {
    let mut config = ClientConfig::new(Endpoint::BaseUrl("https://localhost:1".into()));
    config.extra_ca_pem = vec![b"not a certificate".to_vec()];
    let error = Client::new(1, "admin", SecretKey::new("k").unwrap(), config).unwrap_err();
    assert!(error.to_string().contains("extra CA certificate 0"), "{error}");
}
