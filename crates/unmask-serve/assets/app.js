// unmask's web page: photos in, faces found and unmasked by the server (POST /api/unmask),
// each face's mask shown and editable with a brush, per-face on/off, before/after compare,
// PNG download. No framework and no build step: the server embeds this file.
"use strict";

const $ = (id) => document.getElementById(id);
const view = $("view");
const ctx = view.getContext("2d");

const photos = [];   // every photo dropped or chosen, in order
let current = null;  // the photo on the stage
let selected = null; // the index of the face being edited, or null
let comparing = false;
let tool = "brush";
let nextId = 1;
let busy = false;    // a request is in flight (one at a time: the server runs one photo at a time anyway)

// ---- photos in -------------------------------------------------------------------------

$("files").addEventListener("change", (e) => { addFiles(e.target.files); e.target.value = ""; });
document.addEventListener("dragover", (e) => { e.preventDefault(); document.body.classList.add("dragging"); });
document.addEventListener("dragleave", (e) => { if (!e.relatedTarget) document.body.classList.remove("dragging"); });
document.addEventListener("drop", (e) => {
  e.preventDefault();
  document.body.classList.remove("dragging");
  addFiles(e.dataTransfer.files);
});

function addFiles(files) {
  for (const file of files) {
    const photo = {
      id: nextId++, file, name: file.name, state: "waiting", error: null,
      original: null, result: null, resultImage: null,
      masks: [],            // per face: a canvas at the photo's size, white where to fill
      autoMasks: [],        // per face: the segmenter's mask (to undo edits)
      edited: new Set(),    // faces whose mask the user changed
      choices: new Map(),   // face -> "on" | "off"
      dirty: true,          // needs a (re-)run
    };
    photos.push(photo);
    loadImage(URL.createObjectURL(file)).then((img) => { photo.original = img; renderList(); if (photo === current) draw(); })
      .catch(() => { photo.original = null; });
    if (!current) show(photo);
  }
  renderList();
  pump();
}

function loadImage(src) {
  return new Promise((resolve, reject) => {
    const img = new Image();
    img.onload = () => resolve(img);
    img.onerror = () => reject(new Error("the browser cannot show this image"));
    img.src = src;
  });
}

// ---- talking to the server -------------------------------------------------------------

// Runs the next photo that needs it, one at a time.
async function pump() {
  if (busy) return;
  const photo = photos.find((p) => p.dirty && p.state !== "error");
  if (!photo) { setStatus(photos.length ? "Ready." : "Drop photos anywhere, or choose them."); return; }
  busy = true;
  photo.dirty = false;
  photo.state = "running";
  renderList();
  updateToolbar();
  try {
    await run(photo);
    photo.state = "done";
    setStatus(`${photo.name}: ${summary(photo.result)}`);
  } catch (err) {
    photo.state = "error";
    photo.error = err.message;
    setStatus(`${photo.name}: ${err.message}`, true);
  } finally {
    busy = false;
    $("progress").hidden = true;
    renderList();
    if (photo === current) { renderFaces(); draw(); }
    updateToolbar();
    pump();
  }
}

function summary(result) {
  const n = result.faces_found;
  if (n === 0) return "no face found; the photo is unchanged.";
  return `${n} face${n > 1 ? "s" : ""} found, ${result.faces_unmasked} unmasked.`;
}

async function run(photo) {
  const form = new FormData();
  form.append("image", photo.file, photo.file.name);
  const job = `photo${photo.id}-${Date.now()}`;
  form.append("job", job);
  const on = [], off = [];
  photo.choices.forEach((choice, face) => (choice === "on" ? on : off).push(face));
  if (on.length) form.append("on", on.join(","));
  if (off.length) form.append("off", off.join(","));
  if (photo.edited.size) {
    form.append("mask", await editedMask(photo), "mask.png");
    form.append("mask_faces", [...photo.edited].join(","));
  }
  setStatus(`${photo.name}: uploading…`);
  const poll = setInterval(() => showProgress(photo, job), 250);
  let response, body;
  try {
    response = await fetch("/api/unmask", { method: "POST", body: form });
    body = await response.json().catch(() => ({ error: `${response.status} ${response.statusText}` }));
  } finally {
    clearInterval(poll);
  }
  if (!response.ok) throw new Error(body.error || `${response.status} ${response.statusText}`);
  photo.result = body;
  photo.resultImage = await loadImage(body.image);
  await takeMasks(photo, body);
}

async function showProgress(photo, job) {
  const response = await fetch(`/api/progress?job=${encodeURIComponent(job)}`).catch(() => null);
  if (!response || !response.ok) return;
  const s = await response.json();
  const bar = $("progress");
  bar.hidden = false;
  if (s.state === "queued") {
    bar.removeAttribute("value");
    setStatus(`${photo.name}: waiting (${s.ahead} photo${s.ahead === 1 ? "" : "s"} ahead)…`);
  } else if (s.total) {
    bar.max = s.total;
    bar.value = s.done;
    setStatus(`${photo.name}: ${s.step}…`);
  }
}

// Keeps the user's edited masks; every other face takes the mask the server used.
async function takeMasks(photo, body) {
  const w = body.width, h = body.height;
  for (const face of body.faces) {
    const i = face.index;
    if (photo.edited.has(i) && photo.masks[i]) continue;
    const canvas = blankCanvas(w, h);
    if (face.mask) {
      const img = await loadImage(face.mask.image);
      paintMask(canvas, img, face.mask.x, face.mask.y);
    }
    photo.masks[i] = canvas;
    if (face.mask_source === "segmenter") photo.autoMasks[i] = copyCanvas(canvas);
  }
  photo.masks.length = body.faces.length;
}

function blankCanvas(w, h) {
  const c = document.createElement("canvas");
  c.width = w; c.height = h;
  return c;
}

function copyCanvas(src) {
  const c = blankCanvas(src.width, src.height);
  c.getContext("2d").drawImage(src, 0, 0);
  return c;
}

// A black-and-white mask image drawn as white on transparent.
function paintMask(canvas, img, x, y) {
  const tmp = blankCanvas(img.width, img.height);
  const t = tmp.getContext("2d");
  t.drawImage(img, 0, 0);
  const data = t.getImageData(0, 0, img.width, img.height);
  for (let k = 0; k < data.data.length; k += 4) {
    data.data[k + 3] = data.data[k];
    data.data[k] = data.data[k + 1] = data.data[k + 2] = 255;
  }
  t.putImageData(data, 0, 0);
  canvas.getContext("2d").drawImage(tmp, x, y);
}

// The edited faces' masks as one PNG at the photo's size (white = fill).
function editedMask(photo) {
  const { width, height } = photo.result;
  const c = blankCanvas(width, height);
  const g = c.getContext("2d");
  g.fillStyle = "#000";
  g.fillRect(0, 0, width, height);
  for (const i of photo.edited) g.drawImage(photo.masks[i], 0, 0);
  return new Promise((resolve) => c.toBlob(resolve, "image/png"));
}

// ---- what is shown ---------------------------------------------------------------------

function setStatus(text, error = false) {
  const s = $("status");
  s.textContent = text;
  s.classList.toggle("error", error);
}

function show(photo) {
  current = photo;
  selected = null;
  renderList();
  renderFaces();
  updateToolbar();
  draw();
}

function renderList() {
  const list = $("photos");
  list.replaceChildren(...photos.map((p) => {
    const li = document.createElement("li");
    li.className = (p === current ? "current " : "") + p.state;
    li.dataset.photo = p.id;
    const img = document.createElement("img");
    img.alt = "";
    if (p.resultImage || p.original) img.src = (p.resultImage || p.original).src;
    const text = document.createElement("div");
    const name = document.createElement("div");
    name.className = "name";
    name.textContent = p.name;
    const state = document.createElement("div");
    state.className = "state";
    state.textContent = p.state === "done" ? summary(p.result)
      : p.state === "error" ? p.error : p.state === "running" ? "working…" : "waiting";
    text.append(name, state);
    li.append(img, text);
    li.addEventListener("click", () => show(p));
    return li;
  }));
}

function renderFaces() {
  const list = $("faces");
  const faces = current && current.result ? current.result.faces : [];
  list.replaceChildren(...faces.map((face) => {
    const i = face.index;
    const li = document.createElement("li");
    li.dataset.face = i;
    if (i === selected) li.classList.add("selected");
    const head = document.createElement("div");
    head.className = "head";
    const title = document.createElement("span");
    title.textContent = `Face ${i + 1} · score ${face.score.toFixed(2)}`;
    const toggle = document.createElement("label");
    const box = document.createElement("input");
    box.type = "checkbox";
    box.checked = face.unmasked;
    box.className = "unmask-toggle";
    box.addEventListener("click", (e) => e.stopPropagation());
    box.addEventListener("change", () => {
      current.choices.set(i, box.checked ? "on" : "off");
      rerun();
    });
    toggle.append(box, " unmask");
    head.append(title, toggle);
    const reason = document.createElement("div");
    reason.className = "reason";
    reason.textContent = (face.unmasked ? "Unmasked: " : "Left alone: ") + face.reason;
    li.append(head, reason);
    if (current.edited.has(i)) {
      const edited = document.createElement("div");
      edited.className = "edited";
      edited.textContent = "mask edited by hand";
      li.append(edited);
    }
    li.addEventListener("click", () => select(i === selected ? null : i));
    return li;
  }));
}

function select(face) {
  selected = face;
  renderFaces();
  updateToolbar();
  draw();
}

function updateToolbar() {
  const ready = !!(current && current.result);
  $("compare").disabled = !ready;
  $("rerun").disabled = busy || !ready || selected === null;
  $("reset-mask").disabled = !ready || selected === null || !current.edited.has(selected);
  const link = $("download");
  link.classList.toggle("disabled", !ready);
  if (ready) {
    link.href = current.result.image;
    link.download = current.name.replace(/\.[^.]*$/, "") + "-unmasked.png";
  } else {
    link.removeAttribute("href");
  }
}

const COLOURS = { unmasked: [58, 99, 216], left: [230, 140, 0] };

// The stage: the result (or the original while comparing), masks and boxes on top.
function draw() {
  const photo = current;
  const base = photo && (comparing ? photo.original : photo.resultImage || photo.original);
  $("empty").hidden = !!base;
  view.hidden = !base;
  $("comparing").hidden = !comparing || !base;
  if (!base) return;
  if (view.width !== base.naturalWidth || view.height !== base.naturalHeight) {
    view.width = base.naturalWidth;
    view.height = base.naturalHeight;
  }
  ctx.globalAlpha = 1;
  ctx.drawImage(base, 0, 0);
  if (comparing || !photo.result || !$("show-masks").checked) return;
  const scale = view.width / Math.max(1, view.getBoundingClientRect().width);
  photo.result.faces.forEach((face) => {
    const colour = COLOURS[face.unmasked ? "unmasked" : "left"];
    const mask = photo.masks[face.index];
    if (mask) {
      ctx.globalAlpha = face.index === selected ? 0.55 : 0.3;
      ctx.drawImage(tinted(mask, colour), 0, 0);
    }
    ctx.globalAlpha = 1;
    const b = face.box;
    ctx.lineWidth = Math.max(2, 2 * scale);
    ctx.strokeStyle = `rgb(${colour})`;
    if (face.index === selected) ctx.setLineDash([8 * scale, 4 * scale]);
    ctx.strokeRect(b.x, b.y, b.width, b.height);
    ctx.setLineDash([]);
    ctx.font = `${Math.round(14 * scale)}px system-ui, sans-serif`;
    const label = `${face.index + 1}${face.unmasked ? " ✓" : ""}`;
    const tw = ctx.measureText(label).width + 8 * scale;
    ctx.fillStyle = `rgb(${colour})`;
    ctx.fillRect(b.x, b.y - 18 * scale, tw, 18 * scale);
    ctx.fillStyle = "#fff";
    ctx.fillText(label, b.x + 4 * scale, b.y - 4 * scale);
  });
}

const tint = blankCanvas(1, 1);
function tinted(mask, [r, g, b]) {
  tint.width = mask.width;
  tint.height = mask.height;
  const t = tint.getContext("2d");
  t.drawImage(mask, 0, 0);
  t.globalCompositeOperation = "source-in";
  t.fillStyle = `rgb(${r},${g},${b})`;
  t.fillRect(0, 0, tint.width, tint.height);
  t.globalCompositeOperation = "source-over";
  return tint;
}

// ---- compare, download, rerun ----------------------------------------------------------

function setComparing(on) {
  if (comparing === on) return;
  comparing = on;
  draw();
}
const compare = $("compare");
compare.addEventListener("pointerdown", () => setComparing(true));
for (const ev of ["pointerup", "pointerleave", "pointercancel"]) compare.addEventListener(ev, () => setComparing(false));
document.addEventListener("keydown", (e) => {
  if (e.key === "Tab" && current && current.result) { e.preventDefault(); setComparing(true); }
  if (e.key === "Escape") select(null);
});
document.addEventListener("keyup", (e) => { if (e.key === "Tab") setComparing(false); });
$("show-masks").addEventListener("change", draw);
window.addEventListener("resize", draw);

function rerun() {
  if (!current) return;
  current.dirty = true;
  current.state = "waiting";
  renderList();
  pump();
}
$("rerun").addEventListener("click", rerun);
$("reset-mask").addEventListener("click", () => {
  if (selected === null) return;
  const auto = current.autoMasks[selected];
  current.masks[selected] = auto ? copyCanvas(auto) : blankCanvas(view.width, view.height);
  current.edited.delete(selected);
  renderFaces();
  updateToolbar();
  draw();
  rerun();
});

// ---- the brush -------------------------------------------------------------------------

for (const name of ["brush", "eraser"]) {
  $(name).addEventListener("click", () => {
    tool = name;
    $("brush").classList.toggle("active", name === "brush");
    $("eraser").classList.toggle("active", name === "eraser");
  });
}

function toPhoto(e) {
  const r = view.getBoundingClientRect();
  return [(e.clientX - r.left) * view.width / r.width, (e.clientY - r.top) * view.height / r.height];
}

function faceAt([x, y]) {
  if (!current || !current.result) return null;
  const hits = current.result.faces.filter((f) => x >= f.box.x && x <= f.box.x + f.box.width
    && y >= f.box.y && y <= f.box.y + f.box.height);
  hits.sort((a, b) => a.box.width * a.box.height - b.box.width * b.box.height);
  return hits.length ? hits[0].index : null;
}

let stroke = null;
view.addEventListener("pointerdown", (e) => {
  if (!current || !current.result || comparing) return;
  const p = toPhoto(e);
  if (selected === null) { select(faceAt(p)); return; }
  const mask = current.masks[selected];
  if (!mask) return;
  view.setPointerCapture(e.pointerId);
  const g = mask.getContext("2d");
  const r = view.getBoundingClientRect();
  g.lineCap = g.lineJoin = "round";
  g.lineWidth = Number($("brush-size").value) * view.width / r.width;
  g.strokeStyle = g.fillStyle = "#fff";
  g.globalCompositeOperation = tool === "eraser" ? "destination-out" : "source-over";
  stroke = { g, last: p };
  g.beginPath();
  g.arc(p[0], p[1], g.lineWidth / 2, 0, 2 * Math.PI);
  g.fill();
  markEdited();
});
view.addEventListener("pointermove", (e) => {
  if (!stroke) return;
  const p = toPhoto(e);
  const { g, last } = stroke;
  g.beginPath();
  g.moveTo(last[0], last[1]);
  g.lineTo(p[0], p[1]);
  g.stroke();
  stroke.last = p;
  requestDraw();
});
for (const ev of ["pointerup", "pointercancel"]) {
  view.addEventListener(ev, () => {
    if (!stroke) return;
    stroke.g.globalCompositeOperation = "source-over";
    stroke = null;
    draw();
  });
}

function markEdited() {
  if (!current.edited.has(selected)) {
    current.edited.add(selected);
    renderFaces();
  }
  updateToolbar();
  requestDraw();
}

let drawPending = false;
function requestDraw() {
  if (drawPending) return;
  drawPending = true;
  requestAnimationFrame(() => { drawPending = false; draw(); });
}
