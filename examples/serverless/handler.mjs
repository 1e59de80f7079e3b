// A serverless function (AWS Lambda / Cloud Functions shape: handler(event) → response) that keeps
// the model warm across calls: the first call loads the saved model from bytes, later calls reuse
// it. Events:
//   { "predict": [[x1, x2], ...] }                                   → { outputs: [[p], ...] }
//   { "train": { "x": [[...]], "y": [...], "epochs": 1, "timeBudgetMs": 50, "resume": {...} } }
//                                      → { loss, stopped, resume }   (send resume back to continue)
//   { "save": true }                                                   → { modelBase64 }
// The model file is $SIMDNN_MODEL, else model.simdnn beside this file (make it with make-model.mjs).
import { readFileSync } from 'node:fs';
import * as nn from 'simdnn';

let model; // warm across invocations of the same instance

function load() {
  const path = process.env.SIMDNN_MODEL ?? new URL('./model.simdnn', import.meta.url);
  return nn.loadModelSync(readFileSync(path)); // compiled with its loss and optimizer state
}

const response = (statusCode, body) => ({ statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

export async function handler(event) {
  try {
    model ??= load();
    const req = typeof event?.body === 'string' ? JSON.parse(event.body) : event ?? {};
    if (req.predict) {
      const out = model.predict(req.predict);
      const n = model.outputSize;
      return response(200, { outputs: Array.from({ length: out.rows }, (_, i) => Array.from(out.data.subarray(i * n, i * n + n))) });
    }
    if (req.train) {
      const { x, y, epochs = 1, batchSize = 32, timeBudgetMs = 50, resume } = req.train;
      const labels = model.loss.labels ? Int32Array.from(y) : Float32Array.from(y.flat());
      const h = await model.fit(x, labels, { epochs, batchSize, timeBudgetMs, resume });
      return response(200, { loss: h.history.loss?.at(-1) ?? null, stopped: h.stopped ?? null, resume: h.resume ?? null });
    }
    if (req.save) return response(200, { modelBase64: Buffer.from(model.toBytes({ includeOptimizer: true })).toString('base64') });
    return response(400, { error: 'give one of predict, train or save' });
  } catch (e) {
    const client = e instanceof nn.ShapeError || e instanceof nn.ConfigError || e instanceof SyntaxError;
    return response(client ? 400 : 500, { error: e.message });
  }
}

/** For monitoring: wasm memory and live arena allocations of the warm model's engine. */
export function stats() {
  return model ? { memoryBytes: model.engine.memoryBytes, liveAllocations: model.engine.liveAllocations } : null;
}
