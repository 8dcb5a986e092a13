//! The routes: the page's three embedded files and the JSON API. No route reads a file from
//! disk.

use std::io::Cursor;

use std::time::Duration;

use axum::extract::multipart::MultipartRejection;
use axum::extract::rejection::QueryRejection;
use axum::extract::{DefaultBodyLimit, Multipart, Query, State};
use axum::http::{header, HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine as _;
use serde::Deserialize;
use serde_json::{json, Value};
use unmask_photo::{InvalidOverrides, Unmasked};

use crate::error::ApiError;
use crate::form;
use crate::jobs::{Queue, Refused};

/// How long an upload may take to arrive: a slow client must not hold a place for ever.
const UPLOAD_TIMEOUT: Duration = Duration::from_secs(120);

#[derive(Clone)]
struct AppState {
    queue: Queue,
    max_upload_bytes: usize,
}

/// The router over `queue`, refusing request bodies over `max_upload_bytes`.
pub fn router(queue: Queue, max_upload_bytes: usize) -> Router {
    let state = AppState {
        queue,
        max_upload_bytes,
    };
    Router::new()
        .route(
            "/",
            get(|| asset("text/html; charset=utf-8", crate::assets::INDEX_HTML)),
        )
        .route(
            "/app.js",
            get(|| asset("text/javascript; charset=utf-8", crate::assets::APP_JS)),
        )
        .route(
            "/style.css",
            get(|| asset("text/css; charset=utf-8", crate::assets::STYLE_CSS)),
        )
        .route("/api/health", get(health))
        .route("/api/progress", get(progress))
        .route("/api/unmask", post(unmask))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(max_upload_bytes))
        .with_state(state)
}

async fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

async fn not_found(uri: Uri) -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, format!("no route {}", uri.path()))
}

async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("{method} is not allowed on {}", uri.path()),
    )
}

async fn health(State(AppState { queue, .. }): State<AppState>) -> Json<Value> {
    Json(json!({
        "status": "ok",
        "version": env!("CARGO_PKG_VERSION"),
        "photos_in_flight": queue.in_flight(),
        "capacity": queue.capacity(),
        "settings": queue.defaults(),
    }))
}

#[derive(Deserialize)]
struct JobQuery {
    job: String,
}

async fn progress(
    State(AppState { queue, .. }): State<AppState>,
    query: Result<Query<JobQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(query) = query
        .map_err(|_| ApiError::bad_request("GET /api/progress?job=ID: the job id is missing"))?;
    match queue.status(&query.job) {
        Some(status) => Ok(Json(serde_json::to_value(status).unwrap_or_default())),
        None => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("no job {:?} is queued or running", query.job),
        )),
    }
}

async fn unmask(
    State(AppState {
        queue,
        max_upload_bytes,
    }): State<AppState>,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Json<Value>, ApiError> {
    refuse_other_sites(&headers)?;
    // Said before a byte of the body is read, when the client declares its size.
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
    if declared.is_some_and(|n| n > max_upload_bytes) {
        return Err(ApiError::from_status(StatusCode::PAYLOAD_TOO_LARGE));
    }
    let multipart = multipart.map_err(|e| {
        ApiError::bad_request(format!(
            "POST /api/unmask takes a multipart form (`image` and options): {}",
            e.body_text()
        ))
    })?;
    // Taken before the body is read: the bound covers uploads, decoding and the queue.
    let Some(slot) = queue.slot() else {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "busy: {} photo(s) are being processed or waiting; try again shortly",
                queue.capacity()
            ),
        ));
    };
    let form = tokio::time::timeout(
        UPLOAD_TIMEOUT,
        form::read(multipart, queue.defaults(), slot),
    )
    .await
    .map_err(|_| {
        ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            format!("the upload took longer than {} s", UPLOAD_TIMEOUT.as_secs()),
        )
    })??;
    let pending = queue
        .submit(form.job, form.request, form.slot)
        .map_err(|e| match e {
            Refused::IdInUse => {
                ApiError::bad_request("field `job`: that id is already queued or running")
            }
            Refused::Stopped => {
                ApiError::internal("the model worker has stopped; restart the server")
            }
        })?;
    let done = pending
        .await
        .map_err(|_| ApiError::internal("the model worker stopped during this photo"))?;
    let result = done
        .result
        .map_err(|e| match e.downcast_ref::<InvalidOverrides>() {
            Some(bad) => ApiError::bad_request(bad.to_string()),
            None => ApiError::internal(format!("{e:#}")),
        })?;
    let slot = done.slot;
    let body = tokio::task::spawn_blocking(move || {
        let body = response(result);
        drop(slot);
        body
    })
    .await
    .map_err(|e| ApiError::internal(format!("encoding the result failed: {e}")))??;
    Ok(Json(body))
}

/// A browser posting from another site's page (which needs no permission for a form post)
/// is refused: the server is for the user's own page and tools such as curl, which send no
/// `Origin`.
fn refuse_other_sites(headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return Ok(());
    };
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    let origin_host = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"));
    if origin_host.is_some() && origin_host == host {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            format!("requests from other sites ({origin}) are refused"),
        ))
    }
}

/// The JSON of a result: the report (as `unmask --json` prints it), the image as a PNG data
/// URL, and each face's mask at the photo's resolution where it lies (for the page's overlay
/// and brush).
fn response(result: Unmasked) -> Result<Value, ApiError> {
    let mut body =
        serde_json::to_value(result.report()).map_err(|e| ApiError::internal(e.to_string()))?;
    let (w, h) = result.image.dimensions();
    for (face, entry) in result
        .faces
        .iter()
        .zip(body["faces"].as_array_mut().into_iter().flatten())
    {
        entry["mask"] = match face.mask_in_photo(w, h) {
            Some((x, y, mask)) => json!({
                "x": x,
                "y": y,
                "width": mask.width(),
                "height": mask.height(),
                "image": png_data_url(&image::DynamicImage::ImageLuma8(mask))?,
            }),
            None => Value::Null,
        };
    }
    body["image"] = json!(png_data_url(&image::DynamicImage::ImageRgb8(result.image))?);
    Ok(body)
}

fn png_data_url(img: &image::DynamicImage) -> Result<String, ApiError> {
    let mut png = Vec::new();
    img.write_to(&mut Cursor::new(&mut png), image::ImageFormat::Png)
        .map_err(|e| ApiError::internal(format!("PNG encoding failed: {e}")))?;
    Ok(format!(
        "data:image/png;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(png)
    ))
}
