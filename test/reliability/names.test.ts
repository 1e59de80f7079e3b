// Names given by the user are looked up in own keys only: the names every plain object inherits
// ('__proto__', 'constructor', 'toString', 'hasOwnProperty') are unknown names like any other,
// refused with a ConfigError (ModelFormatError in a model file) that names the argument.
import { afterAll, describe, expect, it } from 'vitest';
import * as nn from '../../src/index.js';
import { encodeSafetensors } from '../../src/io/safetensors.js';

const INHERITED = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf'];
const engine = new nn.Engine();
const model = nn.sequential({ inputShape: [2], seed: 1, engine }, [nn.dense(2)]);
afterAll(() => model.dispose());

type Row = [string, (name: string) => unknown, RegExp];
const rows: Row[] = [
  ['dense › init', (n) => nn.dense(2, { init: n as never }), /dense: init is "[^"]+"; it must be one of glorotUniform/],
  ['dense › biasInit', (n) => nn.dense(2, { biasInit: n as never }), /dense: biasInit is "[^"]+"; it must be one of/],
  ['prelu › init', (n) => nn.prelu({ init: n as never }), /prelu: init is "[^"]+"; it must be one of/],
  ['dense › activation', (n) => nn.dense(2, { activation: n as never }), /dense: activation is "[^"]+"; it must be one of identity/],
  ['activation › activation', (n) => nn.activation(n as never), /activation: activation is "[^"]+"; it must be one of/],
  ['getLoss › loss', (n) => nn.getLoss('getLoss', n), /getLoss: loss is "[^"]+"; it must be one of mse/],
  ['compile › loss', (n) => model.compile({ loss: n, optimizer: nn.sgd() }), /loss is "[^"]+"; it must be one of/],
  ['compile › optimizer', (n) => model.compile({ loss: 'mse', optimizer: n }), /optimizer is "[^"]+"; it must be one of sgd/],
  ['optimizerFromConfig › optimizer', (n) => nn.optimizerFromConfig(n, {}), /optimizerFromConfig: optimizer is "[^"]+"; it must be one of sgd/],
  ['scheduleFromConfig › name', (n) => nn.schedules.scheduleFromConfig({ name: n }), /scheduleFromConfig: name is "[^"]+"; it must be one of constant/],
  ['compile › metrics', (n) => model.compile({ loss: 'mse', optimizer: nn.sgd(), metrics: [n] as never }), /metric "[^"]+" is unknown/],
  ['optimizer lr schedule › name', (n) => nn.optimizerFromConfig('sgd', { lr: { name: n } }), /scheduleFromConfig: name is "[^"]+"; it must be one of constant/],
];

describe('names › inherited object keys are unknown names', () => {
  for (const [title, call, msg] of rows) {
    for (const name of INHERITED) {
      it(`${title} ${JSON.stringify(name)}`, () => {
        let err: unknown;
        try {
          call(name);
        } catch (e) {
          err = e;
        }
        expect(err).toBeInstanceOf(nn.ConfigError);
        expect((err as Error).message).toMatch(msg);
      });
    }
  }
});

describe('names › a model file with an inherited key as layer type', () => {
  for (const name of INHERITED) {
    it(`layers[0].type ${JSON.stringify(name)}`, () => {
      const arch = { name: 'm', inputShape: [2], seed: 1, layers: [{ type: name, name: 'x' }] };
      const bytes = encodeSafetensors([], { format: 'simdnn', version: '1', architecture: JSON.stringify(arch), epoch: '0' });
      expect(() => nn.loadModelSync(bytes, { engine })).toThrow(nn.ModelFormatError);
      expect(() => nn.loadModelSync(bytes, { engine })).toThrow(/architecture layers\[0\]\.type: unknown layer type/);
    });
  }
});
