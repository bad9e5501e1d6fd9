// The practice app's generated exercises (src/exercises.js), in Node: every subtopic at both
// levels gives well-formed exercises whose stated answer is accepted and a wrong one refused;
// for the subtopics whose prompt can be read back (matrices, linear systems, statistics, sets,
// graphs, complex numbers, polynomials, integrals, eigenvalues, ranks) the answer is recomputed
// from the prompt text by independent means (permutation-sum determinants, Cramer's rule,
// central differences, Simpson's rule, the quadratic formula, floating-point elimination).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exercise, isCorrect, parseAnswer, SUBTOPICS, rank } from '../src/exercises.js';

const VARIANTS = 200;
const all = (sub, level) => Array.from({ length: VARIANTS }, (_, v) => exercise({ id: String(100 + v), subtopic: sub, level }, v));
const n = (s) => Number(s.replace(/\u2212/g, '-'));
const ints = (s) => (s.match(/[−-]?\d+/g) ?? []).map(n);
const close = (a, b, tol = 1e-6) => Math.abs(a - b) <= tol * Math.max(1, Math.abs(b));

/** "−2x³ + 6x − 1" → coefficients by power. */
function poly(s, v = 'x') {
  const c = [0, 0, 0, 0, 0];
  const sup = { '': 1, '²': 2, '³': 3 };
  for (const t of s.replace(/\u2212/g, '-').replace(/\s+/g, '').match(/[+-]?[^+-]+/g)) {
    const m = new RegExp(`^([+-]?)(\\d*)(${v}([²³]?))?$`).exec(t);
    assert.ok(m, `term ${t} of ${s}`);
    const k = (m[1] === '-' ? -1 : 1) * (m[2] === '' ? 1 : Number(m[2]));
    c[m[3] ? sup[m[4]] : 0] += k;
  }
  return (x) => c.reduce((a, ci, p) => a + ci * x ** p, 0);
}
const matrixOf = (s) => /\[(.*)\]/.exec(s)[1].split(';').map(ints);
function det(m) {
  // the permutation (Leibniz) sum
  const idx = m.map((_, i) => i);
  const perms = (a) => (a.length <= 1 ? [a] : a.flatMap((x, i) => perms([...a.slice(0, i), ...a.slice(i + 1)]).map((p) => [x, ...p])));
  return perms(idx).reduce((s, p) => {
    let inv = 0;
    for (let i = 0; i < p.length; i++) for (let j = i + 1; j < p.length; j++) if (p[i] > p[j]) inv++;
    return s + (inv % 2 ? -1 : 1) * p.reduce((a, j, i) => a * m[i][j], 1);
  }, 0);
}
function floatRank(m) {
  const a = m.map((r) => r.map(Number));
  let r = 0;
  for (let c = 0; c < a[0].length && r < a.length; c++) {
    let p = r;
    for (let i = r + 1; i < a.length; i++) if (Math.abs(a[i][c]) > Math.abs(a[p][c])) p = i;
    if (Math.abs(a[p][c]) < 1e-9) continue;
    [a[r], a[p]] = [a[p], a[r]];
    for (let i = r + 1; i < a.length; i++) {
      const f = a[i][c] / a[r][c];
      for (let j = c; j < a[0].length; j++) a[i][j] -= f * a[r][j];
    }
    r++;
  }
  return r;
}

test('every subtopic at both levels: well-formed prompts, the answer accepted, a wrong one refused', () => {
  assert.equal(SUBTOPICS.length, 24);
  for (const sub of SUBTOPICS) {
    for (const level of ['Basic', 'Advanced']) {
      const seen = new Set();
      for (const ex of all(sub, level)) {
        assert.ok(Number.isFinite(ex.answer), `${sub}/${level}: ${ex.prompt} → ${ex.answer}`);
        assert.doesNotMatch(ex.prompt, /NaN|undefined|Infinity|--|\+ −|− −|\+ \+|\(\)|\s{2}/, `${sub}/${level}: ${ex.prompt}`);
        assert.doesNotMatch(ex.solution, /NaN|undefined|Infinity/, `${sub}/${level}: ${ex.solution}`);
        assert.ok(isCorrect(ex, String(ex.answer)), `${sub}/${level}: ${ex.answer} accepted`);
        assert.ok(!isCorrect(ex, String(ex.answer + 1)), `${sub}/${level}: ${ex.answer + 1} refused`);
        assert.ok(!isCorrect(ex, ''), 'an empty answer is wrong');
        seen.add(ex.prompt);
      }
      assert.ok(seen.size >= 10, `${sub}/${level}: ${seen.size} different prompts in ${VARIANTS} variants`);
    }
  }
  // the same question and variant give the same exercise; MathE's level may come as an index
  assert.deepEqual(exercise({ id: '7', subtopic: 'Statistics', level: 1 }, 3), exercise({ id: '7', subtopic: 'Statistics', level: 'Advanced' }, 3));
  assert.notDeepEqual(exercise({ id: '7', subtopic: 'Statistics', level: 0 }, 3), exercise({ id: '7', subtopic: 'Statistics', level: 1 }, 3));
  assert.equal(exercise({ id: '7', subtopic: 'Knitting', level: 0 }), null, 'no generator: the page shows a practice card');
  // MathE's "Probability " carries a trailing space
  assert.ok(exercise({ id: '7', subtopic: 'Probability ', level: 0 }));
});

test('answers are parsed as integers, decimals (point or comma) and fractions', () => {
  assert.equal(parseAnswer('−3'), -3);
  assert.equal(parseAnswer(' 3/8 '), 0.375);
  assert.equal(parseAnswer('0,75'), 0.75);
  assert.equal(parseAnswer('-1.5/3'), -0.5);
  assert.ok(Number.isNaN(parseAnswer('1/0')));
  assert.ok(Number.isNaN(parseAnswer('x = 3')));
  assert.ok(Number.isNaN(parseAnswer('')));
  const p = exercise({ id: '12', subtopic: 'Probability', level: 0 });
  const [r, b] = ints(p.prompt);
  assert.ok(isCorrect(p, `${r}/${r + b}`) && isCorrect(p, (r / (r + b)).toFixed(2)));
});

test('answers recomputed from the prompt text by independent means', () => {
  for (const ex of [...all('Matrices and Determinants', 'Basic'), ...all('Matrices and Determinants', 'Advanced')]) {
    assert.equal(det(matrixOf(ex.prompt)), ex.answer, ex.prompt);
  }
  for (const level of ['Basic', 'Advanced']) {
    for (const ex of all('Linear Systems', level)) {
      const [e1, e2] = ex.prompt.split('. Give')[0].split(';').map((e) => e.split('='));
      const read = ([lhs, rhs]) => {
        const s = lhs.replace(/\u2212/g, '-').replace(/\s+/g, '');
        const get = (v) => { const m = new RegExp(`([+-]?\\d*)${v}`).exec(s); return m ? (m[1] === '' || m[1] === '+' ? 1 : m[1] === '-' ? -1 : Number(m[1])) : 0; };
        return [get('x'), get('y'), n(rhs.trim())];
      };
      const [[a, b, c], [d, e, f]] = [read(e1), read(e2)];
      const D = a * e - b * d;
      const x = (c * e - b * f) / D, y = (a * f - c * d) / D;
      assert.ok(close(level === 'Basic' ? x : x + y, ex.answer), `${ex.prompt}: x=${x}, y=${y}, stated ${ex.answer}`);
    }
  }
  for (const ex of all('Statistics', 'Basic')) {
    const xs = ints(ex.prompt).sort((p, q) => p - q);
    assert.equal(ex.answer, xs[(xs.length - 1) / 2], ex.prompt);
  }
  for (const ex of all('Statistics', 'Advanced')) {
    const xs = ints(ex.prompt);
    const m = xs.reduce((s, x) => s + x, 0) / xs.length;
    assert.ok(close(ex.answer, xs.reduce((s, x) => s + x * x, 0) / xs.length - m * m, 1e-9), ex.prompt);
    assert.ok(isCorrect(ex, ex.answer.toFixed(2)), `${ex.prompt}: two decimals accepted`);
  }
  for (const level of ['Basic', 'Advanced']) {
    for (const ex of all('Set Theory', level)) {
      const [A, B] = [...ex.prompt.matchAll(/\{([^}]*)\}/g)].map((m) => new Set(ints(m[1])));
      const union = new Set([...A, ...B]);
      const sym = [...union].filter((x) => A.has(x) !== B.has(x));
      assert.equal(ex.answer, level === 'Basic' ? union.size : sym.length, ex.prompt);
    }
  }
  for (const ex of all('Graph Theory', 'Basic')) {
    const deg = ints(ex.prompt.split('degrees')[1]);
    assert.equal(ex.answer * 2, deg.reduce((s, d) => s + d, 0), ex.prompt);
  }
  for (const ex of all('Complex Numbers', 'Basic')) {
    const [[a, b], [c, d]] = [...ex.prompt.matchAll(/\(([^)]*)\)/g)].map((m) => { const [re, im] = m[1].split(/ (?=[+−] )/); return [n(re), n(im.replace(/[+\s]/g, '').replace('i', ''))]; });
    assert.equal(ex.answer, a * c - b * d, ex.prompt);
  }
  for (const ex of all('Derivatives', 'Basic')) {
    const [, f, x0] = /f\(x\) = (.*)\. Give f′\((.*)\)/.exec(ex.prompt);
    const F = poly(f), x = n(x0), h = 1e-4;
    assert.ok(close((F(x + h) - F(x - h)) / (2 * h), ex.answer, 1e-5), `${ex.prompt}: stated ${ex.answer}`);
  }
  for (const level of ['Basic', 'Advanced']) {
    for (const ex of all('Definite Integrals', level)) {
      const [, hi, f] = /∫₀\^(\d+) \((.*)\) dx/.exec(ex.prompt);
      const F = poly(f), b = Number(hi), N = 100;
      let s = F(0) + F(b);
      for (let i = 1; i < N; i++) s += (i % 2 ? 4 : 2) * F((i * b) / N);
      assert.ok(close((s * b) / (3 * N), ex.answer, 1e-9), `${ex.prompt}: Simpson gives ${(s * b) / (3 * N)}, stated ${ex.answer}`);
    }
  }
  for (const level of ['Basic', 'Advanced']) {
    for (const ex of all('Eigenvalues and Eigenvectors', level)) {
      const [[a, b], [c, d]] = matrixOf(ex.prompt);
      const tr = a + d, dt = a * d - b * c;
      assert.ok(close((tr + Math.sqrt(tr * tr - 4 * dt)) / 2, ex.answer), ex.prompt);
    }
  }
  const kernels = new Set();
  for (const ex of all('Linear Transformations', 'Advanced')) {
    const m = matrixOf(ex.prompt);
    assert.equal(ex.answer, 3 - floatRank(m), ex.prompt);
    assert.equal(rank(m), floatRank(m));
    kernels.add(ex.answer);
  }
  assert.deepEqual([...kernels].sort(), [0, 1, 2], 'kernels of every dimension 0–2 occur');
  for (const ex of all('Vector Spaces', 'Advanced')) {
    const vs = [...ex.prompt.matchAll(/\(([^)]*)\)/g)].map((m) => ints(m[1]));
    assert.equal(ex.answer, floatRank(vs), ex.prompt);
  }
});
