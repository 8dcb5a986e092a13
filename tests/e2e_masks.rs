//! End-to-end tests of mask synthesis through the pipeline: the synthetic dataset, thread
//! independence, and a user's folder of photos with a landmarks file, including bad input.

use polars::prelude::*;
use std::path::{Path, PathBuf};
use unmask_faces::synthetic::generate_face;
use unmask_pipeline::{Runner, StageStatus};

mod common;
use common::{opts, project_root};

fn read(path: &Path) -> DataFrame {
    unmask_core::manifest::read_parquet(path).unwrap()
}

fn strings(df: &DataFrame, col: &str) -> Vec<String> {
    df.column(col)
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .map(|v| v.unwrap().to_string())
        .collect()
}

#[test]
fn dataset_pipeline_writes_every_mask_type_with_exact_binary_masks() {
    let out = tempfile::tempdir().unwrap();
    let runner = Runner::new(project_root(), out.path());
    let sets = ["faces.count=70", "faces.size=96", "faces.preview_count=4"];
    let summary = runner.run("dataset", &opts(&sets)).unwrap();
    assert_eq!(
        summary.status_of("masks"),
        Some(&StageStatus::Ran),
        "{}",
        summary.table()
    );
    let dir = out.path().join("dataset/masks");
    let df = read(&dir.join("manifest.parquet"));
    assert!(df.height() >= 65, "too many rejects: {}", summary.table());
    let types = strings(&df, "mask_type");
    for t in [
        "surgical",
        "surgical_blue",
        "surgical_green",
        "n95",
        "kn95",
        "cloth",
        "gas",
    ] {
        assert!(types.iter().any(|x| x == t), "mask type {t} never drawn");
    }
    assert!(dir.join("preview.png").is_file() && dir.join("rejects.parquet").is_file());
    // Faces keep their split; the target is the face image; the mask marks changed pixels.
    let faces = read(&out.path().join("dataset/faces/manifest.parquet"));
    let face_split: std::collections::HashMap<String, String> = strings(&faces, "id")
        .into_iter()
        .zip(strings(&faces, "split"))
        .collect();
    let (masked, masks, targets) = (
        strings(&df, "masked"),
        strings(&df, "mask"),
        strings(&df, "target"),
    );
    for (i, (face, split)) in strings(&df, "face_id")
        .iter()
        .zip(strings(&df, "split"))
        .enumerate()
        .take(10)
    {
        assert_eq!(face_split[face], split);
        let m = image::open(dir.join(&masked[i])).unwrap().to_rgb8();
        let t = image::open(dir.join(&targets[i])).unwrap().to_rgb8();
        let b = image::open(dir.join(&masks[i])).unwrap().to_luma8();
        assert!(
            b.pixels().all(|p| p[0] == 0 || p[0] == 255),
            "mask must be binary"
        );
        let covered: Vec<bool> = b.pixels().map(|p| p[0] == 255).collect();
        let changed_inside = m
            .pixels()
            .zip(t.pixels())
            .zip(&covered)
            .filter(|((a, b), c)| **c && a != b)
            .count();
        let inside = covered.iter().filter(|c| **c).count();
        assert!(
            inside > 0 && changed_inside * 10 > inside * 8,
            "the mask must cover the drawn mask"
        );
    }
    let area: Vec<f32> = df
        .column("area_fraction")
        .unwrap()
        .f32()
        .unwrap()
        .iter()
        .flatten()
        .collect();
    assert!(area.iter().all(|a| *a > 0.03 && *a < 0.6), "{area:?}");
}

#[test]
fn same_seed_gives_identical_masks_with_one_or_two_threads() {
    let run = |threads: usize| {
        let out = tempfile::tempdir().unwrap();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            Runner::new(project_root(), out.path())
                .run(
                    "dataset",
                    &opts(&["faces.count=16", "faces.size=64", "faces.preview_count=2"]),
                )
                .unwrap()
        });
        let dir = out.path().join("dataset/masks");
        let mut files: Vec<(String, Vec<u8>)> = ["masked", "masks"]
            .iter()
            .flat_map(|sub| std::fs::read_dir(dir.join(sub)).unwrap().flatten())
            .map(|e| {
                (
                    e.path()
                        .display()
                        .to_string()
                        .replace(&out.path().display().to_string(), ""),
                    std::fs::read(e.path()).unwrap(),
                )
            })
            .collect();
        files.sort();
        files.push((
            "manifest".into(),
            std::fs::read(dir.join("manifest.parquet")).unwrap(),
        ));
        files
    };
    let (one, two) = (run(1), run(2));
    assert_eq!(one.len(), two.len());
    assert!(one == two, "outputs depend on the thread count");
}

/// A folder of photos as a user would bring it, with a landmarks CSV.
struct UserFolder {
    _dir: tempfile::TempDir,
    root: PathBuf,
    images: PathBuf,
    csv: PathBuf,
}

impl UserFolder {
    /// Runs the folder's pipeline with `faces.dir` and `faces.landmarks` pointing at it.
    fn run(&self) -> unmask_pipeline::RunSummary {
        self.run_with(&[])
    }

    /// `faces.dir` and `faces.landmarks` pointing at the folder.
    fn sets(&self) -> Vec<String> {
        vec![
            format!("faces.dir={}", self.images.display()),
            format!("faces.landmarks={}", self.csv.display()),
        ]
    }

    /// [`Self::run`] with more `--set` overrides.
    fn run_with(&self, more: &[&str]) -> unmask_pipeline::RunSummary {
        let runner = Runner::new(&self.root, self.root.join("out"));
        let mut sets = self.sets();
        sets.extend(more.iter().map(|s| s.to_string()));
        let sets: Vec<&str> = sets.iter().map(String::as_str).collect();
        runner.run("p", &opts(&sets)).unwrap()
    }
}

fn user_folder(rows: &[(&str, Option<usize>)]) -> UserFolder {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    std::fs::create_dir_all(root.join("pipelines")).unwrap();
    std::fs::write(
        root.join("pipelines/p.yaml"),
        "description: t\nstages:\n  faces:\n    kind: faces\n    params: {size: 96}\n  masks:\n    kind: masks\n    needs: [faces]\n    params: {preview_per_type: 1, max_reject_fraction: 0.5}\n",
    )
    .unwrap();
    let images = root.join("photos");
    std::fs::create_dir_all(&images).unwrap();
    let mut csv = String::from("file");
    for i in 0..68 {
        csv.push_str(&format!(",x{i},y{i}"));
    }
    csv.push('\n');
    for (i, (name, nan_point)) in rows.iter().enumerate() {
        let face = generate_face(42, i as u64, 96);
        let path = images.join(name);
        if name.ends_with("broken.png") {
            let mut bytes = Vec::new();
            face.image
                .write_to(
                    &mut std::io::Cursor::new(&mut bytes),
                    image::ImageFormat::Png,
                )
                .unwrap();
            std::fs::write(&path, &bytes[..bytes.len() / 3]).unwrap();
        } else if name.ends_with("gray16.png") {
            image::DynamicImage::ImageRgb8(face.image.clone())
                .into_luma16()
                .save(&path)
                .unwrap();
        } else if name.ends_with("rgba.png") {
            image::DynamicImage::ImageRgb8(face.image.clone())
                .into_rgba8()
                .save(&path)
                .unwrap();
        } else {
            face.image.save(&path).unwrap();
        }
        csv.push_str(name);
        for (k, p) in face.landmarks.0.iter().enumerate() {
            if Some(k) == *nan_point {
                csv.push_str(",NaN,NaN");
            } else {
                csv.push_str(&format!(",{},{}", p[0], p[1]));
            }
        }
        csv.push('\n');
    }
    let csv_path = root.join("landmarks.csv");
    std::fs::write(&csv_path, csv).unwrap();
    UserFolder {
        _dir: dir,
        root,
        images,
        csv: csv_path,
    }
}

#[test]
fn user_folder_with_bad_samples_records_rejects_and_converts_formats() {
    let f = user_folder(&[
        ("a_good.png", None),
        ("b_broken.png", None),
        ("c_nan.png", Some(30)),
        ("d_gray16.png", None),
        ("e_rgba.png", None),
    ]);
    let summary = f.run();
    assert_eq!(
        summary.status_of("masks"),
        Some(&StageStatus::Ran),
        "{}",
        summary.table()
    );
    let dir = f.root.join("out/p/masks");
    let rejects = read(&dir.join("rejects.parquet"));
    let ids = strings(&rejects, "face_id");
    let reasons = strings(&rejects, "reason");
    assert_eq!(ids, vec!["b_broken", "c_nan"], "{reasons:?}");
    assert!(reasons[0].starts_with("unreadable image"), "{}", reasons[0]);
    assert!(
        reasons[1].contains("NaN") && reasons[1].contains("30"),
        "{}",
        reasons[1]
    );
    let ok = strings(&read(&dir.join("manifest.parquet")), "face_id");
    assert_eq!(
        ok,
        vec!["a_good_0", "d_gray16_0", "e_rgba_0"]
            .iter()
            .map(|s| s.replace("_0", ""))
            .collect::<Vec<_>>()
    );
    assert!(
        summary.stages[1].summary.contains("2 rejected"),
        "{}",
        summary.table()
    );
}

#[test]
fn a_changed_user_photo_makes_the_faces_stage_run_again() {
    let f = user_folder(&[("a.png", None), ("b.png", None)]);
    let first = f.run();
    assert!(first.failure().is_none(), "{}", first.table());
    // The manifest names the user's photos where they are: the stamp keeps them too.
    let photo = f.images.join("b.png");
    image::RgbImage::from_pixel(96, 96, image::Rgb([1, 2, 3]))
        .save(&photo)
        .unwrap();
    let runner = Runner::new(&f.root, f.root.join("out"));
    let sets = f.sets();
    let sets: Vec<&str> = sets.iter().map(String::as_str).collect();
    let dry = unmask_pipeline::RunOptions {
        dry_run: true,
        ..opts(&sets)
    };
    let plan = runner.run("p", &dry).unwrap();
    match plan.status_of("faces") {
        Some(StageStatus::WouldRun(why)) => {
            assert!(why.contains(&photo.display().to_string()), "{why}")
        }
        other => panic!("faces: {other:?}"),
    }
    // And masks, whose manifest names the same photos as its targets.
    assert!(matches!(
        plan.status_of("masks"),
        Some(StageStatus::WouldRun(_))
    ));
}

#[test]
fn a_stage_that_rejects_too_many_faces_fails_naming_the_reasons() {
    let f = user_folder(&[
        ("a_good.png", None),
        ("b_broken.png", None),
        ("c_nan.png", Some(30)),
    ]);
    let summary = f.run_with(&["masks.max_reject_fraction=0.1"]);
    match summary.status_of("masks") {
        Some(StageStatus::Failed(e)) => assert!(
            e.contains("2 of 3 masked samples rejected")
                && e.contains("masks.max_reject_fraction = 0.1")
                && e.contains("unreadable image x1")
                && e.contains("missing or NaN landmark x1"),
            "{e}"
        ),
        other => panic!("expected a failure, got {other:?}: {}", summary.table()),
    }
    // Nothing of the failed stage is left to pass as finished.
    assert!(!f.root.join("out/p/masks").exists());
    assert!(!f.root.join("out/p/masks.partial").exists());
}

#[test]
fn landmarks_file_that_does_not_match_the_images_names_the_row() {
    let f = user_folder(&[("a.png", None), ("b.png", None)]);
    let text = std::fs::read_to_string(&f.csv)
        .unwrap()
        .replace("\nb.png,", "\nmissing.png,");
    std::fs::write(&f.csv, text).unwrap();
    let summary = f.run();
    match summary.status_of("faces") {
        Some(StageStatus::Failed(e)) => {
            assert!(e.contains("row 2") && e.contains("missing.png"), "{e}")
        }
        other => panic!("expected a failure, got {other:?}"),
    }
}
