// icespike studio: the page's behaviour. Plain JavaScript, no dependencies; charts are SVG drawn here.
"use strict";

const $ = (sel) => document.querySelector(sel);
const FINAL = ["done", "failed", "stopped", "cancelled"];
const state = { tab: "train", run: null, runStream: null, synth: null, synthStream: null, sources: [], devices: [] };

async function api(method, url, body) {
  const opt = { method, headers: {} };
  if (body !== undefined) { opt.headers["Content-Type"] = "application/json"; opt.body = JSON.stringify(body); }
  const r = await fetch(url, opt);
  let d = null;
  try { d = await r.json(); } catch (e) { d = null; }
  if (!r.ok) throw new Error((d && d.error) || `HTTP ${r.status}`);
  return d;
}

function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v; else if (k.startsWith("on")) e.addEventListener(k.slice(2), v); else e.setAttribute(k, v);
  }
  for (const k of kids) e.append(k instanceof Node ? k : document.createTextNode(String(k)));
  return e;
}

const BITS = { 16: "q16", 8: "q8", 4: "q4", 2: "ternary", 1: "binary", float: "float" };
const pct = (x) => (x == null ? "–" : (100 * x).toFixed(2) + "%");
const num = (x) => (x == null ? "–" : Math.round(x).toLocaleString("en"));

// ------------------------------------------------------------------------------------ hash state
function saveHash() {
  const parts = [state.tab];
  if (state.run) parts.push("run=" + state.run);
  if (state.synth) parts.push("synth=" + state.synth);
  history.replaceState(null, "", "#" + parts.join("/"));
}
function readHash() {
  const parts = location.hash.replace(/^#/, "").split("/");
  if (parts[0] === "fpga" || parts[0] === "train") state.tab = parts[0];
  for (const p of parts) {
    if (p.startsWith("run=")) state.run = p.slice(4);
    if (p.startsWith("synth=")) state.synth = p.slice(6);
  }
}

function showTab(tab) {
  state.tab = tab;
  document.querySelectorAll("nav button").forEach((b) => b.classList.toggle("active", b.dataset.tab === tab));
  document.querySelectorAll(".panel").forEach((p) => p.classList.toggle("active", p.id === "panel-" + tab));
  saveHash();
  if (tab === "fpga") loadSources().then(() => { refreshFpga(); refreshPareto(); });
}

// ------------------------------------------------------------------------------------ SVG charts
function lineChart(svg, series, opts = {}) {
  const W = svg.clientWidth || 400, H = svg.clientHeight || 180, L = 44, R = 8, T = 8, B = 22;
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  svg.innerHTML = "";
  const pts = series.flatMap((s) => s.points);
  if (!pts.length) return;
  let x0 = Math.min(...pts.map((p) => p[0])), x1 = Math.max(...pts.map((p) => p[0]));
  let y0 = opts.ymin ?? Math.min(...pts.map((p) => p[1])), y1 = opts.ymax ?? Math.max(...pts.map((p) => p[1]));
  if (x1 === x0) { x0 -= 0.5; x1 += 0.5; }
  if (y1 === y0) { y0 -= 0.5; y1 += 0.5; }
  const sx = (x) => L + ((x - x0) / (x1 - x0)) * (W - L - R), sy = (y) => H - B - ((y - y0) / (y1 - y0)) * (H - T - B);
  const ns = "http://www.w3.org/2000/svg";
  const add = (tag, a, text) => { const e = document.createElementNS(ns, tag); for (const k in a) e.setAttribute(k, a[k]); if (text != null) e.textContent = text; svg.append(e); return e; };
  add("line", { x1: L, y1: H - B, x2: W - R, y2: H - B, class: "axis" });
  add("line", { x1: L, y1: T, x2: L, y2: H - B, class: "axis" });
  const fmt = opts.fmt || ((v) => (Math.abs(v) >= 100 ? Math.round(v).toLocaleString("en") : v.toFixed(3)));
  for (const v of [y0, (y0 + y1) / 2, y1]) add("text", { x: L - 4, y: sy(v) + 3, "text-anchor": "end" }, fmt(v));
  add("text", { x: L, y: H - 6 }, (opts.xlabel || "epoch") + " " + x0);
  add("text", { x: W - R, y: H - 6, "text-anchor": "end" }, x1);
  series.forEach((s, i) => {
    if (!s.points.length) return;
    const d = s.points.map((p, j) => `${j ? "L" : "M"}${sx(p[0]).toFixed(1)},${sy(p[1]).toFixed(1)}`).join("");
    add("path", { d, fill: "none", stroke: s.color, "stroke-width": 2, class: "series", "data-name": s.name, "data-n": s.points.length });
    for (const p of s.points) add("circle", { cx: sx(p[0]), cy: sy(p[1]), r: 2.5, fill: s.color });
    add("text", { x: L + 8 + i * 70, y: T + 10, fill: s.color }, s.name);
  });
}

// ------------------------------------------------------------------------------------ training
async function jobList(kind, ul, selected, label, open) {
  const jobs = await api("GET", "/api/jobs?kind=" + kind);
  ul.innerHTML = "";
  for (const j of jobs)
    ul.append(el("li", { "data-id": j.id, class: j.id === selected ? "sel" : "", onclick: () => open(j.id) }, label(j), el("span", { class: "badge " + j.status }, j.status)));
  return jobs;
}

// Follow a job's events live (SSE) from sequence number `after`; `onEnd` once the job has ended.
function follow(id, after, onEvent, onEnd) {
  const es = new EventSource(`/api/jobs/${id}/stream?after=${after}`);
  es.onmessage = (m) => onEvent(JSON.parse(m.data));
  es.addEventListener("end", () => { es.close(); onEnd(); });
  return es;
}

const loadRuns = () => jobList("train", $("#runs"), state.run, (j) => `${j.id}  784-${j.params.hidden.join("-")}-10 ${BITS[j.params.bits]}${j.params.init ? " (fine-tune)" : ""} `, selectRun);

async function loadModels() {
  const ul = $("#models");
  ul.innerHTML = "";
  for (const m of await api("GET", "/api/models"))
    ul.append(el("li", { "data-id": m.id, onclick: () => showModel(m.name) }, `${m.name} `, el("span", { class: "badge" }, `T=${m.timesteps}`)));
}

async function showModel(name) {
  if (state.runStream) { state.runStream.close(); state.runStream = null; }
  state.run = null; saveHash();
  document.querySelectorAll("#runs li, #models li").forEach((li) => li.classList.toggle("sel", li.dataset.id === "model:" + name));
  const m = await api("GET", "/api/models/" + encodeURIComponent(name));
  $("#run-view").hidden = false; $("#run-empty").hidden = true;
  $("#run-title").textContent = `committed model ${m.name}: ${m.sizes.join("-")}, ${m.bits}, T=${m.timesteps}, ${m.history.length} epochs` + (m.training && m.training.init ? " (from the float model)" : "");
  $("#run-status").textContent = "committed"; $("#run-status").className = "badge done";
  $("#run-error").textContent = ""; $("#run-progress").textContent = "curves from the checkpoint's manifest (spike rates are not recorded there)";
  $("#stop-run").disabled = true; $("#resume-run").disabled = true;
  runCharts(m.history.map((h) => ({ type: "epoch", spike_rates: [], ...h })));
}

function runCharts(events) {
  const ep = events.filter((e) => e.type === "epoch");
  lineChart($("#chart-loss"), [{ name: "loss", color: "#1f6feb", points: ep.map((e) => [e.epoch, e.loss]) }]);
  lineChart($("#chart-acc"), [
    { name: "train", color: "#1f6feb", points: ep.map((e) => [e.epoch, e.train_accuracy]) },
    { name: "test", color: "#e08600", points: ep.map((e) => [e.epoch, e.test_accuracy]) },
  ], { fmt: (v) => (100 * v).toFixed(1) + "%" });
  const nl = ep.length && ep[0].spike_rates ? ep[0].spike_rates.length : 0;
  const colors = ["#2e7d32", "#8e24aa", "#c62828"];
  lineChart($("#chart-spikes"), [...Array(nl).keys()].map((l) => ({ name: "layer " + (l + 1), color: colors[l % 3], points: ep.map((e) => [e.epoch, e.spike_rates[l]]) })));
  lineChart($("#chart-ips"), [{ name: "images/s", color: "#6b7480", points: ep.map((e) => [e.epoch, e.images_per_s]) }]);
  const last = ep[ep.length - 1];
  $("#run-summary").textContent = last ? `epoch ${last.epoch}: loss ${last.loss.toFixed(4)}, train ${pct(last.train_accuracy)}, test ${pct(last.test_accuracy)}, ${num(last.images_per_s)} images/s, spike rate ${nl ? last.spike_rates.map((r) => r.toFixed(3)).join(" / ") : "–"}` : "";
}

function showRunJob(job) {
  const p = job.params;
  $("#run-title").textContent = `run ${job.id}: 784-${p.hidden.join("-")}-10, ${BITS[p.bits]}, T=${p.timesteps}, ${p.epochs} epochs` + (p.train_subset ? `, ${p.train_subset} images` : "") + (p.init ? `, from ${p.init}` : "");
  const b = $("#run-status");
  b.textContent = job.status; b.className = "badge " + job.status;
  $("#run-error").textContent = job.error || "";
  $("#stop-run").disabled = FINAL.includes(job.status);
  $("#resume-run").disabled = !(job.status === "stopped" || job.status === "failed");
  if (job.result && job.status === "done") $("#run-progress").textContent = `golden-model test accuracy ${pct(job.result.accuracy)} (${job.result.images} images)`;
}

async function selectRun(id) {
  if (state.runStream) { state.runStream.close(); state.runStream = null; }
  state.run = id; saveHash();
  document.querySelectorAll("#runs li, #models li").forEach((li) => li.classList.toggle("sel", li.dataset.id === id));
  let job;
  try { job = await api("GET", "/api/jobs/" + id); } catch (e) { $("#run-empty").textContent = e.message; state.run = null; return; }
  $("#run-view").hidden = false; $("#run-empty").hidden = true;
  $("#run-progress").textContent = "";
  showRunJob(job);
  const events = await api("GET", `/api/jobs/${id}/events`);
  runCharts(events);
  const lastSeq = events.length ? events[events.length - 1].seq : 0;
  if (FINAL.includes(job.status)) return;
  const refresh = async () => { if (state.run === id) showRunJob(await api("GET", "/api/jobs/" + id)); loadRuns(); };
  state.runStream = follow(id, lastSeq, (e) => {
    if (state.run !== id) return;
    events.push(e);
    if (e.type === "epoch") runCharts(events);
    if (e.type === "batch") $("#run-progress").textContent = `batch: ${num(e.done)} images, loss ${e.loss.toFixed(4)}, acc ${pct(e.acc)}, ${num(e.images_per_s)} images/s`;
    if (e.type === "status") refresh();
  }, refresh);
}

async function startTraining(ev) {
  ev.preventDefault();
  const f = new FormData($("#train-form"));
  $("#train-form-error").textContent = "";
  const bits = f.get("bits");
  const body = {
    kind: "train",
    bits: bits === "float" ? "float" : Number(bits),
    hidden: String(f.get("hidden")).split(",").map((s) => Number(s.trim())),
    epochs: Number(f.get("epochs")),
    timesteps: Number(f.get("timesteps")),
    lr: Number(f.get("lr")),
  };
  if (String(f.get("train_subset")).trim() !== "") body.train_subset = Number(f.get("train_subset"));
  try {
    const job = await api("POST", "/api/jobs", body);
    await loadRuns();
    selectRun(job.id);
  } catch (e) { $("#train-form-error").textContent = e.message; }
}

// ------------------------------------------------------------------------------------ FPGA tab
async function loadSources() {
  const [src, dev] = await Promise.all([api("GET", "/api/sources"), state.devices.length ? state.devices : api("GET", "/api/devices")]);
  state.sources = src; state.devices = dev;
  const sel = $("#source"), keep = sel.value || (state.run ? "run:" + state.run : "");
  sel.innerHTML = "";
  for (const s of src) sel.append(el("option", { value: s.id }, s.label));
  if (src.some((s) => s.id === keep)) sel.value = keep;
  const ds = $("#device");
  if (!ds.options.length) for (const d of dev) ds.append(el("option", { value: d.id }, `${d.id} (${d.part})`));
}

const fpgaSel = () => ({
  source: $("#source").value, bits: Number(document.querySelector("input[name=tbits]:checked").value), device: $("#device").value,
  lanes: $("#lanes").value === "" ? null : Number($("#lanes").value), lif_lanes: Number($("#lif-lanes").value),
});

async function refreshFpga() {
  const s = fpgaSel();
  $("#fpga-error").textContent = "";
  if (!s.source) return;
  $("#ptq").textContent = "golden model running…";
  $("#estimate").textContent = "…";
  const tag = JSON.stringify(s);
  state.fpgaTag = tag;
  api("POST", "/api/ptq", { source: s.source, bits: s.bits }).then((r) => {
    if (state.fpgaTag !== tag) return;
    $("#ptq").innerHTML = "";
    $("#ptq").append(el("div", { class: "big", id: "ptq-acc" }, pct(r.accuracy)),
      el("div", { class: "muted" }, `${r.how === "ptq" ? "PTQ (no retraining)" : "as trained"}, ${r.bits}, integer golden model on ${num(r.images)} test images; ${r.hidden_spikes_per_image.toFixed(1)} hidden spikes/image`));
  }).catch((e) => { if (state.fpgaTag === tag) $("#ptq").textContent = e.message; });
  api("POST", "/api/estimate", s).then((r) => { if (state.fpgaTag === tag) renderEstimate(r); })
    .catch((e) => { if (state.fpgaTag === tag) $("#estimate").textContent = e.message; });
}

function renderEstimate(r) {
  const box = $("#estimate");
  box.innerHTML = "";
  const t = el("table", { id: "est-table" }, el("tr", {}, el("th", {}, ""), el("th", {}, "estimate"), el("th", {}, "device")));
  for (const [k, lab, have] of [["lut4", "SB_LUT4", r.logic_cells_available], ["ebr", "EBR", r.ebr_available], ["spram", "SPRAM", r.spram_available], ["dsp", "DSP", r.dsp_available]])
    t.append(el("tr", {}, el("td", {}, lab), el("td", {}, num(r[k])), el("td", {}, num(have))));
  box.append(el("div", { class: r.fits ? "fits" : "nofit", id: "est-fits" }, r.fits ? `fits the ${r.part}` : "does not fit: " + r.fit_problems.join("; ")), t,
    el("div", { id: "est-engine" }, `${r.network}: ${r.hidden_layers} hidden layer${r.hidden_layers > 1 ? "s" : ""}, LANES ${r.lanes}, P_LIF ${r.p_lif}`),
    el("div", { id: "est-cycles" }, `cycles/inference ${num(r.cycles_per_inference)} (cycle model), ${num(r.inferences_per_s)} inferences/s at ${r.fmax_mhz ? r.fmax_mhz.toFixed(1) : "–"} MHz`));
}

const knobs = (p) => (p.lanes != null || (p.lif_lanes || 1) > 1 ? ` LANES ${p.lanes ?? "default"} P_LIF ${p.lif_lanes || 1}` : "");
const loadSynthRuns = () => jobList("synth", $("#synth-runs"), state.synth, (j) => `${j.id} ${j.params.source} ${BITS[j.params.bits]} ${j.params.device}${knobs(j.params)} `, selectSynth);

function bar(label, used, have, est) {
  const over = have != null && used > have;
  const w = have ? Math.min(100, (100 * used) / have) : 0;
  const b = el("div", { class: "bar" + (over ? " over" : "") }, el("span", { style: `width:${w}%` }));
  if (est != null && have) b.append(el("i", { style: `left:${Math.min(100, (100 * est) / have)}%`, title: "estimate " + est }));
  const e = used ? ((est - used) / used) * 100 : null;
  const err = est != null && used ? ` (estimate ${num(est)}, ${e >= 0 ? "+" : ""}${e.toFixed(1)}%)` : est != null ? ` (estimate ${num(est)})` : "";
  return el("tr", { class: "util" }, el("td", {}, label), el("td", {}, b), el("td", {}, `${num(used)} / ${num(have)}${err}`));
}

function renderSynth(job) {
  const p = job.params;
  $("#synth-title").textContent = `synthesis ${job.id}: ${p.source} as ${BITS[p.bits]} on ${p.device}${knobs(p)}`;
  const b = $("#synth-status"); b.textContent = job.status; b.className = "badge " + job.status;
  $("#synth-error").textContent = job.error || "";
  $("#cancel-synth").disabled = FINAL.includes(job.status);
  const box = $("#synth-result");
  box.innerHTML = "";
  if (!job.result) return;
  const rep = job.result.report, est = job.result.estimate;
  const dev = state.devices.find((d) => d.id === rep.device) || {};
  box.append(el("div", { class: rep.fits ? "fits" : "nofit" }, rep.fits ? `fits the ${rep.part} (${rep.package})` : "does not fit: " + (rep.fit_problems || []).join("; ")));
  const t = el("table", { id: "util-table" });
  if (rep.lut4 != null) {
    t.append(bar("SB_LUT4", rep.lut4, dev.logic_cells, est.lut4));
    if (rep.lc_used != null) t.append(bar("logic cells", rep.lc_used, rep.lc_available, null));
    t.append(bar("EBR", rep.ebr, dev.ebr, est.ebr), bar("SPRAM", rep.spram, dev.spram, est.spram), bar("DSP", rep.dsp, dev.dsp, est.dsp));
  }
  box.append(t);
  const fm = rep.fmax_mhz != null ? `Fmax ${rep.fmax_mhz.toFixed(1)} MHz (target ${rep.freq_target_mhz} MHz ${rep.timing_met ? "met" : "missed"})` : "no Fmax (not placed)";
  box.append(el("p", { id: "synth-speed" }, `${fm}; cycles/inference ${num(rep.cycles_per_inference)}; inferences/s ${num(rep.inferences_per_s)} (estimate ${num(est.inferences_per_s)})`));
  const links = el("p", {}, "download: ");
  for (const f of ["report.json", "manifest.json", "w0.hex", "w1.hex", "net_params.vh"].concat(rep.bitstream ? ["top.bin"] : []))
    links.append(el("a", { href: `/api/jobs/${job.id}/files/${f}`, download: f }, f), " ");
  box.append(links);
}

async function selectSynth(id) {
  if (state.synthStream) { state.synthStream.close(); state.synthStream = null; }
  state.synth = id; saveHash();
  document.querySelectorAll("#synth-runs li").forEach((li) => li.classList.toggle("sel", li.dataset.id === id));
  let job;
  try { job = await api("GET", "/api/jobs/" + id); } catch (e) { state.synth = null; return; }
  $("#synth-view").hidden = false;
  renderSynth(job);
  const events = await api("GET", `/api/jobs/${id}/events`);
  $("#synth-log").textContent = events.filter((e) => e.type === "log").map((e) => e.message).join("\n");
  if (FINAL.includes(job.status)) return;
  const refresh = async () => { if (state.synth === id) renderSynth(await api("GET", "/api/jobs/" + id)); loadSynthRuns(); };
  state.synthStream = follow(id, events.length ? events[events.length - 1].seq : 0, (e) => {
    if (state.synth !== id) return;
    if (e.type === "log") $("#synth-log").textContent += "\n" + e.message;
    if (e.type === "status") refresh();
  }, refresh);
}

async function synthesise() {
  $("#fpga-error").textContent = "";
  try {
    const job = await api("POST", "/api/jobs", { kind: "synth", ...fpgaSel() });
    await loadSynthRuns();
    selectSynth(job.id);
  } catch (e) { $("#fpga-error").textContent = e.message; }
}

async function finetune() {
  $("#fpga-error").textContent = "";
  const s = fpgaSel(), src = state.sources.find((x) => x.id === s.source);
  try {
    const job = await api("POST", "/api/jobs", { kind: "train", bits: s.bits, hidden: src.hidden, timesteps: src.timesteps, epochs: 3, init: s.source, train_subset: 10000 });
    showTab("train");
    await loadRuns();
    selectRun(job.id);
  } catch (e) { $("#fpga-error").textContent = e.message; }
}

// ------------------------------------------------------------------------------------ RTL run
function svgEl(tag, a, text) {
  const e = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const k in a) e.setAttribute(k, a[k]);
  if (text != null) e.textContent = text;
  return e;
}

function renderRtl(job) {
  const b = $("#rtl-status"); b.textContent = job.status; b.className = "badge " + job.status;
  $("#rtl-error").textContent = job.error || "";
  const box = $("#rtl-result");
  box.innerHTML = "";
  const r = job.result;
  if (!r) return;
  const cv = el("canvas", { width: 84, height: 84, title: `test image ${r.image}, label ${r.label}` });
  const ctx = cv.getContext("2d");
  r.pixels.forEach((v, i) => { ctx.fillStyle = `rgb(${255 - v},${255 - v},${255 - v})`; ctx.fillRect((i % 28) * 3, Math.floor(i / 28) * 3, 3, 3); });
  const T = r.raster.length, N = r.raster[0].length, cw = Math.max(2, Math.min(8, Math.floor(300 / N))), ch = 8;
  const rs = svgEl("svg", { id: "rtl-raster", width: N * cw + 30, height: T * ch + 14, viewBox: `0 0 ${N * cw + 30} ${T * ch + 14}`, style: "max-width:100%;height:auto;min-width:0" });
  r.raster.forEach((row, t) => row.forEach((sp, n) => { if (sp) rs.append(svgEl("rect", { x: 30 + n * cw, y: t * ch, width: cw - 1, height: ch - 1, fill: "#1f6feb" })); }));
  rs.append(svgEl("text", { x: 0, y: 8 }, "t=0"), svgEl("text", { x: 0, y: T * ch }, `t=${T - 1}`), svgEl("text", { x: 30, y: T * ch + 12 }, `hidden neuron 0…${N - 1} (golden model)`));
  const t = el("table", { id: "rtl-scores" }, el("tr", {}, el("th", {}, "class"), el("th", {}, "golden"), el("th", {}, "RTL")));
  r.golden_scores.forEach((g, i) => t.append(el("tr", {}, el("td", {}, i + (i === r.golden_class ? " ◀" : "")), el("td", {}, g), el("td", {}, r.rtl_scores[i]))));
  box.append(el("div", { style: "display:flex;flex-wrap:wrap;gap:1em;align-items:flex-start" }, cv, rs, t),
    el("p", { id: "rtl-match", class: r.match ? "fits" : "nofit" }, r.match ? `RTL = golden model: class ${r.rtl_class} (label ${r.label}), all ${r.rtl_scores.length} scores equal` : `MISMATCH: RTL class ${r.rtl_class}, golden ${r.golden_class}`),
    el("p", { class: "muted" }, `${r.simulator}, ${r.bits} (${r.how}); ${num(r.rtl_cycles)} cycles measured, ${num(r.model_cycles)} by the cycle model`));
}

async function runRtl() {
  $("#rtl-error").textContent = "";
  const s = fpgaSel();
  try {
    const job = await api("POST", "/api/jobs", { kind: "rtl", source: s.source, bits: s.bits, image: Number($("#rtl-image").value), simulator: $("#rtl-sim").value });
    renderRtl(job);
    const refresh = async () => renderRtl(await api("GET", "/api/jobs/" + job.id));
    follow(job.id, 0, (e) => { if (e.type === "status") refresh(); }, refresh);
  } catch (e) { $("#rtl-error").textContent = e.message; }
}

// ------------------------------------------------------------------------------------ Pareto
const SWEEP_COLOR = "#8e24aa";
const sweepLabel = (t) => `trial ${t.trial}: ${t.bits} ${t.network}`;

// Accuracy against `key` for the Studio's points `pts` and a sweep's trials `trials` (finished ones that have `key`).
function scatter(svg, pts, key, xlabel, logx, trials = []) {
  const W = svg.clientWidth || 400, H = svg.clientHeight || 180, L = 44, R = 10, T = 8, B = 24;
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  svg.innerHTML = "";
  const sw = trials.filter((t) => t.status === "ok" && t[key] != null);
  const all = [...pts, ...sw];
  if (!all.length) return;
  const fx = logx ? Math.log10 : (v) => v;
  const xs = all.map((p) => fx(p[key])), ys = all.map((p) => 100 * p.accuracy);
  let x0 = Math.min(...xs), x1 = Math.max(...xs), y0 = Math.min(...ys), y1 = Math.max(...ys);
  const px = (x1 - x0) * 0.05 || 1, py = (y1 - y0) * 0.05 || 1; x0 -= px; x1 += px; y0 -= py; y1 += py;
  const sx = (v) => L + ((fx(v) - x0) / (x1 - x0)) * (W - L - R), sy = (a) => H - B - ((100 * a - y0) / (y1 - y0)) * (H - T - B);
  svg.append(svgEl("line", { x1: L, y1: H - B, x2: W - R, y2: H - B, class: "axis" }), svgEl("line", { x1: L, y1: T, x2: L, y2: H - B, class: "axis" }));
  for (const a of [y0, (y0 + y1) / 2, y1]) svg.append(svgEl("text", { x: L - 4, y: sy(a / 100) + 3, "text-anchor": "end" }, a.toFixed(1) + "%"));
  svg.append(svgEl("text", { x: (L + W) / 2, y: H - 4, "text-anchor": "middle" }, xlabel));
  svg.append(svgEl("text", { x: L, y: H - 12 }, num(logx ? 10 ** x0 : x0)), svgEl("text", { x: W - R, y: H - 12, "text-anchor": "end" }, num(logx ? 10 ** x1 : x1)));
  const line = (ps, attrs) => { if (ps.length) svg.append(svgEl("path", { d: ps.sort((a, b) => a[key] - b[key]).map((p, i) => `${i ? "L" : "M"}${sx(p[key]).toFixed(1)},${sy(p.accuracy).toFixed(1)}`).join(""), fill: "none", ...attrs })); };
  line(pts.filter((p) => p["pareto_" + key]), { stroke: "#e08600", "stroke-width": 1.5, class: "front" });
  line(sw.filter((t) => t["pareto_" + key]), { stroke: SWEEP_COLOR, "stroke-width": 1.5, "stroke-dasharray": "4 3", class: "sweep-front-line" });
  const col = { model: "#1f6feb", ptq: "#6b7480", run: "#2e7d32" };
  for (const p of pts) {
    const c = svgEl("circle", { cx: sx(p[key]), cy: sy(p.accuracy), r: p["pareto_" + key] ? 5 : 3.5, fill: p.fits ? col[p.kind] : "#fff", stroke: col[p.kind], "stroke-width": 1.5, class: "pt" });
    c.append(svgEl("title", {}, `${p.label}: ${p.network} ${p.bits}, ${pct(p.accuracy)}, ${num(p[key])} ${xlabel}${p.fits ? "" : " (does not fit)"}`));
    svg.append(c);
  }
  for (const t of sw) {  // diamonds; the sweep's own front larger, outlined
    const front = t["pareto_" + key], r = front ? 6 : 4, x = sx(t[key]), y = sy(t.accuracy);
    const d = svgEl("path", { d: `M${x},${y - r}L${x + r},${y}L${x},${y + r}L${x - r},${y}Z`, fill: t.fits === false ? "#fff" : SWEEP_COLOR, "fill-opacity": front ? 0.9 : 0.55, stroke: front ? "#000" : SWEEP_COLOR, "stroke-width": front ? 1.2 : 1, class: "sweep-pt" + (front ? " sweep-front" : ""), "data-trial": t.trial });
    d.append(svgEl("title", {}, `${sweepLabel(t)} (hidden ${t.hidden.join("-")}), accuracy ${pct(t.accuracy)}, ${num(t[key])} ${key === "lut4" ? "SB_LUT4 (synthesis" + (t.synth ? ", " + t.synth : "") + ")" : "weight memory bits"}${t.fits === false ? " (does not fit)" : ""}${front ? "; on the sweep's Pareto front" : ""}`));
    svg.append(d);
  }
}

function drawPareto() {
  const pts = state.paretoPts || [], trials = state.sweep ? state.sweep.trials : [];
  scatter($("#pareto-lut"), pts, "lut4", "SB_LUT4 (estimate; sweep: synthesis)", false, trials);
  scatter($("#pareto-mem"), pts, "memory_bits", "weight memory bits (log)", true, trials);
}

async function refreshPareto() {
  try {
    state.paretoPts = await api("GET", "/api/pareto?device=" + encodeURIComponent($("#device").value || "up5k"));
    drawPareto();
  } catch (e) { $("#fpga-error").textContent = e.message; }
  loadSweeps();
}

async function loadSweeps() {
  const sel = $("#sweep"), keep = sel.value;
  let list;
  try { list = await api("GET", "/api/sweeps"); } catch (e) { $("#sweep-info").textContent = e.message; return; }
  sel.innerHTML = "";
  sel.append(el("option", { value: "" }, list.length ? "(none)" : "(no sweep found)"));
  for (const s of list) sel.append(el("option", { value: s.id }, s.error ? `${s.id} (unreadable)` : `${s.id}: ${s.trials} trials (${s.counts.ok} ok)`));
  if (list.some((s) => s.id === keep)) sel.value = keep;
}

async function selectSweep() {
  const id = $("#sweep").value, info = $("#sweep-info");
  state.sweep = null; info.innerHTML = "";
  if (id) {
    try { state.sweep = await api("GET", "/api/sweeps/" + encodeURIComponent(id)); } catch (e) { info.append(el("span", { class: "error", id: "sweep-error" }, e.message)); }
  }
  if ($("#sweep").value !== id) return;  // another sweep was chosen meanwhile
  drawPareto();
  if (!state.sweep) return;
  const ts = state.sweep.trials, ok = ts.filter((t) => t.status === "ok"), names = (xs) => xs.map((t) => t.trial).join(", ") || "none";
  const noLut = ok.filter((t) => t.lut4 == null);
  info.append(el("div", {}, `sweep ${state.sweep.name} (${state.sweep.dir}): ${ts.length} trials, ${ok.length} finished and drawn`),
    el("div", { id: "sweep-front" }, `Pareto front: vs LUT4 ${names(ok.filter((t) => t.pareto_lut4))}; vs memory bits ${names(ok.filter((t) => t.pareto_memory_bits))}`));
  if (noLut.length) info.append(el("div", { id: "sweep-missing" }, `no LUT4 (not synthesised), missing from the LUT4 chart: ${noLut.map((t) => `${t.trial} (${t.bits} ${t.network}, ${pct(t.accuracy)})`).join(", ")}`));
  const failed = ts.filter((t) => t.status === "error"), unfinished = ts.filter((t) => t.status === "unfinished");
  if (failed.length) info.append(el("div", {}, "failed, not drawn:"), el("ul", { id: "sweep-failed" }, ...failed.map((t) => el("li", { "data-trial": t.trial }, `${sweepLabel(t)}: ${t.error || "no error line"}`))));
  if (unfinished.length) info.append(el("div", { id: "sweep-unfinished" }, `unfinished, not drawn: ${names(unfinished)}`));
}

// ------------------------------------------------------------------------------------ start
document.querySelectorAll("nav button").forEach((b) => b.addEventListener("click", () => showTab(b.dataset.tab)));
$("#train-form").addEventListener("submit", startTraining);
$("#stop-run").addEventListener("click", async () => { try { showRunJob(await api("POST", `/api/jobs/${state.run}/cancel`)); } catch (e) { $("#run-error").textContent = e.message; } });
$("#resume-run").addEventListener("click", async () => { try { await api("POST", `/api/jobs/${state.run}/resume`); selectRun(state.run); loadRuns(); } catch (e) { $("#run-error").textContent = e.message; } });
$("#cancel-synth").addEventListener("click", async () => { try { renderSynth(await api("POST", `/api/jobs/${state.synth}/cancel`)); } catch (e) { $("#synth-error").textContent = e.message; } });
["#source", "#device", "#lanes", "#lif-lanes"].forEach((s) => $(s).addEventListener("change", refreshFpga));
document.querySelectorAll("input[name=tbits]").forEach((r) => r.addEventListener("change", refreshFpga));
$("#synthesise").addEventListener("click", synthesise);
$("#finetune").addEventListener("click", finetune);
$("#run-rtl").addEventListener("click", runRtl);
$("#device").addEventListener("change", refreshPareto);
$("#sweep").addEventListener("change", selectSweep);

readHash();
loadModels();
loadRuns().then(() => { if (state.run) selectRun(state.run); });
loadSynthRuns().then(() => { if (state.synth) selectSynth(state.synth); });
showTab(state.tab);
setInterval(() => { loadRuns(); loadSynthRuns(); }, 3000);
