// ONNX export: the model as a graph of standard operators (opset 17, IR version 8), encoded with
// protobufjs from the subset of onnx.proto below. protobufjs is imported on first use only, so
// `import 'simdnn'` does not load it. Weights are float32 initializers (raw little-endian bytes);
// the input is `input` [batch, ...inputShape], the output `output` [batch, outputSize];
// model.metadata, when set, is the JSON of metadata_props["simdnn.metadata"].
import { ConfigError, show } from '../errors.js';
import { reject } from '../validate.js';
import type { Act, Activation, PReLU } from '../layers/activation.js';
import type { Dense } from '../layers/dense.js';
import type { Layer, ParamRef } from '../layers/layer.js';
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
  enum AttributeType { UNDEFINED = 0; FLOAT = 1; INT = 2; }
  optional string name = 1;
  optional AttributeType type = 20;
  optional float f = 2;
  optional int64 i = 3;
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
const ATTR_FLOAT = 1, ATTR_INT = 2; // AttributeProto.AttributeType

interface Attribute { name: string; type: number; f?: number; i?: number }
const float = (name: string, f: number): Attribute => ({ name, type: ATTR_FLOAT, f });
const int = (name: string, i: number): Attribute => ({ name, type: ATTR_INT, i });

interface Node { name: string; op_type: string; input: string[]; output: string[]; attribute: Attribute[] }
interface Initializer { name: string; dims: number[]; data_type: number; raw_data: Uint8Array }

/** Collects nodes and initializers; every value gets a unique name. */
class Graph {
  readonly nodes: Node[] = [];
  readonly initializers: Initializer[] = [];
  private readonly names = new Set(['input', 'output']);
  private readonly constants = new Map<number, string>();
  /** where: the public function, for error messages. */
  constructor(readonly where: string, private readonly weights: Map<string, Float32Array>) {}

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
  /** A parameter tensor of the model, under its own name. */
  param(p: ParamRef): string { return this.tensor(p.name, p.shape, this.weights.get(p.name)!); }
  /** The values of a parameter tensor (float32, as the model holds them). */
  values(p: ParamRef): Float32Array { return this.weights.get(p.name)!; }
  /** A constant derived from the weights (a normalization's scale), 1-D. */
  vector(base: string, data: Float32Array): string { return this.tensor(base, [data.length], data); }
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

/** Each activation as ONNX nodes on value x; the Record type makes the compiler check every activation has one. */
const ACTIVATIONS: Record<Act['name'], (g: Graph, x: string, s: string, a: Act) => string> = {
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
  softmax: (g, x, s) => g.node('Softmax', [x], s, [int('axis', -1)]),
  logSoftmax: (g, x, s) => g.node('LogSoftmax', [x], s, [int('axis', -1)]),
};

type Nodes<L extends Layer> = (g: Graph, l: L, x: string, s: string) => string;
const nodes = <L extends Layer>(f: Nodes<L>) => f as Nodes<Layer>;
/** The nodes of each layer type applied to value x; each returns the value it produces. */
const LAYER_NODES: ReadonlyMap<string, Nodes<Layer>> = new Map([
  ['dense', nodes<Dense>((g, l, x, s) => ACTIVATIONS[l.act.name](g, g.node('Gemm', [x, g.param(l.W), ...(l.b ? [g.param(l.b)] : [])], s), s, l.act))],
  ['activation', nodes<Activation>((g, l, x, s) => ACTIVATIONS[l.act.name](g, x, s, l.act))],
  ['prelu', nodes<PReLU>((g, l, x, s) => g.node('PRelu', [x, g.param(l.alpha)], s))],
  // Inference: dropout is the identity.
  ['dropout', nodes<Dropout>((g, _l, x, s) => g.node('Identity', [x], s))],
  ['batchNorm', nodes<BatchNorm>((g, l, x, s) => g.node('BatchNormalization', [x, g.param(l.gamma), g.param(l.beta), g.param(l.runMean), g.param(l.runVar)], s, [float('epsilon', l.eps)]))],
  ['layerNorm', nodes<LayerNorm>((g, l, x, s) => g.node('LayerNormalization', [x, g.param(l.gamma), g.param(l.beta)], s, [int('axis', -1), float('epsilon', l.eps)]))],
  ['residual', (g, l, x, s) => g.node('Add', [x, layersNodes(g, childrenOf(l), x)], s)],
  // (x − mean)·scale, scale = 1/max(√variance, 1e-7) as f32_inv_std computes it: a constant column stays exactly 0.
  ['normalization', nodes<Normalization>((g, l, x, s) => {
    const scale = Float32Array.from(invStdRef(g.values(l.variance!)));
    return g.node('Mul', [g.node('Sub', [x, g.param(l.mean!)], s), g.vector(`${l.name}/scale`, scale)], s);
  })],
  ['rescaling', nodes<Rescaling>((g, l, x, s) => {
    const y = g.node('Mul', [x, g.scalar(l.scale)], s);
    return l.offset === 0 ? y : g.node('Add', [y, g.scalar(l.offset)], s);
  })],
]);

/** Adds the nodes of layers applied in order to value x; returns the value they produce. */
function layersNodes(g: Graph, ls: readonly Layer[], x: string): string {
  return ls.reduce((v, l) => LAYER_NODES.get(l.type)!(g, l, v, l.name), x);
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
  const g = new Graph(where, model.getWeights());
  let x = 'input';
  if (model.inputShape.length > 1) x = g.node('Flatten', [x], 'input', [int('axis', 1)]);
  g.output(layersNodes(g, model.layers, x));
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
