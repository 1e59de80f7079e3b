// Runs the files `simdnn export --onnx --tfjs` wrote in the peers' own runtimes: onnxruntime-web
// on the .onnx file and @tensorflow/tfjs on the layers-format folder, each checked against want.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-web';
import { assertClose } from './close.js';

export async function checkExported(onnxFile: string, tfjsDir: string, x: Float32Array, shape: number[], want: ArrayLike<number>): Promise<void> {
  ort.env.wasm.numThreads = 1;
  const session = await ort.InferenceSession.create(new Uint8Array(readFileSync(onnxFile)));
  const got = (await session.run({ input: new ort.Tensor('float32', x, shape) })).output.data as Float32Array;
  assertClose(got, want, 1e-4, 1e-4, 'onnx');
  await session.release();
  await tf.setBackend('cpu');
  const json = JSON.parse(readFileSync(join(tfjsDir, 'model.json'), 'utf8')) as tf.io.ModelJSON;
  const t = await tf.loadLayersModel({
    load: () => tf.io.getModelArtifactsForJSON(json, async (mf) => [mf.flatMap((g) => g.weights), new Uint8Array(readFileSync(join(tfjsDir, mf[0].paths[0]))).buffer]),
  });
  assertClose((t.predict(tf.tensor(x, shape)) as tf.Tensor).dataSync() as Float32Array, want, 1e-4, 1e-4, 'tfjs');
  t.dispose();
}
