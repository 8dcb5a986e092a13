//! Every decoder entry point meets random bytes and mutated real files and answers with an
//! error, never a panic: photos, masks, pipeline YAML, parquet manifests (faces and masks),
//! TF.js weight manifests and pickled weights.

use proptest::prelude::*;
use std::path::{Path, PathBuf};
use unmask_core::photo;

mod common;
use common::project_root;

/// A real file changed at a few bytes, cut short, or both.
#[derive(Clone, Debug)]
struct Mutation {
    flips: Vec<(usize, u8)>,
    cut: Option<usize>,
}

impl Mutation {
    fn apply(&self, real: &[u8]) -> Vec<u8> {
        let mut bytes = real.to_vec();
        for (at, value) in &self.flips {
            if !bytes.is_empty() {
                let i = at % bytes.len();
                bytes[i] = *value;
            }
        }
        if let Some(cut) = self.cut {
            bytes.truncate(cut % (real.len() + 1));
        }
        bytes
    }
}

fn mutation() -> impl Strategy<Value = Mutation> {
    (
        prop::collection::vec((any::<usize>(), any::<u8>()), 0..8),
        prop::option::of(any::<usize>()),
    )
        .prop_map(|(flips, cut)| Mutation { flips, cut })
}

fn random_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..512)
}

/// A face image in each format we read.
fn real_images() -> Vec<(&'static str, Vec<u8>)> {
    let face = unmask_faces::synthetic::generate_face(3, 0, 48).image;
    [
        ("png", image::ImageFormat::Png),
        ("jpg", image::ImageFormat::Jpeg),
        ("webp", image::ImageFormat::WebP),
        ("bmp", image::ImageFormat::Bmp),
        ("tiff", image::ImageFormat::Tiff),
    ]
    .into_iter()
    .map(|(ext, format)| {
        let mut bytes = Vec::new();
        face.write_to(&mut std::io::Cursor::new(&mut bytes), format)
            .unwrap();
        (ext, bytes)
    })
    .collect()
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        project_root()
            .join("crates/unmask-weights/tests/fixtures")
            .join(name),
    )
    .unwrap()
}

/// A faces manifest and a masks manifest written by the real stages, once per test binary.
fn real_manifests() -> &'static (PathBuf, Vec<u8>, Vec<u8>) {
    static MADE: std::sync::OnceLock<(PathBuf, Vec<u8>, Vec<u8>)> = std::sync::OnceLock::new();
    MADE.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap().keep();
        let faces = dir.join("faces");
        let cfg = unmask_faces::FacesConfig {
            count: 6,
            size: 48,
            preview_count: 0,
            ..Default::default()
        };
        unmask_faces::generate(&cfg, &faces).unwrap();
        let records = unmask_faces::read_faces(&faces).unwrap();
        let masks = dir.join("masks");
        let params = unmask_masks::dataset::MasksParams {
            preview_per_type: 0,
            max_reject_fraction: 1.0,
            ..Default::default()
        };
        unmask_masks::dataset::synthesize(&params, &records, &masks).unwrap();
        let faces_bytes = std::fs::read(faces.join("manifest.parquet")).unwrap();
        let masks_bytes = std::fs::read(masks.join("manifest.parquet")).unwrap();
        (dir, faces_bytes, masks_bytes)
    })
}

/// Writes `bytes` as `dir/name` in a fresh folder and returns the folder.
fn in_folder(name: &str, bytes: &[u8]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(name), bytes).unwrap();
    dir
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn photos_never_panic(m in mutation(), junk in random_bytes(), pick in 0usize..5) {
        let images = real_images();
        let (ext, real) = &images[pick];
        let name = PathBuf::from(format!("photo.{ext}"));
        let _ = photo::decode_photo(&m.apply(real), &name);
        let _ = photo::decode_photo(&junk, &name);
    }

    #[test]
    fn masks_never_panic(m in mutation(), junk in random_bytes()) {
        let gray = image::GrayImage::from_fn(32, 32, |x, y| image::Luma([if x > y { 255 } else { 0 }]));
        let mut png = Vec::new();
        gray.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png).unwrap();
        for bytes in [m.apply(&png), junk] {
            let dir = in_folder("mask.png", &bytes);
            let _ = photo::read_mask(&dir.path().join("mask.png"));
            let _ = unmask_train::images::read_mask(&dir.path().join("mask.png"));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn pipeline_yaml_never_panics(m in mutation(), junk in "\\PC{0,300}") {
        let real = std::fs::read(project_root().join("pipelines/quickstart.yaml")).unwrap();
        let mutated = String::from_utf8_lossy(&m.apply(&real)).into_owned();
        let path = Path::new("pipelines/fuzz.yaml");
        let _ = unmask_pipeline::spec::PipelineSpec::parse(&mutated, path);
        let _ = unmask_pipeline::spec::PipelineSpec::parse(&junk, path);
    }

    #[test]
    fn tfjs_weights_never_panic(m in mutation(), n in mutation(), junk in random_bytes()) {
        let manifest = fixture("tiny-weights_manifest.json");
        let bin = fixture("tiny.bin");
        let _ = unmask_weights::tfjs::read_tensors(&m.apply(&manifest), "tiny.bin", &bin);
        let _ = unmask_weights::tfjs::read_tensors(&manifest, "tiny.bin", &n.apply(&bin));
        let _ = unmask_weights::tfjs::read_tensors(&junk, "tiny.bin", &junk);
    }

    #[test]
    fn pickled_weights_never_panic(m in mutation(), junk in random_bytes()) {
        let real = fixture("tiny.pkl");
        let _ = unmask_weights::pickle::read_arrays(&m.apply(&real));
        let _ = unmask_weights::pickle::read_arrays(&junk);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn manifests_never_panic(m in mutation(), junk in random_bytes(), faces in any::<bool>()) {
        let (_, faces_bytes, masks_bytes) = real_manifests();
        let real = if faces { faces_bytes } else { masks_bytes };
        for bytes in [m.apply(real), junk] {
            let dir = in_folder("manifest.parquet", &bytes);
            let _ = unmask_faces::read_faces(dir.path());
            let _ = unmask_masks::pairs::read_pairs(dir.path());
        }
    }
}

#[test]
fn a_truncated_or_corrupt_manifest_is_an_error_naming_the_file() {
    let (_, faces_bytes, masks_bytes) = real_manifests();
    let cut = in_folder("manifest.parquet", &faces_bytes[..faces_bytes.len() / 2]);
    let err = format!("{:#}", unmask_faces::read_faces(cut.path()).unwrap_err());
    assert!(
        err.contains("manifest.parquet") && err.contains(&cut.path().display().to_string()),
        "{err}"
    );
    let mut garbage = masks_bytes.clone();
    for b in garbage.iter_mut().skip(8).step_by(7) {
        *b ^= 0x5a;
    }
    let bad = in_folder("manifest.parquet", &garbage);
    let err = format!(
        "{:#}",
        unmask_masks::pairs::read_pairs(bad.path()).unwrap_err()
    );
    assert!(err.contains("manifest.parquet"), "{err}");
}
