//! Conversion of the small fixtures in tests/fixtures (see make_fixtures.py there).

use std::path::Path;

use safetensors::SafeTensors;
use unmask_weights::{hwio_to_oihw, pickle, tfjs, to_tensors, Asset, Format};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(Path::new(FIXTURES).join(name)).expect("fixture")
}

fn f32s(b: &[u8]) -> Vec<f32> {
    b.chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

#[test]
fn pickle_names_shapes_values() {
    let buf = fixture("tiny.pkl");
    let arrays = pickle::read_arrays(&buf).unwrap();
    let got: Vec<(&str, &[usize])> = arrays
        .iter()
        .map(|a| (a.name.as_str(), a.shape.as_slice()))
        .collect();
    assert_eq!(
        got,
        vec![
            ("Lin_0.Conv_0.kernel", &[1, 1, 3, 1][..]),
            ("Net_0.Conv_0.bias", &[4][..]),
            ("Net_0.Conv_0.kernel", &[2, 3, 2, 4][..]),
        ]
    );
    assert_eq!(f32s(arrays[1].data), vec![100.0, 101.0, 102.0, 103.0]);
    let k = f32s(arrays[2].data);
    assert_eq!(k, (0..48).map(|i| i as f32).collect::<Vec<_>>());
}

#[test]
fn lpips_conversion_permutes_kernels_to_oihw() {
    let spec = *Asset::AlexNetLpips.spec();
    assert_eq!(spec.format, Format::LpipsPickle);
    let raw = vec![fixture("tiny.pkl")];
    let tensors = to_tensors(&spec, &raw, &[Path::new("tiny.pkl")]).unwrap();
    let k = tensors
        .iter()
        .find(|t| t.name == "Net_0.Conv_0.kernel")
        .unwrap();
    assert_eq!(k.shape, vec![4, 2, 2, 3]); // O, I, H, W
    let v = f32s(&k.data);
    // Input value at HWIO (h, w, i, o) is its C-order index in [2, 3, 2, 4].
    for o in 0..4 {
        for i in 0..2 {
            for h in 0..2 {
                for w in 0..3 {
                    let want = (((h * 3 + w) * 2 + i) * 4 + o) as f32;
                    assert_eq!(
                        v[((o * 2 + i) * 2 + h) * 3 + w],
                        want,
                        "o{o} i{i} h{h} w{w}"
                    );
                }
            }
        }
    }
    let lin = tensors
        .iter()
        .find(|t| t.name == "Lin_0.Conv_0.kernel")
        .unwrap();
    assert_eq!(lin.shape, vec![1, 3, 1, 1]);
    assert_eq!(f32s(&lin.data), vec![200.0, 201.0, 202.0]);
    let bias = tensors
        .iter()
        .find(|t| t.name == "Net_0.Conv_0.bias")
        .unwrap();
    assert_eq!(bias.shape, vec![4]);
}

#[test]
fn hwio_to_oihw_single_element_moves() {
    // [1, 1, 2, 3] HWIO: element (i, o) at i*3+o goes to o*2+i.
    let data: Vec<u8> = (0..6).flat_map(|x| (x as f32).to_le_bytes()).collect();
    let out = f32s(&hwio_to_oihw([1, 1, 2, 3], &data));
    assert_eq!(out, vec![0.0, 3.0, 1.0, 4.0, 2.0, 5.0]);
}

#[test]
fn pickle_errors_are_reported_not_panics() {
    let buf = fixture("tiny.pkl");
    for cut in [0, 1, 2, 10, 60, 120, 300, buf.len() - 1] {
        assert!(pickle::read_arrays(&buf[..cut]).is_err(), "cut at {cut}");
    }
    // A pickle that calls something else is refused.
    let evil = b"\x80\x03cos\nsystem\nX\x02\x00\x00\x00lsq\x00\x85R.";
    let e = pickle::read_arrays(evil).unwrap_err();
    assert!(e.contains("refusing to call os.system"), "{e}");
}

#[test]
fn tfjs_dequantizes_and_reads_float32() {
    let t = tfjs::read_tensors(
        &fixture("tiny-weights_manifest.json"),
        "tiny.bin",
        &fixture("tiny.bin"),
    )
    .unwrap();
    assert_eq!(t.len(), 2);
    assert_eq!(t[0].name, "a/filters");
    assert_eq!(t[0].shape, vec![2, 2]);
    assert_eq!(t[0].values, vec![-1.0, -0.5, 0.0, 126.5]);
    assert_eq!(t[1].name, "a/bias");
    assert_eq!(t[1].values, vec![1.5, -2.25, 3.0]);
    // Wrong sizes are errors, not panics.
    let bin = fixture("tiny.bin");
    assert!(tfjs::read_tensors(
        &fixture("tiny-weights_manifest.json"),
        "tiny.bin",
        &bin[..10]
    )
    .is_err());
    let e =
        tfjs::read_tensors(&fixture("tiny-weights_manifest.json"), "other.bin", &bin).unwrap_err();
    assert!(e.contains("tiny.bin"), "{e}");
}

#[test]
fn tfjs_reads_past_integer_constants() {
    let manifest = br#"[{"paths": ["x.bin"], "weights": [
        {"name": "count", "shape": [], "dtype": "int32",
         "quantization": {"dtype": "uint8", "scale": 1, "min": 5118}},
        {"name": "f", "shape": [2], "dtype": "float32"}]}]"#;
    let mut bin = vec![0u8];
    bin.extend(1.5f32.to_le_bytes());
    bin.extend((-2.0f32).to_le_bytes());
    let t = tfjs::read_tensors(manifest, "x.bin", &bin).unwrap();
    assert_eq!(t.len(), 1);
    assert_eq!(
        (t[0].name.as_str(), t[0].values.clone()),
        ("f", vec![1.5, -2.0])
    );
    let bad = String::from_utf8(manifest.to_vec())
        .unwrap()
        .replace("int32", "bool");
    let e = tfjs::read_tensors(bad.as_bytes(), "x.bin", &bin).unwrap_err();
    assert!(e.contains("count") && e.contains("bool"), "{e}");
}

#[test]
fn tfjs_safetensors_roundtrip() {
    let spec = *Asset::TinyFaceDetector.spec();
    // The spec expects the .bin to be named tiny_face_detector_model.bin: rename in the manifest.
    let manifest = String::from_utf8(fixture("tiny-weights_manifest.json"))
        .unwrap()
        .replace("tiny.bin", "tiny_face_detector_model.bin");
    let raw = vec![fixture("tiny.bin"), manifest.into_bytes()];
    let tensors = to_tensors(&spec, &raw, &[Path::new("a"), Path::new("b")]).unwrap();
    let bytes = unmask_weights::to_safetensors(&spec, &tensors, Path::new("out")).unwrap();
    let st = SafeTensors::deserialize(&bytes).unwrap();
    let v = st.tensor("a/filters").unwrap();
    assert_eq!(v.shape(), &[2, 2]);
    assert_eq!(f32s(v.data()), vec![-1.0, -0.5, 0.0, 126.5]);
}
