#!/usr/bin/env node
// Reference descriptors of face-api's FaceRecognitionNet (128-d), computed by the package's own
// JavaScript under plain node (pure-JS tfjs, CPU backend), as make_reference.mjs does for the
// detector and landmarks.
//
// Usage (from the folder where the npm packages are installed, see README.md):
//
//   node make_descriptor_reference.mjs [PACKAGE_DIR] [OUT_DIR] [--rgb RGB_DIR]
//
// What is computed, per photo:
//   detectAllFaces(t, new TinyFaceDetectorOptions({inputSize: 416, scoreThreshold: 0.5}))
//     .withFaceLandmarks().withFaceDescriptors()
// and, per face: the box, the 68 landmarks, the rectangle the descriptor was computed on
// (landmarks.align(null, {useDlibAlignment: true}), what withFaceDescriptors cuts) and the
// descriptor. Written to descriptor_sampleN.json.

import path from 'node:path';
import { PHOTOS, boxOf, loadFaceApi, parseArgs, readPhoto, reportSummary, run, writeJson } from './face_api_common.mjs';

const INPUT_SIZE = 416;
const SCORE_THRESHOLD = 0.5;
const NETS = ['tinyFaceDetector', 'faceLandmark68Net', 'faceRecognitionNet'];
const MODELS = ['tiny_face_detector_model', 'face_landmark_68_model', 'face_recognition_model'];

async function main() {
  const { pkgDir, outDir, options } = parseArgs({ '--rgb': 'a folder' });
  const ctx = await loadFaceApi(pkgDir, NETS, MODELS);
  const { faceapi, versions, modelSha } = ctx;
  const opts = new faceapi.TinyFaceDetectorOptions({ inputSize: INPUT_SIZE, scoreThreshold: SCORE_THRESHOLD });

  const summary = [];
  for (const photo of PHOTOS) {
    const { width, height, jpegSha256, decoder, rgbSha256, tensor: t } = readPhoto(ctx, pkgDir, photo, options['--rgb']);
    const results = await faceapi.detectAllFaces(t, opts).withFaceLandmarks().withFaceDescriptors();
    t.dispose();
    const faces = results.map((r) => {
      const rect = r.landmarks.align(null, { useDlibAlignment: true });
      return {
        box: boxOf(r.detection),
        score: r.detection.score,
        landmarks68: r.landmarks.positions.map((p) => [p.x, p.y]),
        aligned_rect: { x: rect.x, y: rect.y, width: rect.width, height: rect.height },
        descriptor: Array.from(r.descriptor),
      };
    });
    writeJson(path.join(outDir, `descriptor_${photo.replace(/\.jpg$/, '.json')}`), {
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
    });
    summary.push({ photo, width, height, faces });
  }

  // Sanity: 128 finite values per face, and different faces of a photo far apart.
  reportSummary(summary, (f, i, faces) => {
    let problems = 0;
    if (f.descriptor.length !== 128 || !f.descriptor.every(Number.isFinite)) {
      console.log(`  PROBLEM: face ${i} descriptor is not 128 finite values`); problems++;
    }
    const nearest = Math.min(...faces.filter((g) => g !== f).map((g) =>
      Math.hypot(...f.descriptor.map((v, k) => v - g.descriptor[k]))));
    console.log(`  face ${i}: rect ${JSON.stringify(f.aligned_rect)} | nearest other face ${Number.isFinite(nearest) ? nearest.toFixed(3) : '-'}`);
    return problems;
  });
}

run(main);
