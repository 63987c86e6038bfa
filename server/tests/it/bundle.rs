//! The hydration bundle is sent as the brotli or gzip copy made at build time, whichever the
//! browser accepts, and wasm is never compressed per request.

use crate::common;

use common::TestServer;

/// Puts a bundle and its two precompressed copies (distinct bytes, so the test can tell
/// which one was sent) in the server's site folder.
fn site(dir: &tempfile::TempDir) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let pkg = dir.path().join("site/pkg");
    std::fs::create_dir_all(&pkg).expect("pkg folder");
    let raw: Vec<u8> = (0..64 * 1024u32).map(|i| (i % 251) as u8).collect();
    let br = b"brotli copy".to_vec();
    let gz = b"gzip copy".to_vec();
    std::fs::write(pkg.join("hybridflow.wasm"), &raw).unwrap();
    std::fs::write(pkg.join("hybridflow.wasm.br"), &br).unwrap();
    std::fs::write(pkg.join("hybridflow.wasm.gz"), &gz).unwrap();
    (raw, br, gz)
}

#[tokio::test]
async fn the_bundle_goes_out_precompressed_as_accepted_and_never_compressed_on_the_fly() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (raw, br, gz) = site(&dir);
    let server = TestServer::start_configured(dir, |_| {}).await;
    let get = |accept: &'static str| {
        let request = server
            .http
            .get(server.url("/pkg/hybridflow.wasm"))
            .header("accept-encoding", accept);
        async move {
            let response = request.send().await.expect("request");
            assert_eq!(response.status(), 200);
            assert_eq!(
                response.headers()["cache-control"],
                "no-cache",
                "the chunks of one build must never meet another build's main module"
            );
            let encoding = response
                .headers()
                .get("content-encoding")
                .map(|v| v.to_str().unwrap().to_string());
            let kind = response.headers()["content-type"]
                .to_str()
                .unwrap()
                .to_string();
            (encoding, kind, response.bytes().await.unwrap().to_vec())
        }
    };
    let (encoding, kind, body) = get("gzip, deflate, br").await;
    // (`get` also checks that the browser is told to revalidate: see `pages`.)
    assert_eq!(encoding.as_deref(), Some("br"));
    assert_eq!(kind, "application/wasm", "the type of what was compressed");
    assert_eq!(body, br);
    let (encoding, _, body) = get("gzip").await;
    assert_eq!(encoding.as_deref(), Some("gzip"));
    assert_eq!(body, gz);
    // A browser that accepts neither gets the file itself: gzip is not made per request.
    let (encoding, _, body) = get("identity").await;
    assert_eq!(encoding, None);
    assert_eq!(body, raw);
    // Wasm without a precompressed copy is sent as it is, even to a gzip browser.
    std::fs::write(server.dir.path().join("site/pkg/other.wasm"), &raw).unwrap();
    let plain = server
        .http
        .get(server.url("/pkg/other.wasm"))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .expect("request");
    assert_eq!(plain.headers().get("content-encoding"), None);
    assert_eq!(plain.bytes().await.unwrap().len(), raw.len());
    // Missing files are a 404, not a page.
    let missing = server
        .http
        .get(server.url("/pkg/nothing.wasm"))
        .send()
        .await
        .expect("request");
    assert_eq!(missing.status(), 404);
}
