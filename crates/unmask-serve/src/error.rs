//! API errors: JSON `{"error": MESSAGE}` with a 4xx status for what the client sent, 503 when
//! the server is full, 500 when the models fail on a photo.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, message)
    }

    /// A broken or oversized multipart body: 413 past the upload limit, else 400.
    pub fn from_multipart(e: axum::extract::multipart::MultipartError) -> Self {
        let status = e.status();
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            return Self::from_status(status);
        }
        let message = format!(
            "the upload is not a well-formed multipart form: {}",
            e.body_text()
        );
        Self::new(status, message)
    }

    /// The errors that need no details (413).
    pub fn from_status(status: StatusCode) -> Self {
        let message = match status {
            StatusCode::PAYLOAD_TOO_LARGE => {
                "the upload is larger than the server accepts (see `unmask serve --max-upload-mb`)"
            }
            _ => status.canonical_reason().unwrap_or("error"),
        };
        Self::new(status, message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(serde_json::json!({ "error": self.message })),
        )
            .into_response()
    }
}
