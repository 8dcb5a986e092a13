//! Example images an evaluation stage writes beside its scores, so that reports show what a
//! model did without running it: `examples/examples.json` (the ids, in order, and the
//! columns) and one PNG per id and column, `examples/COLUMN/ID.png`.

use anyhow::{Context, Result};
use image::DynamicImage;
use serde::{Deserialize, Serialize};
use std::path::Path;

pub const EXAMPLES_DIR: &str = "examples";
const LISTING: &str = "examples.json";

/// The same pairs seen as several columns (e.g. masked input, filled, target).
#[derive(Clone, Debug, Default)]
pub struct ExampleSet {
    pub ids: Vec<String>,
    /// `(column, one image per id)`.
    pub columns: Vec<(String, Vec<DynamicImage>)>,
}

#[derive(Serialize, Deserialize)]
struct Listing {
    ids: Vec<String>,
    columns: Vec<String>,
}

impl ExampleSet {
    /// The images of `column`, if there is one.
    pub fn column(&self, name: &str) -> Option<&[DynamicImage]> {
        self.columns
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, imgs)| imgs.as_slice())
    }

    /// Writes the set into `stage_dir/examples/`, the listing last so a reader never sees a
    /// listing whose images are missing.
    pub fn write(&self, stage_dir: &Path) -> Result<()> {
        let dir = stage_dir.join(EXAMPLES_DIR);
        for (name, imgs) in &self.columns {
            anyhow::ensure!(
                imgs.len() == self.ids.len(),
                "example column `{name}` has {} images for {} ids",
                imgs.len(),
                self.ids.len()
            );
            let column_dir = dir.join(name);
            std::fs::create_dir_all(&column_dir)
                .with_context(|| format!("cannot create {}", column_dir.display()))?;
            for (id, img) in self.ids.iter().zip(imgs) {
                let path = column_dir.join(format!("{id}.png"));
                match img {
                    DynamicImage::ImageLuma8(g) => crate::atomic::save_png(g, &path)?,
                    other => crate::atomic::save_png(&other.to_rgb8(), &path)?,
                }
            }
        }
        let listing = Listing {
            ids: self.ids.clone(),
            columns: self.columns.iter().map(|(n, _)| n.clone()).collect(),
        };
        crate::atomic::write_bytes(&dir.join(LISTING), &serde_json::to_vec_pretty(&listing)?)
    }

    /// The set a stage wrote into `stage_dir`, or `None` when it wrote none.
    pub fn read(stage_dir: &Path) -> Result<Option<Self>> {
        let dir = stage_dir.join(EXAMPLES_DIR);
        let file = dir.join(LISTING);
        if !file.is_file() {
            return Ok(None);
        }
        let text =
            std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
        let listing: Listing = serde_json::from_slice(&text)
            .with_context(|| format!("{} is not a valid examples listing", file.display()))?;
        let mut columns = Vec::new();
        for name in listing.columns {
            let mut imgs = Vec::new();
            for id in &listing.ids {
                let path = dir.join(&name).join(format!("{id}.png"));
                imgs.push(
                    image::open(&path)
                        .with_context(|| format!("cannot read example image {}", path.display()))?,
                );
            }
            columns.push((name, imgs));
        }
        Ok(Some(Self {
            ids: listing.ids,
            columns,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_written_set_reads_back_pixel_for_pixel() {
        let tmp = tempfile::tempdir().unwrap();
        assert!(ExampleSet::read(tmp.path()).unwrap().is_none());
        let rgb =
            image::RgbImage::from_fn(5, 4, |x, y| image::Rgb([x as u8 * 40, y as u8 * 60, 7]));
        let gray = image::GrayImage::from_fn(5, 4, |x, _| image::Luma([x as u8 * 50]));
        let set = ExampleSet {
            ids: vec!["a".into(), "b".into()],
            columns: vec![
                (
                    "filled".into(),
                    vec![rgb.clone().into(), rgb.clone().into()],
                ),
                (
                    "mask".into(),
                    vec![gray.clone().into(), gray.clone().into()],
                ),
            ],
        };
        set.write(tmp.path()).unwrap();
        let back = ExampleSet::read(tmp.path()).unwrap().unwrap();
        assert_eq!(back.ids, set.ids);
        assert_eq!(back.column("filled").unwrap()[1].to_rgb8(), rgb);
        assert_eq!(back.column("mask").unwrap()[0].to_luma8(), gray);
        assert!(back.column("target").is_none());

        let short = ExampleSet {
            ids: vec!["a".into()],
            columns: vec![("filled".into(), vec![])],
        };
        let err = short.write(tmp.path()).unwrap_err().to_string();
        assert!(err.contains("`filled`"), "{err}");
    }
}
