/**
 * Public data types and options of the knowledge tracer ({@link Hearth.loadTracer}). Abilities
 * and difficulties share the logit scale of the Rasch model: a learner of ability θ answers a
 * question of difficulty b correctly with probability σ(a (θ − b)); abilities start at N(0, 1).
 * @packageDocumentation
 */
import type { LoadOptions } from './types.js';

/** Options of {@link Hearth.loadTracer}. */
export interface TracerLoadOptions extends LoadOptions {
  /**
   * Names the on-device learner stores (one IndexedDB database per learner of this bundle).
   * Required when the bundle is given as bytes; for a URL it defaults to the absolute URL.
   * @defaultValue the bundle's absolute URL
   * @example `{ name: 'mathe' }`
   */
  name?: string;
}

/** One question of a learning bundle. */
export interface Question {
  id: string;
  topic: string;
  /** The subtopic the question practises (the topic itself when it has none). */
  skill: string;
  /** Level index, 0 = easiest (see {@link TracerInfo.levels}). */
  level: number;
  /** The level's name (e.g. `'Basic'`), when the bundle names levels. */
  levelName?: string;
  keywords: string[];
  /** IRT difficulty b (or the Elo rating when `model` is `'elo'`), on the ability scale. */
  difficulty: number;
  /** IRT discrimination a (1 for Rasch and Elo). */
  discrimination: number;
  /** What predicts this question: `'irt'` (fitted parameters) or `'elo'`. */
  model: 'irt' | 'elo';
}

/** What a learning bundle holds. */
export interface TracerInfo {
  /** `'hearth.learning'`. */
  format: string;
  version: number;
  /** The item model fitted: `'irt1pl'`, `'irt2pl'` or `'elo'`. */
  model: string;
  numQuestions: number;
  topics: string[];
  /** Every skill (subtopic) with its topic. */
  skills: { skill: string; topic: string }[];
  /** Level names, easiest first (may be empty). */
  levels: string[];
  /** Attribution lines of the data the bundle was built from: show them in your app. */
  attribution: string[];
  /** Whether the bundle carries an ONNX knowledge-tracing model. */
  hasKtModel: boolean;
  /** The sequence model the learner runs, when the bundle declares one (`null` otherwise). */
  kt: KtInfo | null;
  /** Provenance (tool, fit method and statistics). */
  source?: unknown;
}

/**
 * A bundle's sequence model (DKT through ONNX): after each answer the learner runs it one step
 * from its carried recurrent state (`'carry'`, the cost of an answer does not grow with the
 * history) or over the whole history (`'rerun'`), and its P(correct) drives
 * {@link Learner.predict}, {@link Learner.next} (practice mode) and {@link Mastery.kt}.
 */
export interface KtInfo {
  /** `'dkt'`: input id = offset + skill + S·correct. */
  kind: string;
  state: 'carry' | 'rerun';
  /** The model's skill names, in its skill-id order. */
  skills: string[];
  /** The LSTM/GRU/RNN nodes whose state the learner carries. */
  recurrent: string[];
}

/** One model skill's P(correct) from the bundle's sequence model. */
export interface KtSkill {
  skill: string;
  /** `null` before the first answer (the model has not predicted yet). */
  pCorrect: number | null;
}

/** An answer, as given to {@link Learner.observe}. */
export interface Answer {
  /** A question id of the bundle. */
  question: string;
  correct: boolean;
  /** When it was answered, ms since the epoch. @defaultValue `Date.now()` */
  ts?: number;
}

/** An answer as stored on the device. */
export interface StoredAnswer {
  question: string;
  correct: boolean;
  ts: number;
}

/** An ability posterior: EAP mean, posterior SD, central 95% credible interval [lo, hi]. */
export interface AbilityEstimate {
  mean: number;
  sd: number;
  lo: number;
  hi: number;
  /** Answers behind it. */
  answered: number;
}

/** One topic's state: its ability posterior (from its answers only) and BKT mastery. */
export interface TopicMastery extends AbilityEstimate {
  topic: string;
  /** BKT P(mastered) before the next opportunity. */
  pMastery: number;
}

/** One skill's (subtopic's) ability posterior, from its answers only. */
export interface SkillMastery extends AbilityEstimate {
  skill: string;
  topic: string;
}

/** What {@link Learner.mastery} returns. */
export interface Mastery {
  /** The overall ability, from every answer. */
  ability: AbilityEstimate;
  /** Per topic, in the bundle's topic order. */
  topics: TopicMastery[];
  /** Per skill, in the bundle's skill order. */
  skills: SkillMastery[];
  /** The sequence model's P(correct) per model skill, when the bundle has one. */
  kt?: KtSkill[];
}

/** A spaced-repetition card (FSRS-6). Times are ms since the epoch. */
export interface Review {
  question: string;
  due: number;
  /** P(recall) at the time asked for. */
  retrievability: number;
  /** Days until retrievability falls to 90%. */
  stability: number;
  /** FSRS difficulty, 1 (easy) … 10 (hard). */
  difficulty: number;
  state: 'new' | 'learning' | 'review' | 'relearning';
  reps: number;
  lapses: number;
  scheduledDays: number;
}

/** What {@link Learner.observe} returns: the state right after the answer. */
export interface ObserveResult {
  question: string;
  correct: boolean;
  /** P(correct) predicted just before this answer. */
  pCorrectBefore: number;
  ability: AbilityEstimate;
  topic: TopicMastery;
  skill: SkillMastery;
  /** The question's review card after this answer (correct = Good, wrong = Again). */
  review: Review;
  /** Answers observed so far. */
  answered: number;
}

/** What {@link Learner.predict} returns. */
export interface Prediction {
  question: string;
  /**
   * P(correct): the sequence model's once it has read an answer (`model: 'dkt'`), else the
   * IRT posterior predictive of the overall ability, or the Elo expectation.
   */
  pCorrect: number;
  /** Fisher information about the ability at its current estimate. */
  information: number;
  model: 'dkt' | 'irt' | 'elo';
  /** BKT P(correct) of the question's topic. */
  pCorrectBkt: number;
  /** BKT P(mastered) of the question's topic. */
  pMastery: number;
}

/** Options of {@link Learner.next}. */
export interface NextOptions {
  /** How many questions. @defaultValue 5 */
  k?: number;
  /** Predicted success to aim at (practice mode), in (0, 1). @defaultValue 0.7 */
  targetSuccess?: number;
  /** Only questions of this topic. */
  topic?: string;
  /** Only questions of this level (index or name). */
  level?: number | string;
  /** Question ids never to propose (the last one answered is always left out). */
  exclude?: string[];
  /**
   * `'practice'`: predicted success closest to `targetSuccess`, spread over topics;
   * `'assess'`: the most informative questions (maximum Fisher information), for placement.
   * @defaultValue 'practice'
   */
  mode?: 'practice' | 'assess';
}

/** One proposed question. */
export interface NextQuestion {
  /** The question id. */
  question: string;
  topic: string;
  skill: string;
  level: number;
  pCorrect: number;
  /** Fisher information at the current ability estimate. */
  information: number;
  /** Why, for the learner: "P(correct) 0.68 — practises Linear Algebra › Matrices". */
  reason: string;
}

/** Options of {@link Learner.due}. */
export interface DueOptions {
  /** The time to evaluate at, ms since the epoch. @defaultValue `Date.now()` */
  now?: number;
  /** Every card (soonest due first) instead of only those due. @defaultValue false */
  all?: boolean;
}

// Forward declarations for doc links; the classes live in core.ts and tracer.ts.
import type { Hearth } from './core.js';
import type { Learner } from './tracer.js';
export type { Hearth, Learner };
