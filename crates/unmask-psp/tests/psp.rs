//! pSp: the resize into the recognition net, the encoder's W+ around the mean latent, and
//! training from a StyleGAN2 run (resume equal to an uninterrupted run; composites keep the
//! known pixels).

use burn::backend::Flex;
use burn::module::Param;
use burn::tensor::{Tensor, TensorData};
use std::path::Path;
use unmask_psp::loss::{recognition_input, resize_matrix};
use unmask_psp::training::STEP_LOG;
use unmask_psp::{EncoderConfig, Psp, PspModel, TrainControl, TrainPspConfig};
use unmask_stylegan::{GeneratorConfig, TrainStyleGanConfig};

type B = Flex;

fn values<const D: usize>(t: Tensor<B, D>) -> Vec<f32> {
    t.into_data().convert::<f32>().to_vec::<f32>().unwrap()
}

#[test]
fn the_resize_matrix_is_tensorflows_legacy_bilinear() {
    // Every output pixel is a convex mix of at most two neighbours.
    for (side, out) in [(64, 150), (256, 150), (5, 5)] {
        let m = resize_matrix(side, out);
        for row in m.chunks(side) {
            assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-6);
            assert!(row.iter().filter(|v| **v != 0.0).count() <= 2);
        }
    }
    // At equal sizes it is the identity; 2 to 4 samples at 0, 0.5, 1, 1.5 (the last clamped).
    let id = resize_matrix(5, 5);
    for d in 0..5 {
        assert_eq!(id[d * 5 + d], 1.0);
    }
    assert_eq!(
        resize_matrix(2, 4),
        vec![1.0, 0.0, 0.5, 0.5, 0.0, 1.0, 0.0, 1.0]
    );
    // A flat grey image reaches the recognition net as grey less face-api's channel means.
    let device = Default::default();
    let x = Tensor::<B, 4>::full([1, 3, 32, 32], 0.2, &device); // 0.6 in [0, 1]
    let got = values(recognition_input(x));
    let mean = unmask_detect::landmarks::LANDMARK_MEAN;
    for (c, plane) in got.chunks(150 * 150).enumerate() {
        let expected = 0.6 - mean[c] / 255.0;
        assert!(
            plane.iter().all(|v| (v - expected).abs() < 1e-5),
            "channel {c}"
        );
    }
}

fn tiny_generator() -> GeneratorConfig {
    GeneratorConfig {
        image_size: 32,
        z_dim: 8,
        w_dim: 8,
        mapping_layers: 2,
        channel_base: 128,
        channel_max: 8,
        ..Default::default()
    }
}

fn tiny_encoder() -> EncoderConfig {
    EncoderConfig {
        stage_widths: [4, 4, 8, 8],
        stage_blocks: [1, 1, 1, 1],
        ..Default::default()
    }
}

#[test]
fn the_encoder_gives_one_style_per_layer_around_the_mean_latent() {
    let device = Default::default();
    let g = tiny_generator();
    // Seeded under the process's lock, and the input from its own stream: unlocked draws from
    // the backend's generator would shift the weights of a training another test seeds.
    let generator = unmask_train::seed::seeded::<B, _>(&device, 1, || g.init::<B>(&device));
    let num_ws = generator.num_ws();
    assert_eq!(num_ws, 8);
    let mut encoder = unmask_train::seed::seeded::<B, _>(&device, 2, || {
        tiny_encoder().init::<B>(num_ws, g.w_dim, g.image_size, &device)
    });
    let pixels: Vec<f32> = (0..2 * 3 * 32 * 32)
        .map(|i| unmask_core::rng::sample_unit(0, "test-image", i) as f32)
        .collect();
    let x = Tensor::<B, 4>::from_data(TensorData::new(pixels, [2, 3, 32, 32]), &device);
    assert_eq!(encoder.forward(x.clone()).dims(), [2, num_ws, g.w_dim]);
    // Heads with zero output weights give exactly the mean latent for every layer.
    for head in &mut encoder.heads {
        head.linear.weight = Param::from_tensor(Tensor::zeros([g.w_dim, g.w_dim], &device));
        head.linear.bias = Param::from_tensor(Tensor::zeros([g.w_dim], &device));
    }
    let avg: Vec<f32> = (0..g.w_dim).map(|i| i as f32 * 0.25 - 1.0).collect();
    let mut generator = generator;
    generator.w_avg = burn::module::RunningState::new(Tensor::from_data(
        TensorData::new(avg.clone(), [g.w_dim]),
        &device,
    ));
    let psp = Psp { encoder, generator };
    let ws = values(psp.encode(x));
    for (i, w) in ws.chunks(g.w_dim).enumerate() {
        assert_eq!(w, &avg[..], "W+ vector {i}");
    }
}

#[test]
fn training_resumes_exactly_and_composites_keep_the_known_pixels() {
    let tmp = tempfile::tempdir().unwrap();
    let data = unmask_testkit::small_pairs(tmp.path(), 8, 32, 0.3);
    let mut stylegan = TrainStyleGanConfig {
        generator: tiny_generator(),
        max_steps: Some(2),
        batch_size: 2,
        max_val_samples: Some(2),
        sample_count: 2,
        ..Default::default()
    };
    stylegan.discriminator.channel_base = 128;
    stylegan.discriminator.channel_max = 8;
    let style_dir = tmp.path().join("stylegan");
    unmask_stylegan::train(&stylegan, &data, &style_dir, &TrainControl::default()).unwrap();

    let config = TrainPspConfig {
        encoder: tiny_encoder(),
        epochs: 10,
        max_steps: Some(4),
        batch_size: 2,
        lr: 1e-3,
        checkpoint_every: 2,
        sample_every: 2,
        sample_count: 2,
        max_train_samples: Some(4),
        max_val_samples: Some(2),
        ..Default::default()
    };
    let straight = tmp.path().join("straight");
    unmask_psp::train(
        &config,
        &data,
        &style_dir,
        &straight,
        &TrainControl::default(),
    )
    .unwrap();
    let resumed = tmp.path().join("resumed");
    let stop = TrainControl {
        stop_after: Some(3),
        ..Default::default()
    };
    unmask_psp::train(&config, &data, &style_dir, &resumed, &stop).unwrap();
    let outcome = unmask_psp::train(
        &config,
        &data,
        &style_dir,
        &resumed,
        &TrainControl::default(),
    )
    .unwrap();
    assert_eq!(outcome.run.resumed_from, Some(2));
    assert!(outcome.run.finished);
    assert!(straight.join("samples/step-0000004.png").is_file());
    let log =
        |dir: &Path| unmask_train::log::MetricLog::load(&dir.join(STEP_LOG), u64::MAX).unwrap();
    let (a, b) = (log(&straight), log(&resumed));
    assert_eq!(a.column("loss"), b.column("loss"));
    let losses = a.column("id").unwrap();
    assert!(
        losses
            .iter()
            .all(|v| v.is_finite() && *v >= 0.0 && *v <= 2.0),
        "{losses:?}"
    );
    let scores = outcome.last.expect("validation scores");
    assert!(
        scores.lpips.is_finite() && scores.id_loss.is_finite() && scores.l1_outside > 0.0,
        "{scores:?}"
    );

    let device = Default::default();
    let model = PspModel::<B>::load(&resumed, &device).unwrap();
    let pairs = unmask_masks::sorted_split(&data, "val", Some(2)).unwrap();
    let t = unmask_psp::data::eval_tensors::<B>(&pairs, 32, &device).unwrap();
    let out = model.unmask(t.masked.clone(), t.hole.clone());
    let (masked, hole, composite) = (values(t.masked), values(t.hole), values(out.composite));
    let plane = 32 * 32;
    for (i, (m, c)) in masked.iter().zip(&composite).enumerate() {
        let (n, p) = (i / (3 * plane), i % plane);
        if hole[n * plane + p] == 0.0 {
            assert!((m - c).abs() < 1e-6, "known pixel {i} changed: {m} vs {c}");
        }
    }
}
