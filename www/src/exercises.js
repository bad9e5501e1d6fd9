// Answerable exercises for MathE's questions. MathE publishes no question text: each question
// has a topic, a subtopic, keywords and a level (Basic/Advanced). For each of MathE's 24
// subtopics this module generates a real exercise on that subtopic with one numeric answer,
// harder at the Advanced level, from a seed made of the question's id and a variant number (so a
// question seen again gets fresh numbers, and the tests can regenerate what the page showed).
// Pure: no DOM, no randomness but the seeded one; the tests import it in Node.

/** FNV-1a over the string's UTF-16 code units: a 32-bit seed. */
function hash(s) {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** Mulberry32: a small seeded PRNG with `int(lo, hi)` (inclusive), `pick(list)` and `sign()`. */
function rng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (lo, hi) => lo + Math.floor(next() * (hi - lo + 1));
  const nonzero = (lo, hi) => { let x = 0; while (x === 0) x = int(lo, hi); return x; };
  return { next, int, nonzero, pick: (l) => l[int(0, l.length - 1)], sign: () => (next() < 0.5 ? -1 : 1) };
}

/** "3x" / "−x" / "+ 2" style terms: `term(coef, 'x', first)`. */
function term(c, v = '', first = false) {
  if (c === 0) return '';
  const abs = Math.abs(c);
  const body = v && abs === 1 ? v : `${abs}${v}`;
  if (first) return (c < 0 ? '−' : '') + body;
  return ` ${c < 0 ? '−' : '+'} ${body}`;
}
/** a polynomial from [[coef, 'x²'], …], zero terms dropped. */
function poly(terms) {
  let s = '';
  for (const [c, v] of terms) if (c !== 0) s += term(c, v, s === '');
  return s || '0';
}
const num = (x) => (x < 0 ? `−${-x}` : String(x));
const paren = (x) => (x < 0 ? `(−${-x})` : String(x));
const PYTHAGOREAN = [[3, 4, 5], [5, 12, 13], [6, 8, 10], [8, 15, 17], [9, 12, 15], [7, 24, 25]];

/** The rank of an integer matrix (rows), by fraction-free Gaussian elimination (exact for small integers). */
export function rank(rows) {
  const m = rows.map((r) => r.slice());
  let r = 0;
  for (let c = 0; c < (m[0]?.length ?? 0) && r < m.length; c++) {
    const p = m.findIndex((row, i) => i >= r && row[c] !== 0);
    if (p < 0) continue;
    [m[r], m[p]] = [m[p], m[r]];
    for (let i = 0; i < m.length; i++) {
      if (i === r || m[i][c] === 0) continue;
      const f = m[i][c], g = m[r][c];
      m[i] = m[i].map((x, j) => x * g - m[r][j] * f);
    }
    r++;
  }
  return r;
}

/** A 3×3 integer matrix of rank `r` (1–3): r independent triangular rows, the rest combinations of them, shuffled. */
function matrixOfRank(R, r) {
  const base = [[R.nonzero(-3, 3), R.int(-3, 3), R.int(-3, 3)], [0, R.nonzero(-3, 3), R.int(-3, 3)], [0, 0, R.nonzero(-3, 3)]].slice(0, r);
  const rows = base.slice();
  while (rows.length < 3) {
    const a = R.nonzero(-2, 2), b = r > 1 ? R.int(-2, 2) : 0;
    rows.push(base[0].map((x, j) => a * x + b * (base[1]?.[j] ?? 0)));
  }
  for (let i = rows.length - 1; i > 0; i--) {
    const j = R.int(0, i);
    [rows[i], rows[j]] = [rows[j], rows[i]];
  }
  return rows;
}
const matrix = (rows) => `[${rows.map((r) => r.map(num).join(' ')).join('; ')}]`;

/**
 * One generator per MathE subtopic: `(R, advanced) => { prompt, answer, solution }`; `answer` is
 * a number (the learner may type a fraction like 3/8), `solution` the worked answer shown after.
 */
const GENERATORS = {
  'Algebraic expressions, Equations, and Inequalities': (R, adv) => {
    if (!adv) {
      const a = R.nonzero(-9, 9), x = R.int(-9, 9), b = R.int(-20, 20);
      return { prompt: `Solve for x: ${poly([[a, 'x'], [b, '']])} = ${num(a * x + b)}`, answer: x, solution: `x = (${num(a * x + b)} ${b < 0 ? '+' : '−'} ${Math.abs(b)}) / ${paren(a)} = ${num(x)}` };
    }
    const p = R.int(-8, 8);
    let q = R.int(-8, 8);
    if (q === p) q = p + R.nonzero(1, 5);
    const f = poly([[1, 'x²'], [-(p + q), 'x'], [p * q, '']]);
    return { prompt: `Give the larger solution of ${f} = 0`, answer: Math.max(p, q),
      solution: `${f} = (${poly([[1, 'x'], [-p, '']])})(${poly([[1, 'x'], [-q, '']])}): x = ${num(p)} or ${num(q)}, the larger is ${num(Math.max(p, q))}` };
  },
  'Analytic Geometry': (R, adv) => {
    const x1 = R.int(-6, 6), y1 = R.int(-6, 6);
    if (!adv) {
      const [a, b, c] = R.pick(PYTHAGOREAN);
      const [dx, dy] = R.next() < 0.5 ? [a, b] : [b, a];
      const x2 = x1 + R.sign() * dx, y2 = y1 + R.sign() * dy;
      return { prompt: `The distance between the points (${num(x1)}, ${num(y1)}) and (${num(x2)}, ${num(y2)})`, answer: c, solution: `√(${dx}² + ${dy}²) = √${dx * dx + dy * dy} = ${c}` };
    }
    const m = R.nonzero(-4, 4), dx = R.nonzero(1, 4);
    const x2 = x1 + dx, y2 = y1 + m * dx;
    const b = y1 - m * x1;
    return { prompt: `The line through (${num(x1)}, ${num(y1)}) and (${num(x2)}, ${num(y2)}) crosses the y-axis at y = ?`, answer: b, solution: `slope = ${num(y2 - y1)}/${dx} = ${num(m)}; y = ${num(m)}x + b with b = ${num(y1)} − ${paren(m)}·${paren(x1)} = ${num(b)}` };
  },
  'Complex Numbers': (R, adv) => {
    const a = R.int(-6, 6), b = R.nonzero(-6, 6), c = R.int(-6, 6), d = R.nonzero(-6, 6);
    const cx = (re, im) => `${num(re)} ${im < 0 ? '−' : '+'} ${Math.abs(im)}i`;
    const re = a * c - b * d, im = a * d + b * c;
    if (!adv) return { prompt: `The real part of (${cx(a, b)})(${cx(c, d)})`, answer: re, solution: `(${cx(a, b)})(${cx(c, d)}) = ${cx(re, im)}: real part ${num(re)}` };
    return { prompt: `|z|² for z = (${cx(a, b)})(${cx(c, d)})`, answer: re * re + im * im, solution: `|z|² = |${cx(a, b)}|²·|${cx(c, d)}|² = ${a * a + b * b}·${c * c + d * d} = ${re * re + im * im}` };
  },
  'Definite Integrals': (R, adv) => {
    const n = R.int(1, 4);
    if (!adv) {
      const a = 2 * R.nonzero(-4, 4), b = R.int(-5, 5);
      const v = (a * n * n) / 2 + b * n;
      return { prompt: `∫₀^${n} (${poly([[a, 'x'], [b, '']])}) dx`, answer: v, solution: `[${poly([[a / 2, 'x²'], [b, 'x']])}]₀^${n} = ${num(v)}` };
    }
    const a = R.nonzero(-3, 3), b = 2 * R.int(-3, 3);
    const v = a * n ** 3 + (b / 2) * n * n;
    return { prompt: `∫₀^${n} (${poly([[3 * a, 'x²'], [b, 'x']])}) dx`, answer: v, solution: `[${poly([[a, 'x³'], [b / 2, 'x²']])}]₀^${n} = ${num(v)}` };
  },
  Derivatives: (R, adv) => {
    const x0 = R.int(-3, 3);
    if (!adv) {
      const a = R.int(-4, 4), b = R.int(-5, 5), c = R.int(-6, 6);
      const v = 3 * a * x0 * x0 + 2 * b * x0 + c;
      return { prompt: `f(x) = ${poly([[a, 'x³'], [b, 'x²'], [c, 'x']])}. Give f′(${num(x0)})`, answer: v, solution: `f′(x) = ${poly([[3 * a, 'x²'], [2 * b, 'x'], [c, '']])}, f′(${num(x0)}) = ${num(v)}` };
    }
    // product rule: f(x) = (x² + p)(q·x + r)
    const p = R.int(-4, 4), q = R.nonzero(-3, 3), r = R.int(-5, 5);
    const v = 2 * x0 * (q * x0 + r) + (x0 * x0 + p) * q;
    return { prompt: `f(x) = (${poly([[1, 'x²'], [p, '']])})(${poly([[q, 'x'], [r, '']])}). Give f′(${num(x0)})`, answer: v, solution: `f′(x) = 2x(${poly([[q, 'x'], [r, '']])}) + ${paren(q)}(${poly([[1, 'x²'], [p, '']])}), f′(${num(x0)}) = ${num(v)}` };
  },
  'Differential Equations': (R, adv) => {
    if (!adv) {
      const a = R.nonzero(-5, 5), b = R.int(-9, 9), t = R.int(1, 5);
      return { prompt: `y′ = ${num(a)}, y(0) = ${num(b)}. Give y(${t})`, answer: b + a * t, solution: `y(t) = ${num(b)} ${a < 0 ? '−' : '+'} ${Math.abs(a)}t, y(${t}) = ${num(b + a * t)}` };
    }
    const k = R.int(1, 3), c = R.nonzero(-5, 5), m = R.int(2, 3);
    return { prompt: `y′ = ${k === 1 ? '' : k}y, y(0) = ${num(c)}. Give y(ln ${m})`, answer: c * m ** k, solution: `y(t) = ${num(c)}·e^(${k === 1 ? '' : k}t), y(ln ${m}) = ${num(c)}·${m}^${k} = ${num(c * m ** k)}` };
  },
  'Domain, Image and Graphics': (R, adv) => {
    const a = R.int(-6, 6);
    if (!adv) return { prompt: `The smallest x in the domain of f(x) = √(${poly([[1, 'x'], [-a, '']])})`, answer: a, solution: `${poly([[1, 'x'], [-a, '']])} ≥ 0 ⇔ x ≥ ${num(a)}` };
    const b = a + R.int(2, 8);
    return { prompt: `How many integers are in the domain of f(x) = √(${poly([[1, 'x'], [-a, '']])}) + ln(${poly([[b, ''], [-1, 'x']])})?`, answer: b - a, solution: `x ≥ ${num(a)} and x < ${num(b)}: the integers ${num(a)} … ${num(b - 1)}, ${b - a} of them` };
  },
  'Double Integration': (R, adv) => {
    const a = R.int(1, 4), b = R.int(1, 4);
    if (!adv) {
      const c = R.nonzero(-5, 5);
      return { prompt: `∫₀^${a} ∫₀^${b} ${num(c)} dy dx`, answer: a * b * c, solution: `${num(c)} × the area ${a}·${b} = ${num(a * b * c)}` };
    }
    const A = 2 * a, B = 2 * b;
    return { prompt: `∫₀^${A} ∫₀^${B} x·y dy dx`, answer: (A * A * B * B) / 4, solution: `(${A}²/2)·(${B}²/2) = ${(A * A * B * B) / 4}` };
  },
  'Eigenvalues and Eigenvectors': (R, adv) => {
    if (!adv) {
      const p = R.int(-6, 6), q = R.int(-5, 5), r = R.int(-6, 6);
      return { prompt: `The largest eigenvalue of the matrix ${matrix([[p, q], [0, r]])}`, answer: Math.max(p, r), solution: `a triangular matrix's eigenvalues are its diagonal: ${num(p)} and ${num(r)}` };
    }
    const a = R.int(-5, 5), b = R.nonzero(-5, 5);
    return { prompt: `The largest eigenvalue of the symmetric matrix ${matrix([[a, b], [b, a]])}`, answer: a + Math.abs(b), solution: `(${num(a)} − λ)² = ${b * b}: λ = ${num(a)} ± ${Math.abs(b)}, the largest ${num(a + Math.abs(b))}` };
  },
  'Elementary Geometry': (R, adv) => {
    if (!adv) {
      const b = 2 * R.int(1, 9), h = R.int(1, 12);
      return { prompt: `The area of a triangle with base ${b} and height ${h}`, answer: (b * h) / 2, solution: `${b}·${h}/2 = ${(b * h) / 2}` };
    }
    const [x, y, z] = R.pick(PYTHAGOREAN);
    const k = R.int(1, 3);
    return { prompt: `A right triangle has legs ${k * x} and ${k * y}. The length of its hypotenuse`, answer: k * z, solution: `√(${k * x}² + ${k * y}²) = ${k * z}` };
  },
  'Graph Theory': (R, adv) => {
    if (!adv) {
      const n = R.int(4, 7);
      const deg = Array.from({ length: n }, () => R.int(1, n - 1));
      if (deg.reduce((s, d) => s + d, 0) % 2) deg[0] = deg[0] === n - 1 ? deg[0] - 1 : deg[0] + 1;
      const e = deg.reduce((s, d) => s + d, 0) / 2;
      return { prompt: `A graph's vertices have degrees ${deg.join(', ')}. How many edges does it have?`, answer: e, solution: `the degrees sum to twice the edges: ${deg.reduce((s, d) => s + d, 0)}/2 = ${e}` };
    }
    const n = R.int(4, 16);
    if (R.next() < 0.5) return { prompt: `How many edges does the complete graph K${n} have?`, answer: (n * (n - 1)) / 2, solution: `every pair of the ${n} vertices: ${n}·${n - 1}/2 = ${(n * (n - 1)) / 2}` };
    const m = R.int(2, 9);
    return { prompt: `How many edges does the complete bipartite graph K${m},${n} have?`, answer: m * n, solution: `every vertex of one side to every vertex of the other: ${m}·${n} = ${m * n}` };
  },
  'Integration Techniques': (R, adv) => {
    if (!adv) {
      const k = R.int(1, 6), c = R.nonzero(-4, 4);
      return { prompt: `∫₁^(e^${k}) ${c === 1 ? '' : num(c)}/x dx`.replace(' /x', ' 1/x'), answer: c * k, solution: `${num(c)}·[ln x]₁^(e^${k}) = ${num(c)}·${k} = ${num(c * k)}` };
    }
    // substitution u = x² + c
    const a = 2 * R.int(1, 2), c = R.int(-3, 3);
    const v = ((a * a + c) ** 2 - c * c) / 2;
    return { prompt: `∫₀^${a} 2x(${poly([[1, 'x²'], [c, '']])}) dx (substitute u = ${poly([[1, 'x²'], [c, '']])})`, answer: v, solution: `[u²/2] from u = ${num(c)} to ${a * a + c}: (${(a * a + c) ** 2} − ${c * c})/2 = ${v}` };
  },
  'Limits and Continuity': (R, adv) => {
    if (!adv) {
      const c = R.nonzero(-4, 4), k = R.nonzero(-5, 5), b = R.int(-9, 9), d = R.int(-9, 9);
      return { prompt: `lim x→∞ (${poly([[k * c, 'x²'], [b, '']])}) / (${poly([[c, 'x²'], [d, 'x']])})`, answer: k, solution: `the ratio of the leading coefficients: ${num(k * c)}/${paren(c)} = ${num(k)}` };
    }
    const a = R.nonzero(-6, 6);
    return { prompt: `lim x→${num(a)} (x² − ${a * a}) / (${poly([[1, 'x'], [-a, '']])})`, answer: 2 * a, solution: `x² − ${a * a} = (${poly([[1, 'x'], [-a, '']])})(${poly([[1, 'x'], [a, '']])}): the limit is ${num(a)} + ${paren(a)} = ${num(2 * a)}` };
  },
  'Linear Optimization': (R, adv) => {
    const c1 = R.int(1, 6), c2 = R.int(1, 6);
    if (!adv) {
      const n = R.int(2, 12);
      return { prompt: `Maximise ${c1}x + ${c2}y subject to x + y ≤ ${n}, x ≥ 0, y ≥ 0`, answer: n * Math.max(c1, c2), solution: `the optimum is at a vertex: (${n}, 0) gives ${c1 * n}, (0, ${n}) gives ${c2 * n}; the maximum is ${n * Math.max(c1, c2)}` };
    }
    const p = R.int(2, 8), q = R.int(2, 8), n = R.int(Math.max(p, q), p + q - 1);
    const vertices = [[0, 0], [p, 0], [p, n - p], [n - q, q], [0, q]];
    const best = Math.max(...vertices.map(([x, y]) => c1 * x + c2 * y));
    return { prompt: `Maximise ${c1}x + ${c2}y subject to x ≤ ${p}, y ≤ ${q}, x + y ≤ ${n}, x ≥ 0, y ≥ 0`, answer: best, solution: `the vertices (0,0), (${p},0), (${p},${n - p}), (${n - q},${q}), (0,${q}): the maximum is ${best}` };
  },
  'Linear Systems': (R, adv) => {
    const x = R.int(-6, 6), y = R.int(-6, 6);
    let a, b, c, d;
    do {
      const m = adv ? 9 : 4;
      [a, b, c, d] = [R.int(-m, m), R.int(-m, m), R.int(-m, m), R.int(-m, m)];
    } while (a * d - b * c === 0 || (!adv && (a === 0 || d === 0)));
    const eq = (p, q, r) => `${poly([[p, 'x'], [q, 'y']])} = ${num(r)}`;
    return adv
      ? { prompt: `${eq(a, b, a * x + b * y)}; ${eq(c, d, c * x + d * y)}. Give x + y`, answer: x + y, solution: `x = ${num(x)}, y = ${num(y)}: x + y = ${num(x + y)}` }
      : { prompt: `${eq(a, b, a * x + b * y)}; ${eq(c, d, c * x + d * y)}. Give x`, answer: x, solution: `x = ${num(x)}, y = ${num(y)}` };
  },
  'Linear Transformations': (R, adv) => {
    if (!adv) {
      const [a, b, c, d] = [R.int(-4, 4), R.int(-4, 4), R.int(-4, 4), R.int(-4, 4)];
      const u = R.int(-3, 3), v = R.int(-3, 3);
      const t1 = a * u + b * v, t2 = c * u + d * v;
      return { prompt: `T(x, y) = (${poly([[a, 'x'], [b, 'y']])}, ${poly([[c, 'x'], [d, 'y']])}). Give the sum of the two components of T(${num(u)}, ${num(v)})`, answer: t1 + t2, solution: `T(${num(u)}, ${num(v)}) = (${num(t1)}, ${num(t2)}): the sum is ${num(t1 + t2)}` };
    }
    const r = R.int(1, 3), M = matrixOfRank(R, r);
    return { prompt: `The dimension of the kernel of the linear map ℝ³ → ℝ³ with matrix ${matrix(M)}`, answer: 3 - rank(M), solution: `rank ${rank(M)}, so dim ker = 3 − ${rank(M)} = ${3 - rank(M)}` };
  },
  'Matrices and Determinants': (R, adv) => {
    if (!adv) {
      const [a, b, c, d] = [R.int(-6, 6), R.int(-6, 6), R.int(-6, 6), R.int(-6, 6)];
      return { prompt: `det ${matrix([[a, b], [c, d]])}`, answer: a * d - b * c, solution: `${paren(a)}·${paren(d)} − ${paren(b)}·${paren(c)} = ${num(a * d - b * c)}` };
    }
    const m = Array.from({ length: 3 }, () => Array.from({ length: 3 }, () => R.int(-3, 3)));
    const det = m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
    return { prompt: `det ${matrix(m)}`, answer: det, solution: `expanding along the first row: ${num(det)}` };
  },
  'Nonlinear Optimization': (R, adv) => {
    const a = R.int(1, 4), p = R.int(-5, 5), q = R.int(-9, 9);
    if (!adv) return { prompt: `Which x minimises f(x) = ${poly([[a, 'x²'], [-2 * a * p, 'x'], [a * p * p + q, '']])}?`, answer: p, solution: `f′(x) = ${poly([[2 * a, 'x'], [-2 * a * p, '']])} = 0 at x = ${num(p)}` };
    const r = R.int(-5, 5);
    return { prompt: `The minimum value of f(x, y) = ${poly([[1, 'x²'], [-2 * p, 'x'], [1, 'y²'], [-2 * r, 'y'], [p * p + r * r + q, '']])}`, answer: q, solution: `f = (${poly([[1, 'x'], [-p, '']])})² + (${poly([[1, 'y'], [-r, '']])})² ${q < 0 ? '−' : '+'} ${Math.abs(q)}: the minimum ${num(q)} at (${num(p)}, ${num(r)})` };
  },
  'Numerical Methods': (R, adv) => {
    if (!adv) {
      const a = R.int(-8, 4), b = a + 2 * R.int(1, 5);
      return { prompt: `f is continuous with f(${num(a)}) < 0 < f(${num(b)}). The point bisection evaluates first`, answer: (a + b) / 2, solution: `the midpoint (${num(a)} + ${num(b)})/2 = ${num((a + b) / 2)}` };
    }
    // Newton on f(x) = x² − s from x0, chosen so the step is an integer
    const x0 = R.pick([2, 4, 6]), k = R.int(x0 / 2 + 1, 8), s = x0 * (2 * k - x0);
    const x1 = (x0 + s / x0) / 2;
    return { prompt: `One Newton step for f(x) = x² − ${s} from x₀ = ${x0}: x₁ = ?`, answer: x1, solution: `x₁ = x₀ − f(x₀)/f′(x₀) = (${x0} + ${s}/${x0})/2 = ${num(x1)}` };
  },
  'Partial Differentiation': (R, adv) => {
    const a = R.nonzero(-4, 4), b = R.nonzero(-4, 4), x0 = R.int(-3, 3), y0 = R.int(-3, 3);
    const f = `f(x, y) = ${poly([[a, 'x²y'], [b, 'xy²']])}`;
    if (!adv) return { prompt: `${f}. Give ∂f/∂x at (${num(x0)}, ${num(y0)})`, answer: 2 * a * x0 * y0 + b * y0 * y0, solution: `∂f/∂x = ${poly([[2 * a, 'xy'], [b, 'y²']])} = ${num(2 * a * x0 * y0 + b * y0 * y0)}` };
    return { prompt: `${f}. Give ∂²f/∂x∂y at (${num(x0)}, ${num(y0)})`, answer: 2 * a * x0 + 2 * b * y0, solution: `∂²f/∂x∂y = ${poly([[2 * a, 'x'], [2 * b, 'y']])} = ${num(2 * a * x0 + 2 * b * y0)}` };
  },
  Probability: (R, adv) => {
    const r = R.int(1, 6), b = R.int(1, 6), n = r + b;
    if (!adv) return { prompt: `A bag holds ${r} red and ${b} blue balls. P(a ball drawn at random is red)? (a fraction like 3/8 is fine)`, answer: r / n, solution: `${r}/${n}` };
    const rr = Math.max(r, 2);
    return { prompt: `A bag holds ${rr} red and ${b} blue balls. Two are drawn without replacement. P(both red)? (a fraction is fine)`, answer: (rr * (rr - 1)) / ((rr + b) * (rr + b - 1)), solution: `${rr}/${rr + b} · ${rr - 1}/${rr + b - 1} = ${rr * (rr - 1)}/${(rr + b) * (rr + b - 1)}` };
  },
  'Set Theory': (R, adv) => {
    const A = new Set(), B = new Set();
    while (A.size < R.int(3, 6)) A.add(R.int(1, 12));
    while (B.size < R.int(3, 6)) B.add(R.int(1, 12));
    const show = (S) => `{${[...S].sort((x, y) => x - y).join(', ')}}`;
    const inter = [...A].filter((x) => B.has(x)).length;
    if (!adv) return { prompt: `A = ${show(A)}, B = ${show(B)}. How many elements has A ∪ B?`, answer: A.size + B.size - inter, solution: `|A| + |B| − |A ∩ B| = ${A.size} + ${B.size} − ${inter} = ${A.size + B.size - inter}` };
    return { prompt: `A = ${show(A)}, B = ${show(B)}. How many elements has the symmetric difference A △ B?`, answer: A.size + B.size - 2 * inter, solution: `|A ∪ B| − |A ∩ B| = ${A.size + B.size - inter} − ${inter} = ${A.size + B.size - 2 * inter}` };
  },
  Statistics: (R, adv) => {
    const n = adv ? R.int(4, 6) : 2 * R.int(2, 3) + 1;
    const xs = Array.from({ length: n }, () => R.int(1, 20));
    if (!adv) {
      const sorted = xs.slice().sort((x, y) => x - y);
      return { prompt: `The median of ${xs.join(', ')}`, answer: sorted[n >> 1], solution: `sorted: ${sorted.join(', ')}; the middle value is ${sorted[n >> 1]}` };
    }
    const mean = xs.reduce((s, x) => s + x, 0) / n;
    const v = xs.reduce((s, x) => s + (x - mean) ** 2, 0) / n;
    return { prompt: `The population variance of ${xs.join(', ')} (two decimals)`, answer: v, tolerance: 0.006, solution: `mean ${+mean.toFixed(4)}, mean squared deviation ${+v.toFixed(4)}` };
  },
  'Vector Spaces': (R, adv) => {
    if (!adv) {
      const k = R.int(-3, 3), m = R.int(-3, 3), al = R.int(-4, 4), be = R.int(-4, 4);
      const w = [al, be, al * k + be * m];
      return { prompt: `w = (${w.map(num).join(', ')}) = α(1, 0, ${num(k)}) + β(0, 1, ${num(m)}). Give α + β`, answer: al + be, solution: `the first two components give α = ${num(al)}, β = ${num(be)}: α + β = ${num(al + be)}` };
    }
    const r = R.int(1, 3), M = matrixOfRank(R, r);
    return { prompt: `The dimension of the span of ${M.map((v) => `(${v.map(num).join(', ')})`).join(', ')}`, answer: rank(M), solution: `the rank of these three vectors is ${rank(M)}` };
  },
};

/** MathE's subtopics that get a generated exercise (all 24 of them). */
export const SUBTOPICS = Object.keys(GENERATORS);

/** Whether a question's level is MathE's "Advanced" (the bundle may give a label or an ordinal). */
export function isAdvanced(level) {
  return typeof level === 'number' ? level > 0 : /adv/i.test(String(level ?? ''));
}

/**
 * The exercise for `question` (`{ id, subtopic, level }`) at `variant` (0 the first time it is
 * shown, 1 the next, …): `{ subtopic, prompt, answer, tolerance, solution }`, or `null` when the
 * subtopic has no generator (the page then shows a practice card the learner marks).
 */
export function exercise(question, variant = 0) {
  const sub = String(question.subtopic ?? '').trim();
  const gen = GENERATORS[sub];
  if (!gen) return null;
  const R = rng(hash(`${question.id}:${variant}`));
  const e = gen(R, isAdvanced(question.level));
  return { subtopic: sub, tolerance: 1e-6, ...e, answer: e.answer === 0 ? 0 : e.answer }; // no −0
}

/** Parses what the learner typed: an integer, a decimal (point or comma), or a fraction `a/b`; NaN otherwise. */
export function parseAnswer(text) {
  const s = String(text).trim().replace(/\u2212/g, '-').replace(/\s+/g, '');
  const frac = /^([+-]?\d+(?:[.,]\d+)?)\/([+-]?\d+(?:[.,]\d+)?)$/.exec(s);
  if (frac) {
    const d = Number(frac[2].replace(',', '.'));
    return d === 0 ? NaN : Number(frac[1].replace(',', '.')) / d;
  }
  return /^[+-]?(\d+([.,]\d*)?|[.,]\d+)$/.test(s) ? Number(s.replace(',', '.')) : NaN;
}

/** Whether `text` answers `ex` (within its tolerance, or to the two decimals a rounded answer gives). */
export function isCorrect(ex, text) {
  const x = parseAnswer(text);
  if (!Number.isFinite(x)) return false;
  return Math.abs(x - ex.answer) <= Math.max(ex.tolerance, Number.isInteger(ex.answer) ? 0 : 0.006);
}
