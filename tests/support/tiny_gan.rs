//! A GAN trained for a few steps at 32 px, for tests that need a trained one. Shared by the
//! workspace's end-to-end tests and the CLI's (which include this file by path).

use std::path::Path;

/// A width-4 GAN trained for `steps` steps on the pairs of `data`, into `out` (laid out as a
/// pipeline's `train-inpaint` folder).
pub fn tiny_gan(data: &Path, out: &Path, steps: u64) {
    train_tiny(data, out, steps, false);
}

/// [`tiny_gan`] with the landmark guide (`generator.landmark_guide`).
pub fn tiny_guided_gan(data: &Path, out: &Path, steps: u64) {
    train_tiny(data, out, steps, true);
}

fn train_tiny(data: &Path, out: &Path, steps: u64, landmark_guide: bool) {
    let mut gan = unmask_inpaint::TrainInpaintConfig {
        generator: unmask_inpaint::GeneratorConfig {
            width: 4,
            image_size: 32,
            landmark_guide,
            ..Default::default()
        },
        max_steps: Some(steps),
        batch_size: 2,
        max_val_samples: Some(2),
        sample_count: 1,
        ..Default::default()
    };
    gan.discriminator.layers = 2;
    gan.discriminator.width = 4;
    gan.losses.perceptual = 0.0;
    let inputs = unmask_inpaint::TrainInputs {
        data,
        segmenter: None,
    };
    unmask_inpaint::train(&gan, &inputs, out, &Default::default()).unwrap();
}
