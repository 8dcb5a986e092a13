#!/usr/bin/env node
// Reference outputs of face-api's SSD MobileNet v1 face detector, computed by the package's own
// JavaScript under plain node (pure-JS tfjs, CPU backend, no native addon).
//
// Usage (run from the folder where the npm packages are installed, see README.md):
//
//   node make_ssd_reference.mjs [PACKAGE_DIR] [OUT_DIR] [--rgb RGB_DIR] [--raw RAW_JSON]
//
//   OUT_DIR receives ssd_sample{1..6}.json; PACKAGE_DIR must hold model/ssd_mobilenetv1_model.bin
//   + ssd_mobilenetv1_model-weights_manifest.json. PACKAGE_DIR, OUT_DIR, --rgb, the npm packages
//   (resolved from the CURRENT WORKING DIRECTORY's node_modules) and the decoding are described
//   in face_api_common.mjs, which this script shares with make_reference.mjs. In addition:
//   --raw RAW_JSON optional: also write, for sample1 only, the raw network outputs of
//                nets.ssdMobilenetv1.forwardInput(): boxes[0] (5118 x [ymin, xmin, ymax, xmax],
//                decoded, normalised to the padded 512x512 square, not clipped), scores[0]
//                (5118 sigmoid scores), and the reshaped input dimensions. Next to it,
//                RAW_JSON with .json replaced by .input.f32 receives the 1x512x512x3 float32
//                (little-endian) batch tensor from toBatchTensor(512, false), before the
//                x/127.5-1 normalisation. These are for layer-by-layer debugging and are
//                large (~0.5 MB + 3 MB): write them outside the repo (e.g. /tmp).
//
// What is computed, per photo:
//   jpeg-js decode (RGB, 8-bit) -> int32 tensor [h, w, 3]
//   detectAllFaces(t, new SsdMobilenetv1Options({minConfidence: 0.5, maxResults: 100}))
// SsdMobilenetv1.locateFaces hard-codes iouThreshold = 0.5 and input size 512.
// Numbers are written with JS's shortest round-trip double formatting (full precision).

import fs from 'node:fs';
import path from 'node:path';
import { PHOTOS, boxOf, loadFaceApi, parseArgs, readPhoto, reportSummary, run, sha256, writeJson } from './face_api_common.mjs';

const INPUT_SIZE = 512; // SsdMobilenetv1.forwardInput: input.toBatchTensor(512, false)
const MIN_CONFIDENCE = 0.5;
const MAX_RESULTS = 100;
const IOU_THRESHOLD = 0.5; // SsdMobilenetv1.locateFaces: const iouThreshold = 0.5
const NETS = ['ssdMobilenetv1'];
const MODELS = ['ssd_mobilenetv1_model'];

async function main() {
  const { pkgDir, outDir, options } = parseArgs({ '--rgb': 'a value', '--raw': 'a value' });
  const rgbDir = options['--rgb'];
  const rawJson = options['--raw'];
  const ctx = await loadFaceApi(pkgDir, NETS, MODELS);
  const { faceapi, versions, modelSha } = ctx;

  const opts = new faceapi.SsdMobilenetv1Options({ minConfidence: MIN_CONFIDENCE, maxResults: MAX_RESULTS });

  const summary = [];
  for (const photo of PHOTOS) {
    const { width, height, jpegSha256, decoder, rgbSha256, tensor: t } = readPhoto(ctx, pkgDir, photo, rgbDir);

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
        decoded_rgb_sha256: rgbSha256,
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
      jpeg_sha256: jpegSha256,
      decoder,
      decoded_rgb_sha256: rgbSha256,
      versions,
      models_sha256: modelSha,
      faces,
    };
    writeJson(path.join(outDir, `ssd_${photo.replace(/\.jpg$/, '.json')}`), out);
    summary.push({ photo, width, height, faces });
  }

  // Sanity checks + summary.
  reportSummary(summary, (f, i, faces) => {
    let problems = 0;
    const { x, y, width: w, height: h } = f.box;
    console.log(`  face ${i}: box [${x.toFixed(1)}, ${y.toFixed(1)}, ${w.toFixed(1)}, ${h.toFixed(1)}] score ${f.score.toFixed(5)}`);
    if (!(w > 0 && h > 0)) { console.log(`  PROBLEM: face ${i} has an empty box`); problems++; }
    if (i > 0 && f.score > faces[i - 1].score) { console.log(`  PROBLEM: face ${i} out of score order`); problems++; }
    return problems;
  });
}

run(main);
