// ONNX export: the model as a graph of standard operators (opset 17, IR version 8), encoded with
// protobufjs from the subset of onnx.proto below. protobufjs is imported on first use only, so
// `import 'simdnn'` does not load it. Weights are float32 initializers (raw little-endian bytes);
// the input is `input` [batch, ...inputShape], the output `output` [batch, outputSize];
// model.metadata, when set, is the JSON of metadata_props["simdnn.metadata"].
// Images: the input stays channels last [batch, H, W, C]; each value of the graph is laid out
// NHWC, NCHW or flat, and a Transpose is placed only where a layer needs another layout (the ONNX
// image operators take NCHW; flatten, and a dense layer on the model's image input, take
// channels last, so the features keep simdnn's order).
import { ConfigError, show } from '../errors.js';
import { reject } from '../validate.js';
import type { Act, Activation, PReLU } from '../layers/activation.js';
import type { AvgPool2D, Conv2D, MaxPool2D } from '../layers/conv.js';
import type { Dense } from '../layers/dense.js';
import { isImage, type Layer, type ParamRef } from '../layers/layer.js';
import type { BatchNorm, Dropout, LayerNorm } from '../layers/norm.js';
import type { Normalization, Rescaling } from '../layers/preprocess.js';
import { childrenOf, walkLayers } from '../layers/registry.js';
import { Sequential } from '../sequential.js';
import { SELU_ALPHA, SELU_LAMBDA, invStdRef } from '../reference.js';
import { writeAtomic } from './fs.js';

/** LayerNormalization is the newest operator used (opset 17); GELU is composed (Gelu is opset 20). */
export const ONNX_OPSET = 17;
/** The IR version that goes with opset 17. */
export const ONNX_IR_VERSION = 8;

/** The metadata_props key under which model.metadata is exported (JSON). */
export const ONNX_METADATA_KEY = 'simdnn.metadata';

/** The fields of github.com/onnx/onnx onnx/onnx.proto the exporter writes, with their official field numbers. */
export const ONNX_PROTO = `
syntax = "proto2";
package onnx;
message AttributeProto {
  enum AttributeType { UNDEFINED = 0; FLOAT = 1; INT = 2; INTS = 7; }
  optional string name = 1;
  optional AttributeType type = 20;
  optional float f = 2;
  optional int64 i = 3;
  repeated int64 ints = 8;
}
message ValueInfoProto {
  optional string name = 1;
  optional TypeProto type = 2;
}
message NodeProto {
  repeated string input = 1;
  repeated string output = 2;
  optional string name = 3;
  optional string op_type = 4;
  repeated AttributeProto attribute = 5;
}
message StringStringEntryProto {
  optional string key = 1;
  optional string value = 2;
}
message ModelProto {
  optional int64 ir_version = 1;
  repeated OperatorSetIdProto opset_import = 8;
  optional string producer_name = 2;
  optional GraphProto graph = 7;
  repeated StringStringEntryProto metadata_props = 14;
}
message GraphProto {
  repeated NodeProto node = 1;
  optional string name = 2;
  repeated TensorProto initializer = 5;
  repeated ValueInfoProto input = 11;
  repeated ValueInfoProto output = 12;
}
message TensorProto {
  repeated int64 dims = 1;
  optional int32 data_type = 2;
  optional string name = 8;
  optional bytes raw_data = 9;
}
message TensorShapeProto {
  message Dimension {
    oneof value {
      int64 dim_value = 1;
      string dim_param = 2;
    }
  }
  repeated Dimension dim = 1;
}
message TypeProto {
  message Tensor {
    optional int32 elem_type = 1;
    optional TensorShapeProto shape = 2;
  }
  oneof value {
    Tensor tensor_type = 1;
  }
}
message OperatorSetIdProto {
  optional string domain = 1;
  optional int64 version = 2;
}
`;

const FLOAT = 1; // TensorProto.DataType.FLOAT (onnx.proto)
const ATTR_FLOAT = 1, ATTR_INT = 2, ATTR_INTS = 7; // AttributeProto.AttributeType

interface Attribute { name: string; type: number; f?: number; i?: number; ints?: number[] }
const float = (name: string, f: number): Attribute => ({ name, type: ATTR_FLOAT, f });
const int = (name: string, i: number): Attribute => ({ name, type: ATTR_INT, i });
const ints = (name: string, v: readonly number[]): Attribute => ({ name, type: ATTR_INTS, ints: [...v] });

interface Node { name: string; op_type: string; input: string[]; output: string[]; attribute: Attribute[] }
interface Initializer { name: string; dims: number[]; data_type: number; raw_data: Uint8Array }

/** Collects nodes and initializers; every value gets a unique name. */
class Graph {
  readonly nodes: Node[] = [];
  readonly initializers: Initializer[] = [];
  private readonly names = new Set(['input', 'output']);
  private readonly constants = new Map<number, string>();
  /** where: the public function, for error messages; shapes: each layer's output shape per sample. */
  constructor(readonly where: string, private readonly weights: Map<string, Float32Array>,
              readonly shapes: ReadonlyMap<Layer, readonly number[]>) {}

  private fresh(base: string): string {
    let name = base;
    for (let k = 2; this.names.has(name); k++) name = `${base}_${k}`;
    this.names.add(name);
    return name;
  }
  private tensor(base: string, dims: number[], data: Float32Array): string {
    const name = this.fresh(base);
    this.initializers.push({ name, dims, data_type: FLOAT, raw_data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) });
    return name;
  }
  /** A parameter tensor of the model, under its own name (dims: the same values in another shape). */
  param(p: ParamRef, dims: readonly number[] = p.shape): string { return this.tensor(p.name, [...dims], this.weights.get(p.name)!); }
  /** The values of a parameter tensor (float32, as the model holds them). */
  values(p: ParamRef): Float32Array { return this.weights.get(p.name)!; }
  /** A constant derived from the weights (a normalization's scale, a kernel in OIHW). */
  derived(base: string, dims: readonly number[], data: Float32Array): string { return this.tensor(base, [...dims], data); }
  /** A float scalar constant, shared by every node that uses the same value. */
  scalar(v: number): string {
    let name = this.constants.get(v);
    if (!name) this.constants.set(v, (name = this.tensor(`const/${v}`, [], Float32Array.of(v))));
    return name;
  }
  /** Adds a node with one output and returns the output's name. */
  node(op: string, input: string[], scope: string, attribute: Attribute[] = []): string {
    const name = this.fresh(`${scope}/${op}`);
    this.nodes.push({ name, op_type: op, input, output: [name], attribute });
    return name;
  }
  /** Names value v `output`: renames the node that produces it, or copies it with Identity. */
  output(v: string): void {
    const n = this.nodes.find((m) => m.output[0] === v);
    if (n) n.output[0] = 'output';
    else this.nodes.push({ name: 'output', op_type: 'Identity', input: [v], output: ['output'], attribute: [] });
  }
}

const GELU_C = Math.sqrt(2 / Math.PI), GELU_K = 0.044715;

/**
 * Each activation as ONNX nodes on value x; softmax and logSoftmax over `axis` (the channels: 1 in
 * NCHW, −1 otherwise). The Record type makes the compiler check every activation has one.
 */
const ACTIVATIONS: Record<Act['name'], (g: Graph, x: string, s: string, a: Act, axis: number) => string> = {
  identity: (_g, x) => x,
  relu: (g, x, s) => g.node('Relu', [x], s),
  sigmoid: (g, x, s) => g.node('Sigmoid', [x], s),
  tanh: (g, x, s) => g.node('Tanh', [x], s),
  leakyRelu: (g, x, s, a) => g.node('LeakyRelu', [x], s, [float('alpha', a.alpha)]),
  elu: (g, x, s, a) => g.node('Elu', [x], s, [float('alpha', a.alpha)]),
  selu: (g, x, s) => g.node('Selu', [x], s, [float('alpha', SELU_ALPHA), float('gamma', SELU_LAMBDA)]),
  softplus: (g, x, s) => g.node('Softplus', [x], s),
  // gelu(x) = 0.5·x·(1 + tanh(c·x·(1 + k·x²))), c = √(2/π), k = 0.044715.
  gelu: (g, x, s) => {
    const inner = g.node('Mul', [g.node('Add', [g.node('Mul', [g.node('Mul', [x, x], s), g.scalar(GELU_K)], s), g.scalar(1)], s), x], s);
    const t = g.node('Tanh', [g.node('Mul', [inner, g.scalar(GELU_C)], s)], s);
    return g.node('Mul', [g.node('Mul', [g.node('Add', [t, g.scalar(1)], s), x], s), g.scalar(0.5)], s);
  },
  // geluErf(x) = 0.5·x·(1 + erf(x/√2)).
  geluErf: (g, x, s) => {
    const e = g.node('Erf', [g.node('Mul', [x, g.scalar(Math.SQRT1_2)], s)], s);
    return g.node('Mul', [g.node('Mul', [g.node('Add', [e, g.scalar(1)], s), x], s), g.scalar(0.5)], s);
  },
  softmax: (g, x, s, _a, axis) => g.node('Softmax', [x], s, [int('axis', axis)]),
  logSoftmax: (g, x, s, _a, axis) => g.node('LogSoftmax', [x], s, [int('axis', axis)]),
};
const activation = (g: Graph, x: Value, s: string, a: Act): string => ACTIVATIONS[a.name](g, x.name, s, a, x.layout === 'nchw' ? 1 : -1);

/** How a value of the graph is laid out: an image channels last or first, or rows of features. */
type Layout = 'nhwc' | 'nchw' | 'flat';
interface Value { name: string; layout: Layout }
const NHWC_TO_NCHW = [0, 3, 1, 2], NCHW_TO_NHWC = [0, 2, 3, 1];

/** Value v in layout `to` (Transpose, Flatten); an image cannot be made back from features. */
function relayout(g: Graph, v: Value, to: Layout, s: string): Value {
  if (v.layout === to) return v;
  if (to === 'flat') {
    const nhwc = relayout(g, v, 'nhwc', s);
    return { name: g.node('Flatten', [nhwc.name], s, [int('axis', 1)]), layout: 'flat' };
  }
  if (v.layout === 'flat') throw new ConfigError(`${g.where}: layer ${show(s)} takes an image, but a residual block before it made features of it; ONNX export cannot reshape them back`);
  return { name: g.node('Transpose', [v.name], s, [ints('perm', to === 'nchw' ? NHWC_TO_NCHW : NCHW_TO_NHWC)]), layout: to };
}

/** Conv and pooling attributes: kernel, strides and pads [top, left, bottom, right] (TF puts the odd pad of 'same' after). */
function window(l: Conv2D | MaxPool2D | AvgPool2D, k: [number, number], d: [number, number]): Attribute[] {
  const g = l.geom;
  const end = (n: number, out: number, s: number, kk: number, dd: number, before: number) => Math.max((out - 1) * s + (kk - 1) * dd + 1 - n, 0) - before;
  return [ints('kernel_shape', k), ints('strides', [g.sh, g.sw]),
    ints('pads', [g.pt, g.pl, end(g.H, g.Ho, g.sh, k[0], d[0], g.pt), end(g.W, g.Wo, g.sw, k[1], d[1], g.pl)])];
}

/** simdnn's kernel [kh, kw, cin, cout] as ONNX's OIHW [cout, cin, kh, kw]. */
function oihw(w: Float32Array, [kh, kw, cin, cout]: readonly number[]): Float32Array {
  const out = new Float32Array(w.length);
  for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) for (let c = 0; c < cin; c++) for (let f = 0; f < cout; f++) {
    out[((f * cin + c) * kh + i) * kw + j] = w[((i * kw + j) * cin + c) * cout + f];
  }
  return out;
}

/**
 * A layer's nodes on value x, which is in the layout the layer asked for (`layout` on an image
 * input; features are always flat); shape: the layer's input shape per sample. Returns the value
 * produced: a name (laid out as x, or flat when the output is not an image), or a Value.
 */
type Nodes<L extends Layer> = (g: Graph, l: L, x: Value, s: string, shape: readonly number[]) => string | Value;
interface LayerNodes { layout: Layout | 'any'; nodes: Nodes<Layer> }
const on = <L extends Layer>(layout: Layout | 'any', f: Nodes<L>): LayerNodes => ({ layout, nodes: f as Nodes<Layer> });
/** Per-value parameters (prelu's slopes, a normalization's statistics) in the shape of the value they broadcast against. */
const perValue = (x: Value, shape: readonly number[]) => (x.layout === 'nhwc' ? shape : [shape.reduce((a, b) => a * b, 1)]);

/** The nodes of each layer type. */
const LAYER_NODES: ReadonlyMap<string, LayerNodes> = new Map([
  ['dense', on<Dense>('flat', (g, l, x, s) => activation(g, { name: g.node('Gemm', [x.name, g.param(l.W), ...(l.b ? [g.param(l.b)] : [])], s), layout: 'flat' }, s, l.act))],
  ['activation', on<Activation>('any', (g, l, x, s) => activation(g, x, s, l.act))],
  ['prelu', on<PReLU>('nhwc', (g, l, x, s, shape) => g.node('PRelu', [x.name, g.param(l.alpha, perValue(x, shape))], s))],
  // Inference: dropout is the identity.
  ['dropout', on<Dropout>('any', (g, _l, x, s) => g.node('Identity', [x.name], s))],
  // Per channel on NCHW (axis 1), per feature on rows.
  ['batchNorm', on<BatchNorm>('nchw', (g, l, x, s) => g.node('BatchNormalization', [x.name, g.param(l.gamma), g.param(l.beta), g.param(l.runMean), g.param(l.runVar)], s, [float('epsilon', l.eps)]))],
  // Over the last axis: the channels of each position on NHWC, the features on rows.
  ['layerNorm', on<LayerNorm>('nhwc', (g, l, x, s) => g.node('LayerNormalization', [x.name, g.param(l.gamma), g.param(l.beta)], s, [int('axis', -1), float('epsilon', l.eps)]))],
  // The block's output in x's layout (features, if a dense layer inside took the model's image input).
  ['residual', on('any', (g, l, x, s, shape): Value => {
    const f = layersNodes(g, childrenOf(l), x, shape), v = relayout(g, x, f.layout === 'flat' ? 'flat' : x.layout, s);
    return { name: g.node('Add', [v.name, relayout(g, f, v.layout, s).name], s), layout: v.layout };
  })],
  // (x − mean)·scale, scale = 1/max(√variance, 1e-7) as f32_inv_std computes it: a constant column stays exactly 0.
  ['normalization', on<Normalization>('nhwc', (g, l, x, s, shape) => {
    const scale = Float32Array.from(invStdRef(g.values(l.variance!))), dims = perValue(x, shape);
    return g.node('Mul', [g.node('Sub', [x.name, g.param(l.mean!, dims)], s), g.derived(`${l.name}/scale`, dims, scale)], s);
  })],
  ['rescaling', on<Rescaling>('any', (g, l, x, s) => {
    const y = g.node('Mul', [x.name, g.scalar(l.scale)], s);
    return l.offset === 0 ? y : g.node('Add', [y, g.scalar(l.offset)], s);
  })],
  ['conv2d', on<Conv2D>('nchw', (g, l, x, s) => {
    const w = g.derived(`${l.W.name}/oihw`, [l.filters, l.geom.C, ...l.kernelSize], oihw(g.values(l.W), l.W.shape));
    const y = g.node('Conv', [x.name, w, ...(l.b ? [g.param(l.b)] : [])], s, [...window(l, l.kernelSize, l.dilation), ints('dilations', l.dilation)]);
    return activation(g, { name: y, layout: 'nchw' }, s, l.act);
  })],
  ['maxPool2d', on<MaxPool2D>('nchw', (g, l, x, s) => g.node('MaxPool', [x.name], s, window(l, l.poolSize, [1, 1])))],
  // Padding left out of each window's count, as simdnn and Keras do.
  ['avgPool2d', on<AvgPool2D>('nchw', (g, l, x, s) => g.node('AveragePool', [x.name], s, [...window(l, l.poolSize, [1, 1]), int('count_include_pad', 0)]))],
  ['globalAveragePooling2d', on('nchw', (g, _l, x, s) => g.node('Flatten', [g.node('GlobalAveragePool', [x.name], s)], s, [int('axis', 1)]))],
  // Channels last, as simdnn flattens: relayout does it.
  ['flatten', on('flat', (_g, _l, x) => x.name)],
]);

/**
 * Adds the nodes of layers applied in order to value x (of per-sample shape `shape`); returns the
 * value they produce. A layer on an image gets its input in the layout it asks for; features are flat.
 */
function layersNodes(g: Graph, ls: readonly Layer[], x: Value, shape: readonly number[]): Value {
  for (const l of ls) {
    const { layout, nodes: f } = LAYER_NODES.get(l.type)!;
    const input = !isImage(shape) ? relayout(g, x, 'flat', l.name) : layout === 'any' ? x : relayout(g, x, layout, l.name);
    const out = f(g, l, input, l.name, shape);
    shape = g.shapes.get(l)!;
    x = typeof out === 'string' ? { name: out, layout: isImage(shape) ? input.layout : 'flat' } : out;
  }
  return x;
}

function valueInfo(name: string, dims: (number | string)[]) {
  const dim = dims.map((d) => (typeof d === 'string' ? { dim_param: d } : { dim_value: d }));
  return { name, type: { tensor_type: { elem_type: FLOAT, shape: { dim } } } };
}

let modelProto: Promise<{ encode(m: object): { finish(): Uint8Array } }> | undefined;
/** The ModelProto type, parsed from ONNX_PROTO once (protobufjs is loaded here, on first use). */
function onnxModelProto() {
  modelProto ??= import('protobufjs').then((pb) => pb.parse(ONNX_PROTO, { keepCase: true }).root.lookupType('onnx.ModelProto'));
  return modelProto;
}

async function encode(where: string, model: Sequential): Promise<Uint8Array> {
  if (!(model instanceof Sequential)) reject(where, 'model', model, 'a model from nn.sequential(...) or nn.loadModel(...)');
  walkLayers(model.layers, (l) => {
    if (!LAYER_NODES.has(l.type)) throw new ConfigError(`${where}: layer ${show(l.name)} has type ${show(l.type)}; ONNX export knows ${[...LAYER_NODES.keys()].join(', ')}`);
  });
  const g = new Graph(where, model.getWeights(), model.outputShapes);
  // An image stays NHWC until a layer asks otherwise; other inputs of rank > 1 are rows of features.
  const s = model.inputShape;
  const input: Value = isImage(s) ? { name: 'input', layout: 'nhwc' }
    : { name: s.length > 1 ? g.node('Flatten', ['input'], 'input', [int('axis', 1)]) : 'input', layout: 'flat' };
  const x = layersNodes(g, model.layers, input, s);
  g.output(relayout(g, x, 'flat', 'output').name);
  const proto = await onnxModelProto();
  const bytes = proto.encode({
    ir_version: ONNX_IR_VERSION,
    opset_import: [{ domain: '', version: ONNX_OPSET }],
    producer_name: 'simdnn',
    // What the model knows about its data (feature and class names, input kind, split), as JSON.
    metadata_props: model.metadata ? [{ key: ONNX_METADATA_KEY, value: JSON.stringify(model.metadata) }] : [],
    graph: {
      name: model.name,
      node: g.nodes,
      initializer: g.initializers,
      input: [valueInfo('input', ['batch', ...model.inputShape])],
      output: [valueInfo('output', ['batch', model.outputSize])],
    },
  }).finish();
  return new Uint8Array(bytes); // a copy: protobufjs gives a Node Buffer
}

/** The model as the bytes of an `.onnx` file (inference graph: dropout is the identity, batch norm uses its running statistics). */
export function onnxBytes(model: Sequential): Promise<Uint8Array> {
  return encode('onnxBytes', model);
}

/** Writes the model as an ONNX file (atomically: temp file, fsync, rename). */
export async function exportOnnx(model: Sequential, path: string): Promise<void> {
  if (typeof path !== 'string' || path === '') reject('exportOnnx', 'path', path, 'a file path');
  writeAtomic(path, await encode('exportOnnx', model));
}
