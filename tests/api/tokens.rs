//! Access tokens: every forged, stale or misdirected token is refused with 401.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::{Session, TEST_KEY, TestApp};
use peerpath::db::Backend;

fn claims_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

fn sign(claims: &Value, alg: Algorithm, key: &str) -> String {
    jsonwebtoken::encode(
        &Header::new(alg),
        claims,
        &EncodingKey::from_secret(key.as_bytes()).unwrap(),
    )
    .unwrap()
}

async fn status_with(app: &TestApp, token: &str) -> u16 {
    let r = app.get("/api/v1/me").token(token).send().await;
    if r.status != 200 {
        r.assert_problem(r.status);
    }
    r.status
}

async fn setup(backend: Backend) -> (TestApp, Session, Value) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    let claims = claims_of(&admin.access);
    (app, admin, claims)
}

async fn a_well_signed_copy_of_the_claims_is_accepted(backend: Backend) {
    // The control: re-signing unchanged claims works, so each refusal below is for its reason.
    let (app, _, claims) = setup(backend).await;
    assert_eq!(
        status_with(&app, &sign(&claims, Algorithm::HS256, TEST_KEY)).await,
        200
    );
    for claim in ["exp", "nbf", "iat", "iss", "aud", "sub", "sid", "typ"] {
        assert!(claims.get(claim).is_some(), "{claim} is in the token");
    }
}

async fn alg_none_is_refused(backend: Backend) {
    let (app, _, claims) = setup(backend).await;
    let header = URL_SAFE_NO_PAD.encode(json!({"alg": "none", "typ": "JWT"}).to_string());
    let body = URL_SAFE_NO_PAD.encode(claims.to_string());
    assert_eq!(status_with(&app, &format!("{header}.{body}.")).await, 401);
}

async fn another_algorithm_with_the_same_key_is_refused(backend: Backend) {
    let (app, _, claims) = setup(backend).await;
    assert_eq!(
        status_with(&app, &sign(&claims, Algorithm::HS512, TEST_KEY)).await,
        401
    );
}

async fn a_wrong_key_is_refused(backend: Backend) {
    let (app, _, claims) = setup(backend).await;
    let forged = sign(
        &claims,
        Algorithm::HS256,
        "another-key-of-sufficient-length-000000",
    );
    assert_eq!(status_with(&app, &forged).await, 401);
}

async fn expired_is_refused(backend: Backend) {
    let (app, _, mut claims) = setup(backend).await;
    let now = chrono::Utc::now().timestamp();
    claims["iat"] = json!(now - 7200);
    claims["nbf"] = json!(now - 7200);
    claims["exp"] = json!(now - 3600);
    assert_eq!(
        status_with(&app, &sign(&claims, Algorithm::HS256, TEST_KEY)).await,
        401
    );
}

async fn not_yet_valid_is_refused(backend: Backend) {
    let (app, _, mut claims) = setup(backend).await;
    let now = chrono::Utc::now().timestamp();
    claims["nbf"] = json!(now + 3600);
    claims["exp"] = json!(now + 7200);
    assert_eq!(
        status_with(&app, &sign(&claims, Algorithm::HS256, TEST_KEY)).await,
        401
    );
}

async fn wrong_audience_or_issuer_is_refused(backend: Backend) {
    let (app, _, claims) = setup(backend).await;
    let mut aud = claims.clone();
    aud["aud"] = json!("someone-else");
    assert_eq!(
        status_with(&app, &sign(&aud, Algorithm::HS256, TEST_KEY)).await,
        401
    );
    let mut iss = claims.clone();
    iss["iss"] = json!("evil");
    assert_eq!(
        status_with(&app, &sign(&iss, Algorithm::HS256, TEST_KEY)).await,
        401
    );
}

async fn missing_claims_or_wrong_type_are_refused(backend: Backend) {
    let (app, _, claims) = setup(backend).await;
    for claim in ["exp", "nbf", "iat", "aud", "iss", "sub"] {
        let mut c = claims.clone();
        c.as_object_mut().unwrap().remove(claim);
        assert_eq!(
            status_with(&app, &sign(&c, Algorithm::HS256, TEST_KEY)).await,
            401,
            "without {claim}"
        );
    }
    let mut typ = claims.clone();
    typ["typ"] = json!("refresh");
    assert_eq!(
        status_with(&app, &sign(&typ, Algorithm::HS256, TEST_KEY)).await,
        401
    );
}

async fn a_refresh_token_is_not_an_access_token(backend: Backend) {
    let (app, admin, _) = setup(backend).await;
    assert_eq!(status_with(&app, &admin.refresh).await, 401);
}

async fn a_tampered_claim_is_refused(backend: Backend) {
    let (app, admin, mut claims) = setup(backend).await;
    let (_, manager) = app.org_with_manager(&admin).await;
    claims["sub"] = json!(manager.user_id);
    let mut parts: Vec<String> = admin.access.split('.').map(str::to_string).collect();
    parts[1] = URL_SAFE_NO_PAD.encode(claims.to_string());
    assert_eq!(status_with(&app, &parts.join(".")).await, 401);
}

async fn a_token_for_another_users_session_is_refused(backend: Backend) {
    // Correctly signed (as if the key leaked), but sub and sid do not belong together.
    let (app, admin, mut claims) = setup(backend).await;
    let (_, manager) = app.org_with_manager(&admin).await;
    claims["sub"] = json!(manager.user_id);
    assert_eq!(
        status_with(&app, &sign(&claims, Algorithm::HS256, TEST_KEY)).await,
        401
    );
}

both_backends!(
    a_well_signed_copy_of_the_claims_is_accepted,
    alg_none_is_refused,
    another_algorithm_with_the_same_key_is_refused,
    a_wrong_key_is_refused,
    expired_is_refused,
    not_yet_valid_is_refused,
    wrong_audience_or_issuer_is_refused,
    missing_claims_or_wrong_type_are_refused,
    a_refresh_token_is_not_an_access_token,
    a_tampered_claim_is_refused,
    a_token_for_another_users_session_is_refused,
);
