#!/usr/bin/env node
// Reference outputs of face-api's TinyFaceDetector + 68-point landmark nets, computed by the
// package's own JavaScript under plain node (pure-JS tfjs, CPU backend, no native addon).
//
// Usage (run from the folder where the npm packages are installed, see README.md):
//
//   node make_reference.mjs [PACKAGE_DIR] [OUT_DIR] [--rgb RGB_DIR]
//
//   OUT_DIR receives sample{1..6}.json; PACKAGE_DIR must hold the three models below. The
//   arguments, the npm packages (resolved from the CURRENT WORKING DIRECTORY's node_modules) and
//   the decoding are described in face_api_common.mjs, which this script shares with
//   make_ssd_reference.mjs.
//
// What is computed, per photo:
//   jpeg-js decode (RGB, 8-bit) -> int32 tensor [h, w, 3]
//   detectAllFaces(t, new TinyFaceDetectorOptions({inputSize: 416, scoreThreshold: 0.5}))
//     .withFaceLandmarks()       -> FaceLandmark68Net     (face_landmark_68_model), "landmarks68"
//     .withFaceLandmarks(true)   -> FaceLandmark68TinyNet (face_landmark_68_tiny_model), "landmarks68_tiny"
// Numbers are written with JS's shortest round-trip double formatting (full precision).

import path from 'node:path';
import { PHOTOS, boxOf, loadFaceApi, parseArgs, readPhoto, reportSummary, run, writeJson } from './face_api_common.mjs';

const INPUT_SIZE = 416;
const SCORE_THRESHOLD = 0.5;
const NETS = ['tinyFaceDetector', 'faceLandmark68Net', 'faceLandmark68TinyNet'];
const MODELS = ['tiny_face_detector_model', 'face_landmark_68_model', 'face_landmark_68_tiny_model'];

async function main() {
  const { pkgDir, outDir, options } = parseArgs({ '--rgb': 'a folder' });
  const rgbDir = options['--rgb'];
  const ctx = await loadFaceApi(pkgDir, NETS, MODELS);
  const { faceapi, versions, modelSha } = ctx;

  const opts = new faceapi.TinyFaceDetectorOptions({ inputSize: INPUT_SIZE, scoreThreshold: SCORE_THRESHOLD });
  const pts = (lm) => lm.positions.map((p) => [p.x, p.y]);
  const sameBox = (a, b) => a.x === b.x && a.y === b.y && a.width === b.width && a.height === b.height;

  const summary = [];
  for (const photo of PHOTOS) {
    const { width, height, jpegSha256, decoder, rgbSha256, tensor: t } = readPhoto(ctx, pkgDir, photo, rgbDir);

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
      jpeg_sha256: jpegSha256,
      decoder,
      decoded_rgb_sha256: rgbSha256,
      versions,
      models_sha256: modelSha,
      faces,
    };
    writeJson(path.join(outDir, photo.replace(/\.jpg$/, '.json')), out);
    summary.push({ photo, width, height, faces });
  }

  // Sanity checks + summary.
  reportSummary(summary, (f, i) => {
    let problems = 0;
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
    return problems;
  });
}

function mean(points) {
  const s = points.reduce((a, p) => [a[0] + p[0], a[1] + p[1]], [0, 0]);
  return [s[0] / points.length, s[1] / points.length];
}

run(main);
