#!/usr/bin/env node
// Reference outputs of face-api's SSD MobileNet v1 face detector, computed by the package's own
// JavaScript under plain node (pure-JS tfjs, CPU backend, no native addon).
//
// Usage (run from the folder where the npm packages are installed, see README.md):
//
//   node make_ssd_reference.mjs [PACKAGE_DIR] [OUT_DIR] [--rgb RGB_DIR] [--raw RAW_JSON]
//
//   PACKAGE_DIR  the @vladmandic/face-api package folder holding demo/sample{1..6}.jpg and
//                model/ssd_mobilenetv1_model.bin + ssd_mobilenetv1_model-weights_manifest.json.
//                Default: <cwd>/node_modules/@vladmandic/face-api
//   OUT_DIR      where ssd_sample{1..6}.json are written.
//                Default: the folder this script is in (tests/reference/face_api/).
//   --rgb RGB_DIR  optional: instead of decoding the JPEGs with jpeg-js, read already-decoded
//                pixels from RGB_DIR/sample{1..6}.rgb (raw interleaved RGB8, row-major, no
//                header, exactly width*height*3 bytes; width/height are taken from the JPEG).
//                Use this to make fixtures from the very pixels another decoder (e.g. the Rust
//                side's) produced, so decoder differences drop out of the comparison.
//   --raw RAW_JSON optional: also write, for sample1 only, the raw network outputs of
//                nets.ssdMobilenetv1.forwardInput(): boxes[0] (5118 x [ymin, xmin, ymax, xmax],
//                decoded, normalised to the padded 512x512 square, not clipped), scores[0]
//                (5118 sigmoid scores), and the reshaped input dimensions. Next to it,
//                RAW_JSON with .json replaced by .input.f32 receives the 1x512x512x3 float32
//                (little-endian) batch tensor from toBatchTensor(512, false), before the
//                x/127.5-1 normalisation. These are for layer-by-layer debugging and are
//                large (~0.5 MB + 3 MB): write them outside the repo (e.g. /tmp).
//
// npm packages (@vladmandic/face-api, @tensorflow/tfjs, @tensorflow/tfjs-backend-wasm, jpeg-js)
// are resolved from the CURRENT WORKING DIRECTORY (its node_modules), not from this script's
// folder, so the script can live in the Rust repo while the packages live in a scratch folder.
// The face-api code itself always comes from <cwd>/node_modules; PACKAGE_DIR only supplies the
// photos and the weights (normally the same package).
//
// What is computed, per photo:
//   jpeg-js decode (RGB, 8-bit) -> int32 tensor [h, w, 3]
//   detectAllFaces(t, new SsdMobilenetv1Options({minConfidence: 0.5, maxResults: 100}))
// SsdMobilenetv1.locateFaces hard-codes iouThreshold = 0.5 and input size 512.
// Numbers are written with JS's shortest round-trip double formatting (full precision).

import { createRequire } from 'node:module';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(path.join(process.cwd(), 'noop.js'));
const HERE = path.dirname(fileURLToPath(import.meta.url));

const INPUT_SIZE = 512; // SsdMobilenetv1.forwardInput: input.toBatchTensor(512, false)
const MIN_CONFIDENCE = 0.5;
const MAX_RESULTS = 100;
const IOU_THRESHOLD = 0.5; // SsdMobilenetv1.locateFaces: const iouThreshold = 0.5
const PHOTOS = ['sample1.jpg', 'sample2.jpg', 'sample3.jpg', 'sample4.jpg', 'sample5.jpg', 'sample6.jpg'];
const MODELS = ['ssd_mobilenetv1_model'];
const JPEG_OPTS = { useTArray: true, formatAsRGBA: false };

const sha256 = (buf) => createHash('sha256').update(buf).digest('hex');
const pkgVersion = (name) => JSON.parse(fs.readFileSync(require.resolve(`${name}/package.json`), 'utf8')).version;

function takeOption(args, name) {
  const i = args.indexOf(name);
  if (i < 0) return null;
  if (!args[i + 1]) throw new Error(`${name} needs a value`);
  const v = path.resolve(args[i + 1]);
  args.splice(i, 2);
  return v;
}

async function main() {
  const args = process.argv.slice(2);
  const rgbDir = takeOption(args, '--rgb');
  const rawJson = takeOption(args, '--raw');
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
  await faceapi.nets.ssdMobilenetv1.loadFromDisk(modelDir);

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

  const opts = new faceapi.SsdMobilenetv1Options({ minConfidence: MIN_CONFIDENCE, maxResults: MAX_RESULTS });
  const boxOf = (d) => ({ x: d.box.x, y: d.box.y, width: d.box.width, height: d.box.height });

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

    const dets = await faceapi.detectAllFaces(t, opts);
    const faces = dets.map((d) => ({ box: boxOf(d), score: d.score }));

    if (rawJson && photo === 'sample1.jpg') {
      const netInput = await faceapi.toNetInput(t);
      const { boxes, scores } = faceapi.nets.ssdMobilenetv1.forwardInput(netInput);
      const reshaped = netInput.getReshapedInputDimensions(0);
      const batch = netInput.toBatchTensor(INPUT_SIZE, false);
      const batchData = await batch.data();
      batch.dispose();
      const rawOut = {
        photo,
        width,
        height,
        input_size: INPUT_SIZE,
        decoded_rgb_sha256: sha256(Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength)),
        reshaped_input_dimensions: { width: reshaped.width, height: reshaped.height },
        input_f32_file: path.basename(rawJson).replace(/\.json$/, '') + '.input.f32',
        input_f32_shape: batch.shape,
        input_f32_sha256: sha256(Buffer.from(batchData.buffer, batchData.byteOffset, batchData.byteLength)),
        boxes_shape: boxes[0].shape,
        boxes: boxes[0].arraySync(),
        scores_shape: scores[0].shape,
        scores: Array.from(scores[0].dataSync()),
      };
      boxes.forEach((b) => b.dispose());
      scores.forEach((s) => s.dispose());
      fs.writeFileSync(rawJson, JSON.stringify(rawOut) + '\n');
      fs.writeFileSync(rawJson.replace(/\.json$/, '') + '.input.f32',
        Buffer.from(batchData.buffer, batchData.byteOffset, batchData.byteLength));
      const above = rawOut.scores.filter((s) => s > MIN_CONFIDENCE).length;
      console.log(`raw outputs of ${photo} -> ${rawJson} (reshaped ${reshaped.width}x${reshaped.height}, ${above} anchors > ${MIN_CONFIDENCE})`);
    }
    t.dispose();

    const out = {
      photo,
      width,
      height,
      input_size: INPUT_SIZE,
      min_confidence: MIN_CONFIDENCE,
      max_results: MAX_RESULTS,
      iou_threshold: IOU_THRESHOLD,
      jpeg_sha256: sha256(bytes),
      decoder,
      decoded_rgb_sha256: sha256(Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength)),
      versions,
      models_sha256: modelSha,
      faces,
    };
    fs.writeFileSync(path.join(outDir, `ssd_${photo.replace(/\.jpg$/, '.json')}`), JSON.stringify(out, null, 1) + '\n');
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
      console.log(`  face ${i}: box [${x.toFixed(1)}, ${y.toFixed(1)}, ${w.toFixed(1)}, ${h.toFixed(1)}] score ${f.score.toFixed(5)}`);
      if (!(w > 0 && h > 0)) { console.log(`  PROBLEM: face ${i} has an empty box`); problems++; }
      if (i > 0 && f.score > faces[i - 1].score) { console.log(`  PROBLEM: face ${i} out of score order`); problems++; }
    });
  }
  if (problems) { console.log(`${problems} problem(s)`); process.exitCode = 1; } else console.log('sanity checks passed');
}

main().catch((e) => { console.error(e); process.exit(1); });
