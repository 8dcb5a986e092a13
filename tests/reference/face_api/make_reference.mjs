#!/usr/bin/env node
// Reference outputs of face-api's TinyFaceDetector + 68-point landmark nets, computed by the
// package's own JavaScript under plain node (pure-JS tfjs, CPU backend, no native addon).
//
// Usage (run from the folder where the npm packages are installed, see README.md):
//
//   node make_reference.mjs [PACKAGE_DIR] [OUT_DIR] [--rgb RGB_DIR]
//
//   PACKAGE_DIR  the @vladmandic/face-api package folder holding demo/sample{1..6}.jpg and
//                model/*.bin + *-weights_manifest.json.
//                Default: <cwd>/node_modules/@vladmandic/face-api
//   OUT_DIR      where sample{1..6}.json are written.
//                Default: the folder this script is in (tests/reference/face_api/).
//   --rgb RGB_DIR  optional: instead of decoding the JPEGs with jpeg-js, read already-decoded
//                pixels from RGB_DIR/sample{1..6}.rgb (raw interleaved RGB8, row-major, no
//                header, exactly width*height*3 bytes; width/height are taken from the JPEG).
//                Use this to make fixtures from the very pixels another decoder (e.g. the Rust
//                side's) produced, so decoder differences drop out of the comparison.
//
// npm packages (@vladmandic/face-api, @tensorflow/tfjs, @tensorflow/tfjs-backend-wasm, jpeg-js)
// are resolved from the CURRENT WORKING DIRECTORY (its node_modules), not from this script's
// folder, so the script can live in the Rust repo while the packages live in a scratch folder.
// The face-api code itself always comes from <cwd>/node_modules; PACKAGE_DIR only supplies the
// photos and the weights (normally the same package).
//
// What is computed, per photo:
//   jpeg-js decode (RGB, 8-bit) -> int32 tensor [h, w, 3]
//   detectAllFaces(t, new TinyFaceDetectorOptions({inputSize: 416, scoreThreshold: 0.5}))
//     .withFaceLandmarks()       -> FaceLandmark68Net     (face_landmark_68_model), "landmarks68"
//     .withFaceLandmarks(true)   -> FaceLandmark68TinyNet (face_landmark_68_tiny_model), "landmarks68_tiny"
// Numbers are written with JS's shortest round-trip double formatting (full precision).

import { createRequire } from 'node:module';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(path.join(process.cwd(), 'noop.js'));
const HERE = path.dirname(fileURLToPath(import.meta.url));

const INPUT_SIZE = 416;
const SCORE_THRESHOLD = 0.5;
const PHOTOS = ['sample1.jpg', 'sample2.jpg', 'sample3.jpg', 'sample4.jpg', 'sample5.jpg', 'sample6.jpg'];
const MODELS = ['tiny_face_detector_model', 'face_landmark_68_model', 'face_landmark_68_tiny_model'];
const JPEG_OPTS = { useTArray: true, formatAsRGBA: false };

const sha256 = (buf) => createHash('sha256').update(buf).digest('hex');
const pkgVersion = (name) => JSON.parse(fs.readFileSync(require.resolve(`${name}/package.json`), 'utf8')).version;

async function main() {
  const args = process.argv.slice(2);
  let rgbDir = null;
  const ri = args.indexOf('--rgb');
  if (ri >= 0) {
    if (!args[ri + 1]) throw new Error('--rgb needs a folder');
    rgbDir = path.resolve(args[ri + 1]);
    args.splice(ri, 2);
  }
  const installedFaceApi = path.dirname(require.resolve('@vladmandic/face-api/package.json'));
  const pkgDir = path.resolve(args[0] || installedFaceApi);
  const outDir = path.resolve(args[1] || HERE);
  fs.mkdirSync(outDir, { recursive: true });

  // The node-wasm dist needs only @tensorflow/tfjs + @tensorflow/tfjs-backend-wasm (both pure
  // JS/wasm); the default dist (face-api.node.js) would need the native tfjs-node addon.
  const faceapi = require('@vladmandic/face-api/dist/face-api.node-wasm.js');
  const jpeg = require('jpeg-js');
  const tf = faceapi.tf;
  await tf.setBackend('cpu'); // never let tfjs auto-pick (wasm has the higher priority)
  await tf.ready();
  if (tf.getBackend() !== 'cpu') throw new Error(`backend is ${tf.getBackend()}, expected cpu`);

  const modelDir = path.join(pkgDir, 'model');
  await faceapi.nets.tinyFaceDetector.loadFromDisk(modelDir);
  await faceapi.nets.faceLandmark68Net.loadFromDisk(modelDir);
  await faceapi.nets.faceLandmark68TinyNet.loadFromDisk(modelDir);

  const modelSha = {};
  for (const m of MODELS) {
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

  const opts = new faceapi.TinyFaceDetectorOptions({ inputSize: INPUT_SIZE, scoreThreshold: SCORE_THRESHOLD });
  const pts = (lm) => lm.positions.map((p) => [p.x, p.y]);
  const boxOf = (d) => ({ x: d.box.x, y: d.box.y, width: d.box.width, height: d.box.height });
  const sameBox = (a, b) => a.x === b.x && a.y === b.y && a.width === b.width && a.height === b.height;

  const summary = [];
  for (const photo of PHOTOS) {
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
    const t = tf.tensor3d(Int32Array.from(img.data), [height, width, 3], 'int32');

    const full = await faceapi.detectAllFaces(t, opts).withFaceLandmarks();
    const tiny = await faceapi.detectAllFaces(t, opts).withFaceLandmarks(true);
    t.dispose();

    if (full.length !== tiny.length) throw new Error(`${photo}: ${full.length} faces (full) vs ${tiny.length} (tiny)`);
    const faces = full.map((r, i) => {
      const box = boxOf(r.detection);
      const tb = boxOf(tiny[i].detection);
      if (!sameBox(box, tb) || r.detection.score !== tiny[i].detection.score) {
        throw new Error(`${photo}: face ${i} detection differs between the two runs`);
      }
      return {
        box,
        score: r.detection.score,
        landmarks68: pts(r.landmarks),
        landmarks68_tiny: pts(tiny[i].landmarks),
      };
    });

    const out = {
      photo,
      width,
      height,
      input_size: INPUT_SIZE,
      score_threshold: SCORE_THRESHOLD,
      jpeg_sha256: sha256(bytes),
      decoder,
      decoded_rgb_sha256: sha256(Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength)),
      versions,
      models_sha256: modelSha,
      faces,
    };
    fs.writeFileSync(path.join(outDir, photo.replace(/\.jpg$/, '.json')), JSON.stringify(out, null, 1) + '\n');
    summary.push({ photo, width, height, faces });
  }

  // Sanity checks + summary.
  let problems = 0;
  for (const { photo, width, height, faces } of summary) {
    const scores = faces.map((f) => f.score.toFixed(4)).join(' ');
    console.log(`${photo} ${width}x${height}: ${faces.length} face(s); scores ${scores}`);
    if (faces.length === 0) { console.log('  PROBLEM: no face'); problems++; }
    faces.forEach((f, i) => {
      const { x, y, width: w, height: h } = f.box;
      const mx = 0.25 * w; const my = 0.25 * h; // "near" the box: within a quarter of its size
      for (const key of ['landmarks68', 'landmarks68_tiny']) {
        const lm = f[key];
        if (lm.length !== 68) { console.log(`  PROBLEM: face ${i} ${key} has ${lm.length} points`); problems++; }
        const outside = lm.filter(([px, py]) => px < x - mx || px > x + w + mx || py < y - my || py > y + h + my).length;
        const inside = lm.filter(([px, py]) => px >= x && px <= x + w && py >= y && py <= y + h).length;
        if (outside > 0) { console.log(`  PROBLEM: face ${i} ${key}: ${outside} points far outside the box`); problems++; }
        const eyeL = mean(lm.slice(36, 42)); const eyeR = mean(lm.slice(42, 48));
        const iod = Math.hypot(eyeL[0] - eyeR[0], eyeL[1] - eyeR[1]);
        if (key === 'landmarks68') {
          const tinyLm = f.landmarks68_tiny;
          const err = lm.reduce((s, p, k) => s + Math.hypot(p[0] - tinyLm[k][0], p[1] - tinyLm[k][1]), 0) / 68;
          console.log(`  face ${i}: box [${x.toFixed(1)}, ${y.toFixed(1)}, ${w.toFixed(1)}, ${h.toFixed(1)}] score ${f.score.toFixed(5)} ` +
            `| full: ${inside}/68 in box, iod ${iod.toFixed(1)}px | tiny vs full mean dist ${err.toFixed(2)}px (${(100 * err / iod).toFixed(1)}% iod)`);
        }
      }
    });
  }
  if (problems) { console.log(`${problems} problem(s)`); process.exitCode = 1; } else console.log('sanity checks passed');
}

function mean(points) {
  const s = points.reduce((a, p) => [a[0] + p[0], a[1] + p[1]], [0, 0]);
  return [s[0] / points.length, s[1] / points.length];
}

main().catch((e) => { console.error(e); process.exit(1); });
