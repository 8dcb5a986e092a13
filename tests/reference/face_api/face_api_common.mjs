// Shared by make_reference.mjs (tiny detector + 68-point landmarks) and make_ssd_reference.mjs
// (SSD MobileNet v1): command-line parsing, loading face-api under node on the cpu backend, the
// `versions` and `models_sha256` records, reading/decoding the demo photos, and the summary.
//
// Common command-line arguments (see each script for its own extras):
//
//   PACKAGE_DIR  the @vladmandic/face-api package folder holding demo/sample{1..6}.jpg and
//                model/<model>.bin + <model>-weights_manifest.json.
//                Default: <cwd>/node_modules/@vladmandic/face-api
//   OUT_DIR      where the JSON files are written.
//                Default: the folder these scripts are in (tests/reference/face_api/).
//   --rgb RGB_DIR  optional: instead of decoding the JPEGs with jpeg-js, read already-decoded
//                pixels from RGB_DIR/sample{1..6}.rgb (raw interleaved RGB8, row-major, no
//                header, exactly width*height*3 bytes; width/height are taken from the JPEG).
//                Use this to make fixtures from the very pixels another decoder (e.g. the Rust
//                side's) produced, so decoder differences drop out of the comparison.
//
// npm packages (@vladmandic/face-api, @tensorflow/tfjs, @tensorflow/tfjs-backend-wasm, jpeg-js)
// are resolved from the CURRENT WORKING DIRECTORY (its node_modules), not from this module's
// folder, so the scripts can live in the Rust repo while the packages live in a scratch folder.
// The face-api code itself always comes from <cwd>/node_modules; PACKAGE_DIR only supplies the
// photos and the weights (normally the same package).
//
// Per photo: jpeg-js decode (RGB, 8-bit) -> int32 tensor [h, w, 3].
// Numbers are written with JS's shortest round-trip double formatting (full precision).

import { createRequire } from 'node:module';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(path.join(process.cwd(), 'noop.js'));
export const HERE = path.dirname(fileURLToPath(import.meta.url));

export const PHOTOS = ['sample1.jpg', 'sample2.jpg', 'sample3.jpg', 'sample4.jpg', 'sample5.jpg', 'sample6.jpg'];
export const JPEG_OPTS = { useTArray: true, formatAsRGBA: false };

export const sha256 = (buf) => createHash('sha256').update(buf).digest('hex');
const pkgVersion = (name) => JSON.parse(fs.readFileSync(require.resolve(`${name}/package.json`), 'utf8')).version;

export const boxOf = (d) => ({ x: d.box.x, y: d.box.y, width: d.box.width, height: d.box.height });

/// Removes `name VALUE` from `args` and returns path.resolve(VALUE), or null when absent.
function takeOption(args, name, what) {
  const i = args.indexOf(name);
  if (i < 0) return null;
  if (!args[i + 1]) throw new Error(`${name} needs ${what}`);
  const v = path.resolve(args[i + 1]);
  args.splice(i, 2);
  return v;
}

/// Parses `[PACKAGE_DIR] [OUT_DIR]` plus the path-valued `options` ({'--rgb': 'a folder', ...}),
/// creates OUT_DIR and returns { pkgDir, outDir, options: {'--rgb': path or null, ...} }.
export function parseArgs(options) {
  const args = process.argv.slice(2);
  const values = {};
  for (const [name, what] of Object.entries(options)) values[name] = takeOption(args, name, what);
  const installedFaceApi = path.dirname(require.resolve('@vladmandic/face-api/package.json'));
  const pkgDir = path.resolve(args[0] || installedFaceApi);
  const outDir = path.resolve(args[1] || HERE);
  fs.mkdirSync(outDir, { recursive: true });
  return { pkgDir, outDir, options: values };
}

/// Loads face-api on the cpu backend, loads `nets` (keys of faceapi.nets) from PACKAGE_DIR/model
/// and returns { faceapi, tf, jpeg, modelSha, versions } (the last two as written to the JSON).
export async function loadFaceApi(pkgDir, nets, models) {
  // The node-wasm dist needs only @tensorflow/tfjs + @tensorflow/tfjs-backend-wasm (both pure
  // JS/wasm); the default dist (face-api.node.js) would need the native tfjs-node addon.
  const faceapi = require('@vladmandic/face-api/dist/face-api.node-wasm.js');
  const jpeg = require('jpeg-js');
  const tf = faceapi.tf;
  await tf.setBackend('cpu'); // never let tfjs auto-pick (wasm has the higher priority)
  await tf.ready();
  if (tf.getBackend() !== 'cpu') throw new Error(`backend is ${tf.getBackend()}, expected cpu`);

  const modelDir = path.join(pkgDir, 'model');
  for (const net of nets) await faceapi.nets[net].loadFromDisk(modelDir);

  const modelSha = {};
  for (const m of models) {
    modelSha[`${m}.bin`] = sha256(fs.readFileSync(path.join(modelDir, `${m}.bin`)));
    modelSha[`${m}-weights_manifest.json`] = sha256(fs.readFileSync(path.join(modelDir, `${m}-weights_manifest.json`)));
  }
  const versions = {
    'face-api': pkgVersion('@vladmandic/face-api'),
    'face-api-dist': 'dist/face-api.node-wasm.js',
    'face-api-reported': faceapi.version,
    'package-dir-version': JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8')).version,
    tfjs: pkgVersion('@tensorflow/tfjs'),
    'tfjs-core': tf.version_core,
    'tfjs-backend-cpu': pkgVersion('@tensorflow/tfjs-backend-cpu'),
    'tfjs-backend': tf.getBackend(),
    'jpeg-js': pkgVersion('jpeg-js'),
    node: process.version,
  };
  return { faceapi, tf, jpeg, modelSha, versions };
}

/// Reads PACKAGE_DIR/demo/<photo>, decodes it with jpeg-js (or takes RGB_DIR/<photo>.rgb) and
/// returns { width, height, jpegSha256, decoder, rgbSha256, tensor } with tensor the int32
/// [h, w, 3] input (the caller disposes of it).
export function readPhoto({ tf, jpeg, versions }, pkgDir, photo, rgbDir) {
  const bytes = fs.readFileSync(path.join(pkgDir, 'demo', photo));
  const img = jpeg.decode(bytes, JPEG_OPTS);
  const { width, height } = img;
  let decoder = { name: 'jpeg-js', version: versions['jpeg-js'], options: JPEG_OPTS };
  if (rgbDir) {
    const rgbFile = path.join(rgbDir, photo.replace(/\.jpg$/, '.rgb'));
    const raw = fs.readFileSync(rgbFile);
    if (raw.length !== width * height * 3) throw new Error(`${rgbFile}: ${raw.length} bytes, expected ${width}x${height}x3`);
    img.data = new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength);
    decoder = { name: 'raw-rgb', file: path.basename(rgbFile) };
  }
  if (img.data.length !== width * height * 3) throw new Error(`${photo}: unexpected decoded size`);
  const tensor = tf.tensor3d(Int32Array.from(img.data), [height, width, 3], 'int32');
  return {
    width,
    height,
    jpegSha256: sha256(bytes),
    decoder,
    rgbSha256: sha256(Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength)),
    tensor,
  };
}

export function writeJson(file, obj) {
  fs.writeFileSync(file, JSON.stringify(obj, null, 1) + '\n');
}

/// Prints one line per photo and runs `checkFace(face, i, faces)` (which prints its own lines and
/// returns its number of problems) on each face; sets exit code 1 on any problem.
export function reportSummary(summary, checkFace) {
  let problems = 0;
  for (const { photo, width, height, faces } of summary) {
    const scores = faces.map((f) => f.score.toFixed(4)).join(' ');
    console.log(`${photo} ${width}x${height}: ${faces.length} face(s); scores ${scores}`);
    if (faces.length === 0) { console.log('  PROBLEM: no face'); problems++; }
    faces.forEach((f, i) => { problems += checkFace(f, i, faces); });
  }
  if (problems) { console.log(`${problems} problem(s)`); process.exitCode = 1; } else console.log('sanity checks passed');
}

export function run(main) {
  main().catch((e) => { console.error(e); process.exit(1); });
}
