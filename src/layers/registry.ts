// The layer registry: every layer type by its `type` name, how to rebuild it from its config(),
// and which layers hold other layers. The model file, the exporters, naming, the summary and
// gradCheck reach nested layers through walkLayers and layerConfig only.
import { Activation, PReLU } from './activation.js';
import { Dense } from './dense.js';
import type { Layer } from './layer.js';
import { BatchNorm, Dropout, LayerNorm } from './norm.js';
import { Normalization, Rescaling } from './preprocess.js';
import { Residual } from './residual.js';
import { AvgPool2D, Conv2D, Flatten, GlobalAveragePooling2D, MaxPool2D } from './conv.js';

/** Rebuilds nested layers from the configs stored under `key` (the caller checks and names the path). */
export type NestedFromConfig = (key: string, configs: unknown) => Layer[];

export interface LayerKind {
  /** The layer from its config() fields (without `type`); unknown keys are rejected by the constructor. */
  fromConfig(config: Record<string, unknown>, nested: NestedFromConfig): Layer;
  /** The layers this one holds, in order (residual blocks); absent for leaf layers. */
  children?(layer: Layer): readonly Layer[];
}

/** Every layer type. A Map, so a hostile name like "__proto__" or "constructor" finds nothing. */
export const LAYER_TYPES: ReadonlyMap<string, LayerKind> = new Map<string, LayerKind>([
  ['dense', { fromConfig: ({ units, ...rest }) => new Dense(units as number, rest) }],
  ['activation', { fromConfig: ({ activation, ...rest }) => new Activation(activation as never, rest) }],
  ['prelu', { fromConfig: (c) => new PReLU(c) }],
  ['dropout', { fromConfig: ({ rate, ...rest }) => new Dropout(rate as number, rest) }],
  ['batchNorm', { fromConfig: (c) => new BatchNorm(c) }],
  ['layerNorm', { fromConfig: (c) => new LayerNorm(c) }],
  ['normalization', { fromConfig: (c) => new Normalization(c) }],
  ['rescaling', { fromConfig: ({ scale, offset, ...rest }) => new Rescaling(scale as number, offset as number, rest) }],
  ['conv2d', { fromConfig: ({ filters, ...rest }) => new Conv2D(filters as number, rest as never) }],
  ['maxPool2d', { fromConfig: (c) => new MaxPool2D(c) }],
  ['avgPool2d', { fromConfig: (c) => new AvgPool2D(c) }],
  ['globalAveragePooling2d', { fromConfig: (c) => new GlobalAveragePooling2D(c) }],
  ['flatten', { fromConfig: (c) => new Flatten(c) }],
  ['residual', {
    fromConfig: ({ layers, ...rest }, nested) => new Residual(nested('layers', layers), rest),
    children: (l) => (l as Residual).inner.layers,
  }],
]);

/** The layers held by l (the inside of a residual block), or [] for a leaf layer. */
export function childrenOf(l: Layer): readonly Layer[] {
  return LAYER_TYPES.get(l.type)?.children?.(l) ?? [];
}

/**
 * Calls visit(layer, depth, path) for every layer, depth-first, each layer before the layers it
 * holds: depth 0 for the model's own layers; path like `layers[2].layers[0]` (as in model-file errors).
 */
export function walkLayers(layers: readonly Layer[], visit: (layer: Layer, depth: number, path: string) => void, depth = 0, path = 'layers'): void {
  layers.forEach((l, i) => {
    const p = `${path}[${i}]`;
    visit(l, depth, p);
    walkLayers(childrenOf(l), visit, depth + 1, `${p}.layers`);
  });
}

/** Every layer, nested ones included, in walkLayers order. */
export function allLayers(layers: readonly Layer[]): Layer[] {
  const out: Layer[] = [];
  walkLayers(layers, (l) => out.push(l));
  return out;
}

/** The JSON config of a layer as the model file stores it: type, name, config() and nested layers. */
export function layerConfig(l: Layer): Record<string, unknown> {
  const inner = childrenOf(l);
  return {
    type: l.type, name: l.name, ...(l.trainable === false && { trainable: false }), ...l.config(),
    ...(LAYER_TYPES.get(l.type)?.children ? { layers: inner.map(layerConfig) } : {}),
  };
}
