//! Document uploads through HTTP: type sniffing, size cap, content addressing, access, and the
//! isolated PDF text extraction on the real corpus of `fixtures/pdf/`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use crate::common::{TestApp, assert_problem, fixture};
use provider_registry::auth::Role;
use provider_registry::documents::blobs::{self, CHUNK_BYTES};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use sha2::{Digest, Sha256};

#[tokio::test]
async fn a_libreoffice_pdf_is_stored_with_its_hash_and_page_text() {
    let app = TestApp::spawn().await;
    let token = app.token(Role::Institution).await;
    let bytes = fixture("pdf/libreoffice.pdf");
    let res = app
        .upload(
            &token,
            "merged_pdf",
            "南宁市青少年体育培训中心申报课后服务备选库材料.pdf",
            bytes.clone(),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let doc: Value = res.json().await.unwrap();
    assert_eq!(doc["content_type"], "application/pdf");
    assert_eq!(doc["text_status"], "ok");
    assert_eq!(doc["sha256"], hex::encode(Sha256::digest(&bytes)));
    assert_eq!(doc["size_bytes"], bytes.len());
    let id = doc["id"].as_i64().unwrap();

    let text: Value = app
        .get(&format!("/api/v1/documents/{id}/text"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let all: String = text["pages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["text"].as_str().unwrap().replace(' ', ""))
        .collect();
    assert!(all.contains("52450100MJ9000002T"), "{all}");
    let res = app
        .get(&format!("/api/v1/documents/{id}/content"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["content-type"], "application/pdf");
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    assert_eq!(res.bytes().await.unwrap().to_vec(), bytes);
    // Stored in the database under its hash, nothing left on the instance's disk.
    let sha = doc["sha256"].as_str().unwrap();
    let stored = app
        .sql_i64(&format!(
            "SELECT size_bytes AS value FROM document_blobs WHERE sha256 = '{sha}'"
        ))
        .await;
    assert_eq!(stored, i64::try_from(bytes.len()).unwrap());
    assert!(!app.dir.path().join("documents").exists());
}

#[tokio::test]
async fn each_corpus_pdf_gets_its_outcome() {
    let app = TestApp::spawn().await;
    let token = app.token(Role::Institution).await;
    for (file, status) in [
        ("chromium.pdf", "ok"),
        ("scanned.pdf", "no_text"),
        ("corrupted-page.pdf", "partial"),
        ("encrypted-empty-user-password.pdf", "ok"),
        // A valid PDF whose text no extractor here decodes is stored, to be verified by hand.
        ("deep-nesting.pdf", "text_unreadable"),
    ] {
        let res = app
            .upload(&token, "other", file, fixture(&format!("pdf/{file}")))
            .await;
        assert_eq!(res.status(), StatusCode::CREATED, "{file}");
        assert_eq!(
            res.json::<Value>().await.unwrap()["text_status"],
            status,
            "{file}"
        );
    }
    let res = app
        .upload(
            &token,
            "merged_pdf",
            "x.pdf",
            fixture("pdf/encrypted-user-password.pdf"),
        )
        .await;
    assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "pdf_encrypted").await;
    for file in ["random-bytes.pdf", "truncated.pdf"] {
        let res = app
            .upload(&token, "merged_pdf", file, fixture(&format!("pdf/{file}")))
            .await;
        // Each starts with a PDF header, so it is taken for a PDF and refused as unreadable.
        assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "pdf_unreadable").await;
    }
}

#[tokio::test]
async fn a_flate_bomb_is_refused_while_the_server_keeps_answering() {
    let app = TestApp::spawn_with(&[("REGISTRY_HTTP_WORKERS", "2")]).await;
    let token = app.token(Role::Institution).await;
    let upload = app.upload(
        &token,
        "merged_pdf",
        "bomb.pdf",
        fixture("pdf/flate-bomb.pdf"),
    );
    let probe = async {
        let mut worst = Duration::ZERO;
        for _ in 0..10 {
            let t = Instant::now();
            assert_eq!(
                app.get("/healthz").send().await.unwrap().status(),
                StatusCode::OK
            );
            worst = worst.max(t.elapsed());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        worst
    };
    let (res, worst) = tokio::join!(upload, probe);
    let body = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "pdf_unreadable").await;
    assert!(
        body["extra"]["detail"].as_str().unwrap().contains("memory"),
        "{body}"
    );
    assert!(
        worst < Duration::from_secs(1),
        "the server stalled for {worst:?}"
    );
}

#[tokio::test]
async fn only_pdf_jpeg_and_png_are_accepted_by_content() {
    let app = TestApp::spawn().await;
    let token = app.token(Role::Institution).await;
    let png = [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0].to_vec();
    assert_eq!(
        app.upload(&token, "legal_rep_id", "id.png", png)
            .await
            .status(),
        StatusCode::CREATED
    );
    let jpeg = [0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10].to_vec();
    let res = app.upload(&token, "legal_rep_id", "id.jpg", jpeg).await;
    assert_eq!(
        res.json::<Value>().await.unwrap()["content_type"],
        "image/jpeg"
    );
    // A GIF named .pdf is still a GIF.
    let res = app
        .upload(&token, "legal_rep_id", "id.pdf", b"GIF89a....".to_vec())
        .await;
    assert_problem(
        res,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_file_type",
    )
    .await;
}

#[tokio::test]
async fn uploads_past_the_cap_are_413_and_leave_nothing_behind() {
    let app = TestApp::spawn_with(&[("UPLOAD_MAX_BYTES", "2048")]).await;
    let token = app.token(Role::Institution).await;
    let mut big = b"%PDF-1.4\n".to_vec();
    big.resize(10_000, b'x');
    let res = app.upload(&token, "other", "big.pdf", big).await;
    assert_problem(res, StatusCode::PAYLOAD_TOO_LARGE, "file_too_large").await;
    let leftovers = std::fs::read_dir(app.dir.path().join("tmp"))
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(leftovers, 0);
}

#[tokio::test]
async fn malformed_upload_forms_are_problems() {
    let app = TestApp::spawn().await;
    let token = app.token(Role::Institution).await;
    let res = app
        .post("/api/v1/documents")
        .bearer_auth(&token)
        .json(&serde_json::json!({}))
        .send()
        .await
        .unwrap();
    assert_problem(
        res,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    )
    .await;
    let form = reqwest::multipart::Form::new().text("kind", "merged_pdf");
    let res = app
        .post("/api/v1/documents")
        .bearer_auth(&token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let body = assert_problem(res, StatusCode::UNPROCESSABLE_ENTITY, "missing_field").await;
    assert_eq!(body["errors"][0]["field"], "file");
    let res = app
        .upload(
            &token,
            "passport_photo",
            "x.png",
            vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A],
        )
        .await;
    let body = assert_problem(
        res,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown_document_kind",
    )
    .await;
    assert_eq!(body["errors"][0]["code"], "unknown_document_kind");
    // Schools and reviewers upload exit evidence (issue #7); administrators upload nothing.
    let res = app
        .as_role(Role::Admin, Method::POST, "/api/v1/documents")
        .await
        .send()
        .await
        .unwrap();
    assert_problem(res, StatusCode::FORBIDDEN, "forbidden").await;
}

#[tokio::test]
async fn documents_are_visible_to_their_owner_and_staff_only() {
    let app = TestApp::spawn().await;
    let owner = app.token(Role::Institution).await;
    let doc: Value = app
        .upload(
            &owner,
            "service_plan",
            "plan.pdf",
            fixture("pdf/libreoffice.pdf"),
        )
        .await
        .json()
        .await
        .unwrap();
    let id = doc["id"].as_i64().unwrap();
    app.register_institution("other@example.cn", "另一机构", "52450100MJ9000002T")
        .await;
    let other = app.login("other@example.cn", crate::common::PASSWORD).await;
    for path in [
        format!("/api/v1/documents/{id}"),
        format!("/api/v1/documents/{id}/content"),
        format!("/api/v1/documents/{id}/text"),
    ] {
        let res = app.get(&path).bearer_auth(&other).send().await.unwrap();
        assert_problem(res, StatusCode::NOT_FOUND, "not_found").await;
        let res = app
            .as_role(Role::Reviewer, Method::GET, &path)
            .await
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        let res = app
            .as_role(Role::School, Method::GET, &path)
            .await
            .send()
            .await
            .unwrap();
        assert_problem(res, StatusCode::NOT_FOUND, "not_found").await;
        let res = app.get(&path).send().await.unwrap();
        assert_problem(res, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    }
}

/// A PNG by its magic bytes, `len` bytes long, its body varied by `seed`.
fn png(len: usize, seed: u8) -> Vec<u8> {
    let mut bytes = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
    bytes.extend((0..len - 8).map(|i| (i % 251) as u8 ^ seed));
    bytes
}

async fn download(app: &TestApp, token: &str, id: i64) -> reqwest::Response {
    app.get(&format!("/api/v1/documents/{id}/content"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn identical_uploads_share_one_stored_content_by_sha256() {
    let app = TestApp::spawn().await;
    let token = app.token(Role::Institution).await;
    // Two and a half chunks: the download is put back together in order.
    let bytes = png(CHUNK_BYTES * 5 / 2, 7);
    let sha = hex::encode(Sha256::digest(&bytes));
    let mut ids = Vec::new();
    for name in ["a.png", "b.png"] {
        let res = app.upload(&token, "other", name, bytes.clone()).await;
        assert_eq!(res.status(), StatusCode::CREATED);
        ids.push(res.json::<Value>().await.unwrap()["id"].as_i64().unwrap());
    }
    assert_ne!(ids[0], ids[1]);
    let count = |q: String| {
        let app = &app;
        async move { app.sql_i64(&q).await }
    };
    assert_eq!(
        count(format!(
            "SELECT COUNT(*) AS value FROM document_blobs WHERE sha256 = '{sha}'"
        ))
        .await,
        1
    );
    assert_eq!(
        count(format!(
            "SELECT COUNT(*) AS value FROM blob_chunks WHERE sha256 = '{sha}'"
        ))
        .await,
        3
    );
    for id in ids {
        let res = download(&app, &token, id).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(
            res.headers()["content-length"],
            bytes.len().to_string().as_str()
        );
        assert_eq!(res.bytes().await.unwrap().to_vec(), bytes);
    }
    // Different content is stored apart.
    let other = png(1000, 9);
    assert_eq!(
        app.upload(&token, "other", "c.png", other).await.status(),
        StatusCode::CREATED
    );
    assert_eq!(
        count("SELECT COUNT(*) AS value FROM document_blobs".into()).await,
        2
    );
}

#[tokio::test]
async fn a_document_whose_content_is_missing_answers_a_problem_not_a_500() {
    let app = TestApp::spawn().await;
    let token = app.token(Role::Institution).await;
    let bytes = png(CHUNK_BYTES + 10, 3);
    let sha = hex::encode(Sha256::digest(&bytes));
    let res = app.upload(&token, "other", "x.png", bytes).await;
    let id = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    // One chunk lost: incomplete content is not served.
    app.sql(&format!(
        "DELETE FROM blob_chunks WHERE sha256 = '{sha}' AND seq = 1"
    ))
    .await;
    let problem = assert_problem(
        download(&app, &token, id).await,
        StatusCode::GONE,
        "document_content_missing",
    )
    .await;
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains(&id.to_string())
    );
    // All of it lost.
    app.sql(&format!(
        "DELETE FROM document_blobs WHERE sha256 = '{sha}'"
    ))
    .await;
    assert_problem(
        download(&app, &token, id).await,
        StatusCode::GONE,
        "document_content_missing",
    )
    .await;
    // The metadata is still there.
    let res = app
        .get(&format!("/api/v1/documents/{id}"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn migrate_moves_document_files_of_the_data_directory_into_the_database() {
    let app = TestApp::spawn().await;
    let token = app.token(Role::Institution).await;
    let bytes = png(CHUNK_BYTES + 1, 5);
    let sha = hex::encode(Sha256::digest(&bytes));
    let res = app.upload(&token, "other", "old.png", bytes.clone()).await;
    let id = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    // As before documents moved into the database: the content only in a file named by its
    // hash under the data directory.
    app.sql(&format!(
        "DELETE FROM document_blobs WHERE sha256 = '{sha}'"
    ))
    .await;
    let documents = app.dir.path().join("documents");
    std::fs::create_dir_all(documents.join(&sha[..2])).unwrap();
    std::fs::write(documents.join(&sha[..2]).join(&sha), &bytes).unwrap();
    // A damaged file: its content does not match its name.
    let damaged = "ab".repeat(32);
    std::fs::create_dir_all(documents.join("ab")).unwrap();
    std::fs::write(
        documents.join("ab").join(&damaged),
        b"not what the name says",
    )
    .unwrap();

    let pool = app.state.pool.clone();
    let dir = app.dir.path().to_owned();
    let now = chrono::Utc::now();
    let run = move || {
        let (pool, dir) = (pool.clone(), dir.clone());
        tokio::task::spawn_blocking(move || {
            blobs::move_files_in(&mut pool.get().unwrap(), &dir, now).unwrap()
        })
    };
    let first = run().await.unwrap();
    assert_eq!(first.stored, 1);
    assert_eq!(first.already_stored, 0);
    assert_eq!(first.skipped.len(), 1);
    assert!(first.skipped[0].ends_with(&damaged));
    // Moved files are removed; the damaged one stays for an operator to look at.
    assert!(!documents.join(&sha[..2]).exists());
    assert!(documents.join("ab").join(&damaged).exists());
    assert_eq!(
        app.sql_i64(&format!(
            "SELECT COUNT(*) AS value FROM document_blobs WHERE sha256 = '{damaged}'"
        ))
        .await,
        0
    );
    let res = download(&app, &token, id).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.bytes().await.unwrap().to_vec(), bytes);

    // Idempotent: nothing more to move; a file whose content is stored already is removed.
    let again = run().await.unwrap();
    assert_eq!((again.stored, again.already_stored), (0, 0));
    std::fs::create_dir_all(documents.join(&sha[..2])).unwrap();
    std::fs::write(documents.join(&sha[..2]).join(&sha), &bytes).unwrap();
    let third = run().await.unwrap();
    assert_eq!((third.stored, third.already_stored), (0, 1));
    assert!(!documents.join(&sha[..2]).exists());
}
