// The practice app: one hearth-ml tracer over the MathE learning bundle and the learner's
// answers (IndexedDB). After every answer the page shows at once the new mastery per topic
// (estimate ± SD), the next question (predicted success nearest the target, or the most
// informative one in the placement test) with why it was chosen, and the review queue. Every
// number shown is the engine's or measured here (performance.now, Resource Timing).
import { Hearth } from 'hearth-ml';
import { exercise, isCorrect, SUBTOPICS } from './exercises.js';
import { $, el, ms, bytes, showRequests, download, showAttribution, registerServiceWorker } from './site.js';

/* global __TRACER__ */
const BUNDLE = { ...__TRACER__, href: new URL(__TRACER__.url, document.baseURI).href };
/** Recent answers never offered again at once (the engine itself leaves out the last one). */
const RECENT = 4;
/** The θ range the bars show (the engine's grid is wider; ±3 holds nearly every learner). */
const THETA = 3;

let hearth, tracer, learner;
let loadedAt = 0;
const byId = new Map();
let answers = []; // { question, correct, ts } of this learner, oldest first
let current; // { q, pick, ex, variant }
let history = []; // overall ability { mean, sd, answered } after each answer of this visit
let answeredAt; // performance.now() of the answer whose result is being rendered
const settings = { mode: 'practice', target: 0.7, topic: '' };

// ---------- small helpers ----------

const pct = (p) => `${Math.round(p * 100)}%`;
const signed = (x) => (x < 0 ? `−${(-x).toFixed(2)}` : `+${x.toFixed(2)}`);
const levelName = (q) => q.levelName ?? `level ${q.level}`;
const where = (q) => `${q.topic}${q.skill && q.skill !== q.topic ? ` › ${q.skill}` : ''}`;
/** How far `x` (θ) sits along the bar, as a percentage of its width. */
const along = (x) => (Math.max(-THETA, Math.min(THETA, x)) + THETA) / (2 * THETA) * 100;

function when(dueMs, now = Date.now()) {
  const d = (dueMs - now) / 86400000;
  if (d <= 0) return 'due now';
  if (d < 1 / 24) return `in ${Math.max(1, Math.round(d * 1440))} min`;
  if (d < 1) return `in ${Math.round(d * 24)} h`;
  return `in ${Math.round(d)} day${Math.round(d) === 1 ? '' : 's'}`;
}

// ---------- the question ----------

/** The exercise shown for `q`: a new variant each time the learner meets the question again. */
function present(q, pick) {
  const variant = answers.filter((a) => a.question === q.id).length;
  const ex = exercise({ id: q.id, subtopic: q.skill, level: q.level }, variant);
  current = { q, pick, ex, variant };
  const art = $('#question');
  art.dataset.id = q.id;
  art.dataset.topic = q.topic;
  art.dataset.skill = q.skill;
  art.dataset.level = String(q.level);
  art.dataset.difficulty = String(q.difficulty);
  art.dataset.variant = String(variant);
  art.dataset.p = String(pick.pCorrect);
  art.dataset.kind = ex ? 'exercise' : 'card';
  art.dataset.mode = settings.mode;
  const head = el('p', { class: 'q-meta' },
    el('span', { class: 'q-where', text: where(q) }), ' · ',
    el('span', { class: `level level-${q.level > 0 ? 'adv' : 'basic'}`, text: levelName(q) }), ' · ',
    el('span', { text: `MathE question ${q.id}` }));
  const keywords = q.keywords?.length ? el('p', { class: 'small', text: `MathE keywords: ${q.keywords.join(', ')}` }) : null;
  if (ex) {
    const input = el('input', { id: 'answer', name: 'answer', type: 'text', inputmode: 'decimal', autocomplete: 'off', required: true, 'aria-describedby': 'answer-help' });
    art.replaceChildren(head,
      el('p', { class: 'prompt', id: 'prompt', text: ex.prompt }), keywords,
      el('form', { class: 'answer-form', id: 'answer-form', onsubmit: (ev) => { ev.preventDefault(); submit(isCorrect(current.ex, input.value), input.value); } },
        el('label', { for: 'answer', text: 'Your answer' }), input,
        el('button', { type: 'submit', class: 'primary', id: 'check', text: 'Check' }),
        el('button', { type: 'button', id: 'dont-know', text: 'I don\'t know', onclick: () => submit(false, '') })),
      el('p', { id: 'answer-help', class: 'small', text: 'A number: an integer, a decimal or a fraction such as 3/8.' }));
  } else {
    // a subtopic without a generator: a practice card the learner marks
    art.replaceChildren(head,
      el('p', { class: 'prompt', text: `Practice card: work a ${levelName(q).toLowerCase()} exercise on ${where(q)}${q.keywords?.length ? ` (${q.keywords.join(', ')})` : ''}, then say how it went.` }),
      el('div', { class: 'row' },
        el('button', { type: 'button', class: 'primary', id: 'mark-right', text: 'I got it right', onclick: () => submit(true, 'marked right') }),
        el('button', { type: 'button', id: 'mark-wrong', text: 'I got it wrong', onclick: () => submit(false, 'marked wrong') })));
  }
  renderWhy();
}

function renderWhy() {
  const { q, pick, offered = [] } = current;
  const p = pick.pCorrect;
  const because = pick.review
    ? `From your review queue, chosen by you. Predicted chance you get it right: ${pct(p)}.`
    : settings.mode === 'assess'
    ? `Placement test: of the questions${settings.topic ? ` in ${settings.topic}` : ''}, this one tells the most about your ability right now (Fisher information ${(pick.information ?? 0).toFixed(3)}). Predicted chance you get it right: ${pct(p)}.`
    : Math.abs(p - settings.target) <= 0.1
      ? `Predicted chance you get it right: ${pct(p)}, the closest to your target of ${pct(settings.target)}${settings.topic ? ` in ${settings.topic}` : ' in its topic, and the topics take turns'} (questions you just answered are left out).`
      : `Predicted chance you get it right: ${pct(p)}. No question${settings.topic ? ` in ${settings.topic}` : ''} is closer to your target of ${pct(settings.target)} for you right now: the bank has no ${p < settings.target ? 'easier' : 'harder'} ones.`;
  const why = $('#why');
  why.replaceChildren(el('strong', { text: pick.reason ?? `P(correct) ${p.toFixed(2)} — practises ${where(q)}` }), el('br'), because);
  why.dataset.reason = pick.reason ?? '';
  $('#candidates').replaceChildren(...offered.map((c) => {
    const cq = byId.get(c.question);
    return el('li', { dataset: { id: cq.id, p: String(c.pCorrect), information: String(c.information ?? '') } },
      `${pct(c.pCorrect)} · ${where(cq)} (${levelName(cq)}, #${cq.id})`,
      cq.id === q.id ? el('span', { class: 'small', text: ' ← shown' }) : null);
  }));
}

/** Asks the engine for the next questions and shows the first. */
async function pickNext() {
  const recent = answers.slice(-RECENT).map((a) => a.question);
  const options = { k: 5, mode: settings.mode, exclude: [...new Set(recent)] };
  if (settings.mode === 'practice') options.targetSuccess = settings.target;
  if (settings.topic) options.topic = settings.topic;
  const offered = await learner.next(options);
  if (!offered.length) {
    $('#question').replaceChildren(el('p', { text: 'No question left to offer with these settings.' }));
    return;
  }
  const first = offered[0];
  present(byId.get(first.question), first);
  current.offered = offered;
  renderWhy();
}

/** One answer: recorded, then mastery, the next question and the review queue, at once. */
async function submit(correct, typed) {
  if (!current || submit.busy) return;
  submit.busy = true;
  try {
    answeredAt = performance.now();
    const { q, ex } = current;
    const ts = Date.now();
    await learner.observe({ question: q.id, correct, ts });
    answers.push({ question: q.id, correct, ts });
    const fb = $('#feedback');
    fb.dataset.correct = String(correct);
    fb.dataset.id = q.id;
    fb.replaceChildren(
      el('strong', { text: correct ? 'Right.' : typed === '' ? 'Skipped (counted as not known).' : 'Not quite.' }), ' ',
      ex ? `“${ex.prompt}”: ${+ex.answer.toFixed(4)} (${ex.solution}).` : `${where(q)} marked ${correct ? 'right' : 'wrong'}.`);
    await Promise.all([renderMastery(true), pickNext(), renderReviews()]);
    renderPrivacy();
    showUpdate();
    $('#answer')?.focus();
  } finally {
    submit.busy = false;
  }
}

function showUpdate() {
  if (answeredAt === undefined) return;
  const d = performance.now() - answeredAt;
  const u = $('#update-latency');
  u.textContent = ms(d);
  u.dataset.ms = String(d);
  answeredAt = undefined;
}

// ---------- mastery, ability, reviews ----------

async function renderMastery(afterAnswer = false) {
  const m = await learner.mastery();
  const a = m.ability;
  if (afterAnswer || !history.length) history.push({ mean: a.mean, sd: a.sd, answered: a.answered });
  const ab = $('#ability');
  ab.dataset.mean = String(a.mean);
  ab.dataset.sd = String(a.sd);
  ab.dataset.answered = String(a.answered);
  const n = a.answered;
  ab.replaceChildren(el('strong', { text: `${signed(a.mean)} ± ${a.sd.toFixed(2)}` }),
    ` after ${n} answer${n === 1 ? '' : 's'}`,
    ...(Number.isFinite(a.lo) ? [el('span', { class: 'small', text: ` (95% between ${signed(a.lo)} and ${signed(a.hi)})` })] : []));
  renderChart();
  $('#mastery').replaceChildren(...m.topics.map((t) => {
    const lo = along(t.mean - t.sd), hi = along(t.mean + t.sd);
    const bar = el('span', { class: 'bar', 'aria-hidden': 'true' },
      el('span', { class: 'band', dataset: { lo: String(lo), hi: String(hi) } }),
      el('span', { class: 'mark' }), el('span', { class: 'zero' }));
    // geometry through the CSSOM (no inline style attribute under a strict CSP)
    bar.style.setProperty('--lo', `${lo}%`);
    bar.style.setProperty('--hi', `${hi}%`);
    bar.style.setProperty('--at', `${along(t.mean)}%`);
    return el('li', { dataset: { topic: t.topic, mean: String(t.mean), sd: String(t.sd), answered: String(t.answered), pMastery: String(t.pMastery ?? '') } },
      el('span', { class: 'bar-label' }, el('span', { class: 'bar-topic', text: t.topic }),
        el('span', { class: 'bar-value', text: `${signed(t.mean)} ± ${t.sd.toFixed(2)} · ${t.answered} answered` })),
      bar);
  }));
}

function renderChart() {
  const svg = $('#ability-chart');
  const title = svg.querySelector('title');
  const W = 300, H = 90, n = Math.max(history.length, 2);
  const x = (i) => 10 + (i * (W - 20)) / (n - 1);
  const y = (t) => H - 8 - along(t) / 100 * (H - 16);
  const band = history.map((h, i) => `${x(i)},${y(h.mean + h.sd)}`).concat(history.map((h, i) => `${x(i)},${y(h.mean - h.sd)}`).reverse()).join(' ');
  svg.replaceChildren(title,
    el('line', { x1: 10, x2: W - 10, y1: y(0), y2: y(0), class: 'axis' }),
    history.length > 1 ? el('polygon', { points: band, class: 'band' }) : null,
    el('polyline', { points: history.map((h, i) => `${x(i)},${y(h.mean)}`).join(' '), class: 'mean' }));
  $('#ability-history').replaceChildren(...history.map((h) => el('li', { dataset: { mean: String(h.mean), sd: String(h.sd) },
    text: `after ${h.answered}: ${signed(h.mean)} ± ${h.sd.toFixed(2)}` })));
}

/** Shows a question of the review queue now, with its prediction. */
async function review(q, card) {
  const p = await learner.predict(q.id);
  present(q, { ...p, review: true, reason: `Review: ${when(card.due)}, recall now ${pct(card.retrievability)} — practises ${where(q)}` });
  current.offered = [];
  renderWhy();
  $('#answer')?.focus();
}

async function renderReviews() {
  const now = Date.now();
  const cards = await learner.due({ now, all: true });
  const ol = $('#reviews');
  ol.replaceChildren(...cards.slice(0, 12).map((c) => {
    const q = byId.get(c.question);
    return el('li', { dataset: { id: q.id, due: String(c.due), r: String(c.retrievability) } },
      el('span', { class: 'review-what', text: `${where(q)} (#${q.id})` }),
      el('span', { class: 'small', text: ` ${when(c.due, now)} · ${new Date(c.due).toLocaleDateString('en-GB', { day: 'numeric', month: 'short', year: 'numeric' })} · recall now ${pct(c.retrievability)}` }),
      ' ', el('button', { type: 'button', class: 'link', 'aria-label': `Review question ${q.id} now`, text: 'Review now',
        onclick: () => review(q, c) }));
  }));
  if (!cards.length) ol.append(el('li', { class: 'small', text: 'Nothing scheduled yet: answered questions appear here with their next review date.' }));
  else if (cards.length > 12) ol.append(el('li', { class: 'small', text: `… and ${cards.length - 12} more.` }));
}

// ---------- panels ----------

function renderPrivacy() {
  const n = $('#answer-count');
  n.textContent = String(answers.length);
  n.dataset.count = String(answers.length);
  $('#answer-list').replaceChildren(...answers.slice(-5).reverse().map((a) => {
    const q = byId.get(a.question);
    return el('li', {}, el('strong', { text: a.correct ? 'right' : 'wrong' }), ` ${q ? where(q) : a.question} #${a.question} · ${new Date(a.ts).toLocaleTimeString()}`);
  }));
}

function renderRequests() {
  if (loadedAt) showRequests(loadedAt);
}

function renderEngine(load) {
  const info = tracer.info;
  const model = { irt1pl: 'IRT 1PL (Rasch)', irt2pl: 'IRT 2PL', elo: 'Elo' }[info.model] ?? info.model;
  $('#model-info').textContent = `${info.numQuestions.toLocaleString('en')} questions, ${info.topics.length} topics; ${model} with Elo for unfitted questions, BKT per topic, FSRS-6 reviews`;
  $('#model-size').textContent = `${bytes(BUNDLE.size)} (${BUNDLE.size.toLocaleString('en')} B), ready in ${ms(load.ms)}`;
  const c = $('#cache-status');
  c.dataset.cache = load.downloaded ? 'network' : 'cache';
  c.textContent = load.downloaded ? 'Downloaded on this visit, now kept in the Cache API (hearth-ml-v1)' : 'Loaded from the Cache API: no download';
  $('#idb-name').textContent = `hearth-ml-learner:${tracer.name}:${learner.id}`;
}

// ---------- start ----------

async function startEngine(onProgress) {
  const t0 = performance.now();
  // on the page's thread, as the shop: one answer is microseconds of wasm, less than a worker's round trip
  hearth = await Hearth.init({ backend: 'cpu', worker: false });
  tracer = await hearth.loadTracer(BUNDLE.url, { integrity: BUNDLE.integrity, onProgress });
  learner = await tracer.learner();
  loadedAt = performance.now();
  const dl = performance.getEntriesByType('resource').filter((e) => e.name === BUNDLE.href && e.startTime >= t0);
  return { ms: loadedAt - t0, downloaded: dl.length > 0 };
}

async function main() {
  const progress = $('#progress');
  const onProgress = (loaded, total) => { progress.value = total ? loaded / total : 0; };
  const [sw, load] = await Promise.all([registerServiceWorker(), startEngine(onProgress)]);
  document.body.dataset.sw = sw;
  for (const q of tracer.questions()) byId.set(q.id, q);
  answers = await learner.answers();
  $('#bank-size').textContent = byId.size.toLocaleString('en');
  $('#generated-subtopics').textContent = SUBTOPICS.join('; ');
  const topics = [...new Set([...byId.values()].map((q) => q.topic))].sort();
  $('#topic').append(...topics.map((t) => el('option', { value: t, text: t })));
  showAttribution(tracer.attribution);
  renderEngine(load);
  renderPrivacy();
  new PerformanceObserver(renderRequests).observe({ type: 'resource', buffered: true });

  const controls = $('#practice-controls');
  controls.addEventListener('submit', (ev) => ev.preventDefault());
  for (const r of document.querySelectorAll('input[name=mode]')) {
    r.addEventListener('change', async (ev) => {
      settings.mode = ev.target.value;
      document.body.dataset.mode = settings.mode;
      $('#target').disabled = settings.mode === 'assess';
      history = history.slice(-1);
      await Promise.all([renderMastery(), pickNext()]);
    });
  }
  $('#target').addEventListener('input', async (ev) => {
    settings.target = Number(ev.target.value);
    $('#target-out').textContent = pct(settings.target);
    await pickNext();
  });
  $('#topic').addEventListener('change', async (ev) => {
    settings.topic = ev.target.value;
    await pickNext();
  });
  $('#export').addEventListener('click', async () => {
    download(await learner.export(), 'hearth-practice-my-data.json');
    $('#privacy-status').textContent = `Exported ${answers.length} answers.`;
  });
  $('#erase').addEventListener('click', async () => {
    await learner.clear();
    answers = [];
    history = [];
    $('#feedback').replaceChildren();
    delete $('#feedback').dataset.correct;
    await Promise.all([renderMastery(), pickNext(), renderReviews()]);
    renderPrivacy();
    $('#privacy-status').textContent = 'Erased: the IndexedDB database is gone; the model is back to a new learner.';
  });

  await Promise.all([renderMastery(), pickNext(), renderReviews()]);
  $('#status').textContent = '';
  $('#status').hidden = true;
  document.body.dataset.ready = 'true';
}

main().catch((e) => {
  console.error(e);
  $('#status').textContent = `The practice app could not start: ${e.code ?? e.name}: ${e.message}`;
  document.body.dataset.error = e.code ?? e.name;
});
