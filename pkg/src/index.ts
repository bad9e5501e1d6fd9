/**
 * hearth-ml: on-device machine learning for the browser. ONNX models, recommendation bundles
 * and learning bundles (knowledge tracing) are downloaded once (then served from the Cache API) and every prediction runs in
 * WebAssembly in a Web Worker; the visitor's interactions stay in IndexedDB on the device.
 *
 * @example
 * ```ts
 * import { Hearth } from 'hearth-ml';
 * const hearth = await Hearth.init();
 * const model = await hearth.loadModel('/models/propensity.onnx');
 * const out = await model.run({ features: { data: Float32Array.from(x), dims: [1, 17] } });
 * console.log(out.purchase_probability.data);
 * ```
 * @packageDocumentation
 */
export { Hearth, Model, Recommender, Profile } from './core.js';
export { Tracer, Learner } from './tracer.js';
export type {
  AbilityEstimate, Answer, DueOptions, Mastery, NextOptions, NextQuestion, ObserveResult, Prediction, Question,
  KtInfo, KtSkill, Review, SkillMastery, StoredAnswer, TopicMastery, TracerInfo, TracerLoadOptions,
} from './tracer-types.js';
export { HearthError, type HearthErrorCode, type FeatureErrorReason } from './errors.js';
export { CACHE_NAME, sri } from './fetch.js';
export type {
  BackendName, DType, Feed, FeatureRow, FeatureSpec, FeatureSpecFeature, HearthOptions, InteractionEvent, IoInfo, Item,
  ItemFilter, LoadOptions, MapValue, ModelLoadOptions, OutputTensor, TabularPrediction,
  Recommendation, RecommenderInfo, RecommenderLoadOptions, RecommendOptions, RunOptions, RunOutput, SimilarItem,
  SimilarOptions, Tensor, TensorData, ValueKind,
} from './types.js';
export { isTensor } from './core.js';
