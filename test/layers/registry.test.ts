// The layer registry: every layer type rebuilds from its config, walkLayers visits nested layers
// (parents first, with depth and path), and layerConfig is what the model file stores.
import { afterAll, describe, expect, it } from 'vitest';
import * as nn from '../../src/index.js';
import { LAYER_TYPES, allLayers, childrenOf, layerConfig, walkLayers } from '../../src/layers/registry.js';

const engine = new nn.Engine();
const model = nn.sequential({ inputShape: [3], seed: 1, engine }, [
  nn.dense(4, { activation: 'relu' }),
  nn.residual([nn.dense(4, { activation: 'tanh' }), nn.residual([nn.layerNorm(), nn.prelu()]), nn.dropout(0.1)]),
  nn.batchNorm(), nn.activation('leakyRelu', { alpha: 0.2 }),
  nn.normalization({ mean: [0, 1, 2, 3], variance: 2 }), nn.rescaling(0.5, 1),
]);
afterAll(() => model.dispose());

describe('layer registry', () => {
  it('walkLayers › parents before children, depth and model-file paths', () => {
    const seen: string[] = [];
    walkLayers(model.layers, (l, depth, path) => seen.push(`${path} ${depth} ${l.type}`));
    expect(seen).toEqual([
      'layers[0] 0 dense', 'layers[1] 0 residual', 'layers[1].layers[0] 1 dense', 'layers[1].layers[1] 1 residual',
      'layers[1].layers[1].layers[0] 2 layerNorm', 'layers[1].layers[1].layers[1] 2 prelu', 'layers[1].layers[2] 1 dropout',
      'layers[2] 0 batchNorm', 'layers[3] 0 activation', 'layers[4] 0 normalization', 'layers[5] 0 rescaling',
    ]);
    expect(allLayers(model.layers).map((l) => l.type)).toEqual(seen.map((s) => s.split(' ')[2]));
    expect(childrenOf(model.layers[0])).toEqual([]);
  });

  it('layerConfig › equals what Sequential.config() stores, and every type rebuilds from it', () => {
    expect(model.layers.map(layerConfig)).toEqual(model.config().layers);
    const types = new Set(allLayers(model.layers).map((l) => l.type));
    // The image layers need an image input; test/layers/conv.test.ts rebuilds them the same way.
    const image = ['conv2d', 'maxPool2d', 'avgPool2d', 'globalAveragePooling2d', 'flatten'];
    expect([...LAYER_TYPES.keys()].sort()).toEqual([...types, ...image].sort());
    const rebuild = ({ type, ...c }: Record<string, unknown>): nn.Layer =>
      LAYER_TYPES.get(type as string)!.fromConfig(c, (_key, ls) => (ls as Record<string, unknown>[]).map(rebuild));
    const rebuilt = nn.sequential({ inputShape: [3], seed: 1, engine }, model.layers.map((l) => rebuild(layerConfig(l))));
    expect(rebuilt.config()).toEqual(model.config());
    rebuilt.dispose();
  });
});
