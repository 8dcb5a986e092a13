//! `POST /api/unmask`'s multipart form: the photo, an optional mask, and options, each field
//! checked with an error that names it.

use std::collections::BTreeMap;
use std::path::Path;

use axum::extract::multipart::{Field, Multipart};
use image::GrayImage;
use unmask_photo::{FaceChoice, Overrides, UnmaskSettings};

use crate::error::ApiError;
use crate::jobs::{Request, Slot};

/// The form's fields, for error messages.
pub const FIELDS: &str =
    "image, mask, mask_faces, on, off, min_face_score, detect_tiles, min_coverage, sure_probability, face_margin, hole_probability, convex_hole, crop_zoom, job";

/// A parsed form: the request, the client's job id, and the request's place in the server.
pub struct Form {
    pub request: Request,
    pub job: Option<String>,
    pub slot: Slot,
}

/// Reads every field, then decodes the photo and the masks on a blocking thread (decoding a
/// large photo takes a while), which holds `slot` while it works.
pub async fn read(
    mut multipart: Multipart,
    defaults: &UnmaskSettings,
    slot: Slot,
) -> Result<Form, ApiError> {
    let mut raw = RawForm::default();
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(ApiError::from_multipart)?
    {
        let name = field.name().unwrap_or_default().to_string();
        if name == "image" {
            raw.image = Some(file(field).await?);
        } else if name == "mask" {
            raw.mask = Some(file(field).await?);
        } else if let Some(face) = name.strip_prefix("face_mask_") {
            let face = face.parse::<usize>().map_err(|_| {
                ApiError::bad_request(format!("field `{name}`: face_mask_N needs a face number N"))
            })?;
            raw.face_masks.push((face, file(field).await?));
        } else {
            let value = text(field, &name).await?;
            raw.options.push((name, value));
        }
    }
    let (mut overrides, settings, job) = options(&raw.options, defaults)?;
    let image = raw.image.ok_or_else(|| {
        ApiError::bad_request(format!("no `image` field; the fields are: {FIELDS}"))
    })?;
    let (mask, face_masks) = (raw.mask, raw.face_masks);
    let (photo, mask, face_masks, slot) = tokio::task::spawn_blocking(move || {
        decode(&image, mask, face_masks).map(|(p, m, f)| (p, m, f, slot))
    })
    .await
    .map_err(|e| ApiError::internal(format!("decoding failed: {e}")))??;
    overrides.mask = mask;
    overrides.face_masks = face_masks;
    if overrides.mask.is_none() && overrides.mask_faces.is_some() {
        return Err(ApiError::bad_request(
            "`mask_faces` names the faces a `mask` is for, but no `mask` was sent",
        ));
    }
    Ok(Form {
        request: Request {
            photo,
            overrides,
            settings,
        },
        job,
        slot,
    })
}

type Upload = (String, Vec<u8>);

#[derive(Default)]
struct RawForm {
    image: Option<Upload>,
    mask: Option<Upload>,
    face_masks: Vec<(usize, Upload)>,
    options: Vec<(String, String)>,
}

/// A file field: its file name (what errors call it) and bytes.
async fn file(field: Field<'_>) -> Result<Upload, ApiError> {
    let field_name = field.name().unwrap_or_default().to_string();
    // Only the last path component, and only for messages: nothing is read or written by it.
    let file_name = field
        .file_name()
        .and_then(|n| Path::new(n).file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| field_name.clone());
    let bytes = field.bytes().await.map_err(ApiError::from_multipart)?;
    Ok((file_name, bytes.to_vec()))
}

async fn text(field: Field<'_>, name: &str) -> Result<String, ApiError> {
    let bytes = field.bytes().await.map_err(ApiError::from_multipart)?;
    if bytes.len() > 4096 {
        return Err(ApiError::bad_request(format!(
            "field `{name}` is longer than 4096 bytes"
        )));
    }
    String::from_utf8(bytes.to_vec())
        .map(|s| s.trim().to_string())
        .map_err(|_| ApiError::bad_request(format!("field `{name}` is not UTF-8 text")))
}

#[allow(clippy::type_complexity)]
fn decode(
    (name, bytes): &Upload,
    mask: Option<Upload>,
    face_masks: Vec<(usize, Upload)>,
) -> Result<
    (
        image::RgbImage,
        Option<GrayImage>,
        BTreeMap<usize, GrayImage>,
    ),
    ApiError,
> {
    // The size limit and format checks come before any pixel is decoded.
    let photo = unmask_core::photo::decode_photo(bytes, Path::new(name))
        .map_err(|e| ApiError::bad_request(format!("image: {e:#}")))?;
    let read_mask = |field: &str, (name, bytes): &Upload| {
        unmask_core::photo::decode_mask(bytes, Path::new(name))
            .map_err(|e| ApiError::bad_request(format!("{field}: {e:#}")))
    };
    let mask = mask.as_ref().map(|m| read_mask("mask", m)).transpose()?;
    let mut own = BTreeMap::new();
    for (face, upload) in &face_masks {
        own.insert(*face, read_mask(&format!("face_mask_{face}"), upload)?);
    }
    // Their sizes are checked against the photo's with the rest of the overrides.
    Ok((photo, mask, own))
}

/// The option fields: face choices, the faces a mask is for, settings, and the job id.
fn options(
    fields: &[(String, String)],
    defaults: &UnmaskSettings,
) -> Result<(Overrides, UnmaskSettings, Option<String>), ApiError> {
    let mut settings = defaults.clone();
    let mut overrides = Overrides::default();
    let mut job = None;
    let mut choices = BTreeMap::new();
    for (name, value) in fields {
        match name.as_str() {
            "on" | "off" => {
                let choice = if name == "on" {
                    FaceChoice::On
                } else {
                    FaceChoice::Off
                };
                for face in face_list(name, value)? {
                    if choices.insert(face, choice).is_some() {
                        return Err(ApiError::bad_request(format!(
                            "face {face} is named twice in `on` and `off`"
                        )));
                    }
                }
            }
            "mask_faces" => overrides.mask_faces = Some(face_list(name, value)?),
            "min_face_score" => settings.min_face_score = number(name, value)?,
            "detect_tiles" => settings.detect_tiles = number(name, value)?,
            "min_coverage" => settings.min_coverage = number(name, value)?,
            "sure_probability" => settings.sure_probability = number::<f32>(name, value)?,
            "face_margin" => settings.face_margin = number(name, value)?,
            "hole_probability" => settings.hole_probability = Some(number(name, value)?),
            "convex_hole" => settings.convex_hole = switch(name, value)?,
            "crop_zoom" => settings.crop_zoom = number(name, value)?,
            "job" => job = Some(job_id(value)?),
            other => {
                return Err(ApiError::bad_request(format!(
                    "unknown field `{other}`; the fields are: {FIELDS}"
                )))
            }
        }
    }
    settings
        .validate()
        .map_err(|e| ApiError::bad_request(e.to_string().replace("unmask.", "")))?;
    overrides.choices = choices;
    Ok((overrides, settings, job))
}

/// `"0, 2,3"` -> `[0, 2, 3]`; empty is no face.
fn face_list(name: &str, value: &str) -> Result<Vec<usize>, ApiError> {
    value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<usize>().map_err(|_| {
                ApiError::bad_request(format!(
                    "field `{name}`: {s:?} is not a face number (a list like 0,2)"
                ))
            })
        })
        .collect()
}

/// `1`/`true`/`on` or `0`/`false`/`off`.
fn switch(name: &str, value: &str) -> Result<bool, ApiError> {
    match value.trim() {
        "1" | "true" | "on" => Ok(true),
        "0" | "false" | "off" => Ok(false),
        _ => Err(ApiError::bad_request(format!(
            "field `{name}`: {value:?} is not 1 or 0 (true or false)"
        ))),
    }
}

fn number<T: std::str::FromStr>(name: &str, value: &str) -> Result<T, ApiError> {
    value
        .parse()
        .map_err(|_| ApiError::bad_request(format!("field `{name}`: {value:?} is not a number")))
}

/// A job id the page picks so it can ask for progress: 1-64 letters, digits, `-` or `_`.
fn job_id(value: &str) -> Result<String, ApiError> {
    let ok = (1..=64).contains(&value.len())
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(value.to_string())
    } else {
        Err(ApiError::bad_request(
            "field `job`: 1 to 64 letters, digits, '-' or '_'",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn options_become_choices_and_settings() {
        let defaults = UnmaskSettings::default();
        let (overrides, settings, job) = options(
            &fields(&[
                ("on", "1"),
                ("off", "0, 3"),
                ("mask_faces", "2"),
                ("min_coverage", "0.5"),
                ("detect_tiles", "2"),
                ("face_margin", "0.2"),
                ("hole_probability", "0.4"),
                ("convex_hole", "0"),
                ("crop_zoom", "1.2"),
                ("job", "photo-1_a"),
            ]),
            &defaults,
        )
        .unwrap();
        assert_eq!(overrides.choices.get(&1), Some(&FaceChoice::On));
        assert_eq!(overrides.choices.get(&0), Some(&FaceChoice::Off));
        assert_eq!(overrides.choices.get(&3), Some(&FaceChoice::Off));
        assert_eq!(overrides.mask_faces, Some(vec![2]));
        assert_eq!(settings.min_coverage, 0.5);
        assert_eq!(settings.detect_tiles, 2);
        assert_eq!(settings.face_margin, 0.2);
        assert_eq!(settings.hole_probability, Some(0.4));
        assert!(!settings.convex_hole);
        assert_eq!(settings.crop_zoom, 1.2);
        assert_eq!(settings.sure_probability, defaults.sure_probability);
        assert_eq!(job.as_deref(), Some("photo-1_a"));
    }

    #[test]
    fn bad_options_name_the_field() {
        let defaults = UnmaskSettings::default();
        for (pairs, expected) in [
            (vec![("on", "x")], "field `on`"),
            (vec![("on", "1"), ("off", "1")], "face 1 is named twice"),
            (vec![("min_coverage", "high")], "field `min_coverage`"),
            (
                vec![("min_coverage", "2")],
                "min_coverage must be in [0, 1]",
            ),
            (vec![("detect_tiles", "-1")], "field `detect_tiles`"),
            (vec![("detect_tiles", "9")], "detect_tiles must be 1 to 4"),
            (vec![("job", "../etc")], "field `job`"),
            (vec![("convex_hole", "maybe")], "field `convex_hole`"),
            (vec![("crop_zoom", "3")], "crop_zoom must be in [1, 2]"),
            (vec![("colour", "red")], "unknown field `colour`"),
        ] {
            let err = options(&fields(&pairs), &defaults).err().unwrap();
            assert_eq!(err.status.as_u16(), 400);
            assert!(
                err.message.contains(expected),
                "{} / {expected}",
                err.message
            );
        }
    }
}
