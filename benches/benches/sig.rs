//! What a UserSig costs: generating one, verifying one (ours and an official Python one), and reading the shared
//! admin UserSig from its cache, against the bare HMAC-SHA256 of the content lines measured in the same run.
//!
//! Targets: a cached lookup under 50 ns, a generation under 20 µs.

use criterion::{Criterion, criterion_group, criterion_main};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::hint::black_box;
use std::time::Duration;
use tim_sig::{AdminSigCache, AdminSigConfig, SecretKey, Signer, Validity};

const SDKAPPID: u64 = 1_400_000_000;
const KEY: &str = "5bd2850fff3ecb11d7c805251c51ee463a25727bddc2385f3fa8bfee1bb93b5e";
const T0: u64 = 1_735_689_600;
/// The content lines `generate` signs for `admin` at T0 with a one-day lifetime.
const CONTENT: &str = "TLS.identifier:admin\nTLS.sdkappid:1400000000\nTLS.time:1735689600\nTLS.expire:86400\n";
/// An official vector (PyPI `tls-sig-api-v2==1.1`): "xiaojun", T0, one day; Huffman-coded zlib.
const PYTHON_USERSIG: &str = "eJyrVgrxCdYrSy1SslJQMtIzUNJRAItkpqTmlWSmZUIkKjIT87NK82CSxSnZiQUFmSlAKUMTAyiAyqVWFGQWpQJlLMxM4IIlmbkgIUNzY1MzC0szuHhxZjrI*DJz54DI0JzSkhTf8hBPP9coF3MPg6TicJfcbJ9U-3xn83ITb-1Sp6iIgGRbpVoAp70zEw__";

fn sig(c: &mut Criterion) {
    let signer = Signer::new(SDKAPPID, SecretKey::new(KEY).unwrap());
    let validity = Validity { issued_at: T0, expire_secs: 86_400 };
    let usersig = signer.generate("admin", validity).unwrap();
    tim_benches::record_fact("sig_usersig_len", usersig.expose().len());
    let cache = AdminSigCache::new(signer.clone(), AdminSigConfig::new("admin"), T0).unwrap();

    let mut group = c.benchmark_group("sig");
    group.measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    group.bench_function("hmac_sha256_only", |b| {
        b.iter(|| {
            let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(black_box(KEY).as_bytes()).unwrap();
            mac.update(black_box(CONTENT).as_bytes());
            mac.finalize().into_bytes()
        })
    });
    group.bench_function("generate", |b| b.iter(|| signer.generate(black_box("admin"), black_box(validity)).unwrap()));
    group.bench_function("verify", |b| b.iter(|| signer.verify(black_box(usersig.expose()), "admin", T0).unwrap()));
    group.bench_function("verify_official_python", |b| {
        b.iter(|| signer.verify(black_box(PYTHON_USERSIG), "xiaojun", T0).unwrap())
    });
    group.bench_function("cache_get", |b| b.iter(|| cache.get(black_box(T0 + 1)).unwrap()));
    group.finish();
}

criterion_group!(benches, sig);
criterion_main!(benches);
