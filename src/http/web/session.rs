//! The pages' caller: the session cookie, the extractors that turn it into a signed-in
//! person, and the CSRF checks of every form (the session's token in the form, and the
//! `Origin` of the post).

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::web::{BytesMut, Data};
use actix_web::{FromRequest, HttpMessage, HttpRequest};
use futures_util::StreamExt;
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;

use super::errors::PageError;
use super::render::Frame;
use crate::config::WebSettings;
use crate::error::AppError;
use crate::http::extract::request_id;
use crate::identity::tokens;
use crate::identity::web_sessions::{self, WebSession};
use crate::state::AppState;

fn state(req: &HttpRequest) -> Result<Data<AppState>, AppError> {
    req.app_data::<Data<AppState>>()
        .cloned()
        .ok_or_else(|| AppError::internal("application state missing"))
}

/// The session cookie's name: with `Secure`, the `__Host-` prefix, so that no other site,
/// subdomain or path can set or read it.
pub fn session_cookie_name(web: &WebSettings) -> &'static str {
    if web.secure_cookies {
        "__Host-peerpath-session"
    } else {
        "peerpath-session"
    }
}

/// The signed-out visitor's CSRF cookie (sign-in and password forms).
pub fn visitor_cookie_name(web: &WebSettings) -> &'static str {
    if web.secure_cookies {
        "__Host-peerpath-visitor"
    } else {
        "peerpath-visitor"
    }
}

/// A `Set-Cookie` value: host-only, whole site, not readable by script, sent on top-level
/// navigation from other sites (so emailed links work) but never on their posts.
pub fn cookie(web: &WebSettings, name: &str, value: &str, max_age_secs: Option<i64>) -> String {
    let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
    if web.secure_cookies {
        c.push_str("; Secure");
    }
    if let Some(age) = max_age_secs {
        c.push_str(&format!("; Max-Age={age}"));
    }
    c
}

pub fn read_cookie(req: &HttpRequest, name: &str) -> Option<String> {
    req.headers()
        .get_all(header::COOKIE)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.to_string())
        .filter(|v| !v.is_empty())
}

async fn current(req: &HttpRequest) -> Result<Option<WebSession>, PageError> {
    let state = state(req)?;
    let Some(cookie) = read_cookie(req, session_cookie_name(&state.settings.web)) else {
        return Ok(None);
    };
    Ok(
        web_sessions::authenticate(&state.db, &state.settings.web, &cookie, request_id(req))
            .await?,
    )
}

fn here(req: &HttpRequest) -> String {
    req.uri()
        .path_and_query()
        .map_or_else(|| "/".to_string(), |p| p.as_str().to_string())
}

/// A page for signed-in people: without a live session the browser goes to sign in and
/// comes back here afterwards.
pub struct SignedIn {
    pub session: WebSession,
    pub path: String,
}

impl SignedIn {
    pub fn frame(&self) -> Frame<'_> {
        Frame {
            session: Some(&self.session),
            csrf_token: &self.session.csrf_token,
            path: &self.path,
        }
    }
}

impl FromRequest for SignedIn {
    type Error = PageError;
    type Future = LocalBoxFuture<'static, Result<Self, PageError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let path = req.path().to_string();
            match current(&req).await? {
                Some(session) => Ok(Self { session, path }),
                None => Err(PageError::SignIn { next: here(&req) }),
            }
        })
    }
}

/// A page anyone may open (sign-in, the home page's redirect).
pub struct MaybeSignedIn(pub Option<WebSession>);

impl FromRequest for MaybeSignedIn {
    type Error = PageError;
    type Future = LocalBoxFuture<'static, Result<Self, PageError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { Ok(Self(current(&req).await?)) })
    }
}

/// Whether a post comes from this site: its `Origin` (sent by every current browser with a
/// form post) is the configured public address or the address the request was sent to.
fn same_origin(req: &HttpRequest, public_url: &str) -> bool {
    let Some(origin) = req.headers().get(header::ORIGIN) else {
        // Old browsers send none; the token still has to match.
        return true;
    };
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    let info = req.connection_info();
    let own = format!("{}://{}", info.scheme(), info.host());
    origin == own || origin == public_url.trim_end_matches('/')
}

fn tokens_match(sent: &str, expected: &str) -> bool {
    use sha2::Digest;
    // Compared as digests so that the time taken says nothing about the expected value.
    !expected.is_empty()
        && sha2::Sha256::digest(sent.as_bytes()) == sha2::Sha256::digest(expected.as_bytes())
}

/// Every form carries this field.
#[derive(serde::Deserialize)]
struct CsrfField {
    #[serde(default)]
    csrf_token: String,
}

async fn read_body(
    req: &HttpRequest,
    payload: &mut Payload,
    limit: usize,
) -> Result<BytesMut, PageError> {
    let is_form = matches!(req.mime_type(), Ok(Some(m)) if m.essence_str() == "application/x-www-form-urlencoded");
    if !is_form {
        return Err(AppError::UnsupportedMediaType.into());
    }
    let mut body = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| AppError::bad_request("The form could not be read."))?;
        if body.len() + chunk.len() > limit {
            return Err(AppError::PayloadTooLarge { limit }.into());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<(T, String), PageError> {
    let form: T = serde_urlencoded::from_bytes(body)
        .map_err(|_| AppError::bad_request("The form is not one of ours."))?;
    let csrf: CsrfField = serde_urlencoded::from_bytes(body)
        .map_err(|_| AppError::bad_request("The form is not one of ours."))?;
    Ok((form, csrf.csrf_token))
}

/// Reads a form that must come from this site and carry `expected` as its token; refused
/// (nothing read or changed) when the origin or the token is wrong.
async fn checked_form<T: DeserializeOwned>(
    req: &HttpRequest,
    payload: &mut Payload,
    state: &AppState,
    expected: &str,
) -> Result<T, PageError> {
    if !same_origin(req, &state.settings.server.public_url) {
        return Err(PageError::Csrf);
    }
    let body = read_body(req, payload, state.settings.server.body_limit_bytes).await?;
    let (form, token) = parse::<T>(&body)?;
    if !tokens_match(&token, expected) {
        return Err(PageError::Csrf);
    }
    Ok(form)
}

/// A form posted by a signed-in person, checked: their session is live, the post comes
/// from this site and carries the session's token. Otherwise nothing is read or changed.
pub struct SignedInForm<T> {
    pub signed_in: SignedIn,
    pub form: T,
}

impl<T: DeserializeOwned + 'static> FromRequest for SignedInForm<T> {
    type Error = PageError;
    type Future = LocalBoxFuture<'static, Result<Self, PageError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let mut payload = payload.take();
        Box::pin(async move {
            let state = state(&req)?;
            let session = current(&req).await?;
            let Some(session) = session else {
                return Err(PageError::SignIn {
                    next: req.path().to_string(),
                });
            };
            let form = checked_form(&req, &mut payload, &state, &session.csrf_token).await?;
            Ok(Self {
                signed_in: SignedIn {
                    session,
                    path: req.path().to_string(),
                },
                form,
            })
        })
    }
}

/// The token of a signed-out visitor's forms: the value of their visitor cookie, set by the
/// page that shows the form (a double-submit token; the cookie is host-only in production).
pub struct Visitor {
    pub token: String,
    /// A `Set-Cookie` value when the visitor had no cookie yet.
    pub set_cookie: Option<String>,
}

impl Visitor {
    pub fn of(req: &HttpRequest, web: &WebSettings) -> Result<Self, AppError> {
        let name = visitor_cookie_name(web);
        if let Some(token) = read_cookie(req, name) {
            return Ok(Self {
                token,
                set_cookie: None,
            });
        }
        let (token, _) = tokens::new_secret("")?;
        let set_cookie = Some(cookie(web, name, &token, None));
        Ok(Self { token, set_cookie })
    }
}

/// A form posted by a signed-out visitor (sign-in, password links), checked against their
/// visitor cookie and the post's origin.
pub struct VisitorForm<T> {
    pub visitor: Visitor,
    pub form: T,
}

impl<T: DeserializeOwned + 'static> FromRequest for VisitorForm<T> {
    type Error = PageError;
    type Future = LocalBoxFuture<'static, Result<Self, PageError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let mut payload = payload.take();
        Box::pin(async move {
            let state = state(&req)?;
            let Some(expected) = read_cookie(&req, visitor_cookie_name(&state.settings.web)) else {
                return Err(PageError::Csrf);
            };
            let form = checked_form(&req, &mut payload, &state, &expected).await?;
            Ok(Self {
                visitor: Visitor {
                    token: expected,
                    set_cookie: None,
                },
                form,
            })
        })
    }
}
