use criterion::{criterion_group, criterion_main, Criterion};
use unmask_masks::{
    render_mask, MaskStyle, MaskType, Pattern, PatternStyle, Rgb, Template, TemplateVariant,
};

#[path = "../tests/common/mod.rs"]
mod common;

fn bench(c: &mut Criterion) {
    let lm = common::centred_face(256, 150.0);
    let face = common::face_image(256, 256, &lm);
    // Template drawing is a one-off cost; keep it out of the measurement.
    for t in MaskType::ALL {
        Template::get(t, TemplateVariant::Front);
    }
    let plain = MaskStyle::plain(MaskType::Surgical);
    c.bench_function("render surgical 256x256", |b| {
        b.iter(|| render_mask(std::hint::black_box(&face), &lm, &plain).unwrap())
    });
    let textured = MaskStyle {
        pattern: Some(PatternStyle {
            pattern: Pattern::Floral,
            weight: 0.5,
            colors: [Rgb([30, 40, 90]), Rgb([240, 200, 210])],
            scale: 24.0,
            angle_degrees: 20.0,
        }),
        ..MaskStyle::plain(MaskType::Cloth)
    };
    c.bench_function("render cloth+floral 256x256", |b| {
        b.iter(|| render_mask(std::hint::black_box(&face), &lm, &textured).unwrap())
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
