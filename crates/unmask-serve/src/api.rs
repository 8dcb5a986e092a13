//! The routes: the page's three embedded files and the JSON API. No route reads a file from
//! disk.

use std::io::Cursor;

use axum::extract::{DefaultBodyLimit, Multipart, Query, State};
use axum::http::{header, StatusCode, Uri};
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

/// The router over `queue`, refusing request bodies over `max_upload_bytes`.
pub fn router(queue: Queue, max_upload_bytes: usize) -> Router {
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
        .layer(DefaultBodyLimit::max(max_upload_bytes))
        .with_state(queue)
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

async fn health(State(queue): State<Queue>) -> Json<Value> {
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
    State(queue): State<Queue>,
    Query(query): Query<JobQuery>,
) -> Result<Json<Value>, ApiError> {
    match queue.status(&query.job) {
        Some(status) => Ok(Json(serde_json::to_value(status).unwrap_or_default())),
        None => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("no job {:?} is queued or running", query.job),
        )),
    }
}

async fn unmask(State(queue): State<Queue>, multipart: Multipart) -> Result<Json<Value>, ApiError> {
    // Taken before the body is read: the bound covers uploads and decoding too.
    let Some(_slot) = queue.slot() else {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "busy: {} photo(s) are being processed or waiting; try again shortly",
                queue.capacity()
            ),
        ));
    };
    let form = form::read(multipart, queue.defaults()).await?;
    let pending = queue.submit(form.job, form.request).map_err(|e| match e {
        Refused::IdInUse => {
            ApiError::bad_request("field `job`: that id is already queued or running")
        }
        Refused::Stopped => ApiError::internal("the model worker has stopped; restart the server"),
    })?;
    let result = pending
        .await
        .map_err(|_| ApiError::internal("the model worker stopped during this photo"))?
        .map_err(|e| match e.downcast_ref::<InvalidOverrides>() {
            Some(bad) => ApiError::bad_request(bad.to_string()),
            None => ApiError::internal(format!("{e:#}")),
        })?;
    let body = tokio::task::spawn_blocking(move || response(&result))
        .await
        .map_err(|e| ApiError::internal(format!("encoding the result failed: {e}")))??;
    Ok(Json(body))
}

/// The JSON of a result: the report (as `unmask --json` prints it), the image as a PNG data
/// URL, and each face's mask at the photo's resolution where it lies (for the page's overlay
/// and brush).
fn response(result: &Unmasked) -> Result<Value, ApiError> {
    let mut body =
        serde_json::to_value(result.report()).map_err(|e| ApiError::internal(e.to_string()))?;
    body["image"] = json!(png_data_url(&image::DynamicImage::ImageRgb8(
        result.image.clone()
    ))?);
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
