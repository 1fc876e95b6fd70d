//! The stylesheet, compiled into the binary and served under a name that changes with its
//! content, so browsers may keep it for a year and still never use an old one.

use std::sync::LazyLock;

use actix_web::http::header;
use actix_web::{HttpResponse, get, web};
use sha2::{Digest, Sha256};

const STYLESHEET: &str = include_str!("../../../assets/peerpath.css");

pub static STYLESHEET_PATH: LazyLock<String> = LazyLock::new(|| {
    let digest = Sha256::digest(STYLESHEET.as_bytes());
    let short: String = digest.iter().take(5).map(|b| format!("{b:02x}")).collect();
    format!("/assets/peerpath-{short}.css")
});

#[get("/assets/{name}")]
pub async fn asset(name: web::Path<String>) -> HttpResponse {
    if format!("/assets/{}", name.as_str()) != *STYLESHEET_PATH {
        return super::errors::not_found_page();
    }
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=31536000, immutable"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(STYLESHEET)
}

/// Browsers ask for an icon whatever the page says; answering keeps their logs quiet.
#[get("/favicon.ico")]
pub async fn favicon() -> HttpResponse {
    HttpResponse::NoContent()
        .insert_header((header::CACHE_CONTROL, "public, max-age=86400"))
        .finish()
}
