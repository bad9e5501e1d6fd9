// Generates tests/fixtures/education/fsrs_ts_reference.json: review histories scheduled by ts-fsrs
// (the FSRS-6 reference scheduler in TypeScript), the ground truth for src/education/fsrs.rs.
//
// ts-fsrs is not a dependency of the repository; install it outside the repo and point at it:
//   npm install --prefix /root/.cache/hearth-edu/tsfsrs ts-fsrs@5.4.2
//   TS_FSRS=/root/.cache/hearth-edu/tsfsrs/node_modules/ts-fsrs/dist/index.mjs \
//     node tools/gen_fsrs_reference.mjs > tests/fixtures/education/fsrs_ts_reference.json
//
// Settings: ts-fsrs defaults (21 FSRS-6 weights, request_retention 0.9, maximum_interval 36500,
// enable_short_term true, learning steps 1m/10m, relearning step 10m) with enable_fuzz false,
// and two other configurations (see `configs`); `w` is the weight vector ts-fsrs used after
// clamping, `w_in` the one given.
// Times are ms since the epoch (UTC); a seeded PRNG picks ratings and review times, so the file
// is reproducible.
const path = process.env.TS_FSRS ?? '/root/.cache/hearth-edu/tsfsrs/node_modules/ts-fsrs/dist/index.mjs';
const { fsrs, createEmptyCard, Rating, State, FSRSVersion } = await import(path);

// mulberry32: a small seeded PRNG.
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const MIN = 60_000;
const DAY = 86_400_000;

function histories(f, count, seed) {
  const out = [];
  for (let h = 0; h < count; h++) {
    const rand = rng(seed + h);
    // Start at a random time of day in 2026 (UTC).
    let now = Date.UTC(2026, 0, 1) + Math.floor(rand() * 300) * DAY + Math.floor(rand() * 1440) * MIN;
    let card = createEmptyCard(new Date(now));
    const reviews = [];
    const n = 4 + Math.floor(rand() * 14);
    for (let i = 0; i < n; i++) {
      // Ratings weighted towards Good, as real reviews are.
      const u = rand();
      const rating = u < 0.15 ? Rating.Again : u < 0.3 ? Rating.Hard : u < 0.85 ? Rating.Good : Rating.Easy;
      const out = f.next(card, new Date(now), rating).card;
      const probes = [];
      for (const dt of [0.5 * DAY, 3 * DAY + 7 * MIN, 40 * DAY]) {
        const t = now + Math.round(dt);
        probes.push({ at: t, r: f.get_retrievability(out, new Date(t), false) });
      }
      reviews.push({
        at: now,
        rating,
        state: out.state,
        stability: out.stability,
        difficulty: out.difficulty,
        due: out.due.getTime(),
        scheduled_days: out.scheduled_days,
        learning_steps: out.learning_steps,
        reps: out.reps,
        lapses: out.lapses,
        retrievability: probes,
      });
      card = out;
      // Next review: on time, early, late, or the same day (a short-term review).
      const v = rand();
      const due = out.due.getTime();
      if (v < 0.45) now = due;
      else if (v < 0.6) now = due + Math.floor(rand() * 10) * DAY + Math.floor(rand() * 600) * MIN;
      else if (v < 0.8) now = now + Math.floor(rand() * 180) * MIN + MIN;
      else now = now + Math.max(MIN, Math.floor((due - now) * rand()));
    }
    out.push({ start: reviews[0].at, reviews });
  }
  return out;
}

// 1. ts-fsrs's defaults. 2. Other settings: weights off the defaults (w17 = 1.9 and w18 = 1.5
// are clamped to the ceiling that two relearning steps impose), a step of a day, retention
// 0.85, a 180-day cap. 3. No learning or relearning steps at all.
const configs = [
  [{}, 30, 1000],
  [
    {
      w: [0.4, 0.9, 3.1, 10.5, 7.0, 0.6, 2.2, 0.01, 1.5, 0.2, 1.1, 1.9, 0.1, 0.3, 1.2, 0.4, 2.5, 1.9, 1.5, 0.2, 0.3],
      request_retention: 0.85,
      maximum_interval: 180,
      learning_steps: ['5m', '30m', '1d'],
      relearning_steps: ['10m', '1h'],
    },
    10,
    2000,
  ],
  [{ learning_steps: [], relearning_steps: [] }, 8, 3000],
  // 4. Without short-term scheduling (ts-fsrs's LongTermScheduler), defaults otherwise and with
  // the weights of 2 (w19 = 0.2 stays; its lower bound drops to 0 here).
  [{ enable_short_term: false }, 20, 4000],
  [{ enable_short_term: false, w: [0.4, 0.9, 3.1, 10.5, 7.0, 0.6, 2.2, 0.01, 1.5, 0.2, 1.1, 1.9, 0.1, 0.3, 1.2, 0.4, 2.5, 1.9, 1.5, 0.0, 0.3], request_retention: 0.85, maximum_interval: 180 }, 10, 5000],
];
const out = configs.map(([settings, count, seed]) => {
  const f = fsrs({ ...settings, enable_fuzz: false });
  const p = f.parameters;
  return {
    settings: {
      w_in: settings.w ?? null,
      request_retention: p.request_retention,
      maximum_interval: p.maximum_interval,
      learning_steps: p.learning_steps,
      relearning_steps: p.relearning_steps,
      enable_short_term: p.enable_short_term,
      enable_fuzz: p.enable_fuzz,
    },
    w: p.w,
    histories: histories(f, count, seed),
  };
});
process.stdout.write(
  JSON.stringify({ generator: `tools/gen_fsrs_reference.mjs with ts-fsrs ${FSRSVersion}`, configs: out }) + '\n'
);
