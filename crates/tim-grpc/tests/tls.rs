//! TLS and mutual TLS on the gateway's listener, with certificates made for the test (a CA, a server certificate
//! for `localhost`, and a caller certificate).

use rcgen::{BasicConstraints, CertificateParams, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair};
use std::time::Duration;
use tim_emulator::{Emulator, QuotaConfig};
use tim_grpc::{Caller, Gateway, GatewayOptions, TlsPem, pb};
use tim_sig::SecretKey;
use tim_transport::{Client, ClientConfig, Endpoint};
use tonic::transport::{Certificate, ClientTlsConfig, Identity};
use tonic::{Code, Request};

const TOKEN: &str = "tls-test-token";

struct Pki {
    ca_pem: String,
    server: (String, String),
    caller: (String, String),
}

fn pki() -> Pki {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let leaf = |names: Vec<String>, usage: ExtendedKeyUsagePurpose| {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(names).unwrap();
        params.extended_key_usages = vec![usage];
        let cert = params.signed_by(&key, &issuer).unwrap();
        (cert.pem(), key.serialize_pem())
    };
    Pki {
        ca_pem: ca_cert.pem(),
        server: leaf(vec!["localhost".to_owned()], ExtendedKeyUsagePurpose::ServerAuth),
        caller: leaf(vec!["billing".to_owned()], ExtendedKeyUsagePurpose::ClientAuth),
    }
}

/// Serves a gateway with `tls` on loopback; returns its port.
async fn serve(tls: TlsPem) -> u16 {
    let emulator = Emulator::builder(1_400_000_000, SecretKey::new("k").unwrap(), || {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
    })
    .auto_create_accounts(true)
    .quotas(QuotaConfig::disabled())
    .build()
    .unwrap()
    .serve(tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap())
    .unwrap();
    let client = Client::new(
        1_400_000_000,
        "administrator",
        SecretKey::new("k").unwrap(),
        ClientConfig::new(Endpoint::BaseUrl(emulator.base_url())),
    )
    .unwrap();
    let mut options = GatewayOptions::new(vec![Caller::with_token("billing", TOKEN)]);
    options.tls = Some(tls);
    let gateway = Gateway::new(client, options).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let _keep = emulator;
        gateway.serve(listener, std::future::pending()).await
    });
    port
}

async fn send(port: u16, tls: ClientTlsConfig) -> Result<pb::SendMsgResponse, tonic::Status> {
    let endpoint = tonic::transport::Endpoint::from_shared(format!("https://localhost:{port}"))
        .unwrap()
        .connect_timeout(Duration::from_secs(5))
        .tls_config(tls)
        .unwrap();
    let channel = endpoint.connect().await.map_err(|e| tonic::Status::unavailable(format!("{e:?}")))?;
    let mut client = pb::message_service_client::MessageServiceClient::new(channel);
    let mut request = Request::new(pb::SendMsgRequest {
        to_account: "alice".into(),
        msg_body: vec![pb::MsgElement::text("over TLS")],
        ..Default::default()
    });
    request.metadata_mut().insert("authorization", format!("Bearer {TOKEN}").parse().unwrap());
    client.send_msg(request).await.map(tonic::Response::into_inner)
}

#[tokio::test]
async fn tls_serves_callers_that_trust_the_server() {
    let pki = pki();
    let port = serve(TlsPem {
        cert: pki.server.0.clone().into_bytes(),
        key: pki.server.1.clone().into_bytes(),
        client_ca: None,
    })
    .await;
    let trusting = ClientTlsConfig::new().ca_certificate(Certificate::from_pem(&pki.ca_pem)).domain_name("localhost");
    let answer = send(port, trusting).await.unwrap();
    assert!(answer.msg_key.is_some());
    // A caller that does not trust the server's CA does not get through.
    let other = pki_other_ca();
    let distrusting = ClientTlsConfig::new().ca_certificate(Certificate::from_pem(other)).domain_name("localhost");
    assert_eq!(send(port, distrusting).await.unwrap_err().code(), Code::Unavailable);
}

#[tokio::test]
async fn mutual_tls_refuses_callers_without_a_certificate_from_the_callers_ca() {
    let pki = pki();
    let port = serve(TlsPem {
        cert: pki.server.0.clone().into_bytes(),
        key: pki.server.1.clone().into_bytes(),
        client_ca: Some(pki.ca_pem.clone().into_bytes()),
    })
    .await;
    let base = || ClientTlsConfig::new().ca_certificate(Certificate::from_pem(&pki.ca_pem)).domain_name("localhost");
    let with_identity = base().identity(Identity::from_pem(&pki.caller.0, &pki.caller.1));
    assert!(send(port, with_identity).await.unwrap().msg_key.is_some());
    let without = send(port, base()).await.unwrap_err();
    assert!(matches!(without.code(), Code::Unavailable | Code::Unknown), "{without:?}");
}

fn pki_other_ca() -> String {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.self_signed(&key).unwrap().pem()
}
