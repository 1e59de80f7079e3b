// model.metadata / setMetadata: what the model knows about its data, checked, saved, loaded,
// refused when hostile, and shown by `simdnn info`.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as nn from '../../src/index.js';
import { encodeSafetensors, decodeSafetensors } from '../../src/io/safetensors.js';
import { runNode } from '../util/child.js';
import * as tf from '@tensorflow/tfjs';
import protobuf from 'protobufjs';
import { ONNX_METADATA_KEY, ONNX_PROTO, onnxBytes } from '../../src/io/onnx.js';
import { importTfjs, tfjsArtifacts } from '../../src/io/tfjs.js';

const CLI = new URL('../../build/src/cli.js', import.meta.url).pathname;
const engine = new nn.Engine();
const models: nn.Sequential[] = [];
afterAll(() => models.forEach((m) => m.dispose()));

function model(inputs = 3, outputs = 2): nn.Sequential {
  const m = nn.sequential({ inputShape: [inputs], seed: 1, engine }, [nn.dense(4, { activation: 'relu' }), nn.dense(outputs)]);
  models.push(m);
  return m;
}
const full: nn.ModelMetadata = {
  features: ['a', 'b', 'c'], target: 'species', classes: ['setosa', 'virginica'],
  input: { kind: 'csv', separator: ',' }, split: { seed: 7, validation: 0.1, test: 0.2, stratified: true },
};

/** The file with its __metadata__.metadata replaced by `json`. */
function withMetadata(bytes: Uint8Array, json: string): Uint8Array {
  const { metadata, tensors } = decodeSafetensors(bytes);
  return encodeSafetensors(tensors, { ...metadata, metadata: json });
}

describe('model metadata', () => {
  it('is undefined until set; set gives a frozen copy, undefined clears', () => {
    const m = model();
    expect(m.metadata).toBeUndefined();
    const given = structuredClone(full);
    m.setMetadata(given);
    expect(m.metadata).toEqual(full);
    given.features![0] = 'changed';
    expect(m.metadata!.features![0]).toBe('a');
    expect(Object.isFrozen(m.metadata)).toBe(true);
    expect(() => { (m.metadata!.features as string[]).push('d'); }).toThrow(TypeError);
    m.setMetadata(undefined);
    expect(m.metadata).toBeUndefined();
  });

  it.each([
    [{ colour: 'red' }, nn.ConfigError, /metadata: unknown key "colour"/],
    [{ features: ['a', 'b'] }, nn.ShapeError, /features has 2 names; the model has 3 inputs/],
    [{ features: ['a', 'a', 'b'] }, nn.ConfigError, /features\[1\] is "a"; it must be distinct/],
    [{ features: ['a', 2, 'b'] }, nn.ConfigError, /features\[1\] is 2; it must be a non-empty string/],
    [{ features: 'abc' }, nn.ConfigError, /features is "abc"; it must be an array of strings/],
    [{ classes: ['x', 'y', 'z'] }, nn.ShapeError, /classes has 3 names; the model has 2 outputs/],
    [{ target: '' }, nn.ConfigError, /target is ""/],
    [{ target: ['y1', 'y2', 'y3'] }, nn.ShapeError, /target has 3 names; the model has 2 outputs/],
    [{ input: { kind: 'parquet' } }, nn.ConfigError, /input\.kind is "parquet"; it must be one of csv, idx, tensor/],
    [{ input: { kind: 'csv', sep: NaN } }, nn.ConfigError, /input\.sep is NaN; it must be a finite number/],
    [{ input: { kind: 'csv', f: () => 1 } }, nn.ConfigError, /input\.f is .*; it must be JSON data/],
    [{ split: { seed: 7, validation: 0.1, test: 0.2 } }, nn.ConfigError, /split\.stratified is undefined/],
    [{ split: { seed: -1, validation: 0.1, test: 0.2, stratified: false } }, nn.ConfigError, /split\.seed is -1/],
    [{ split: { seed: 1, validation: 0.6, test: 0.4, stratified: false } }, nn.ConfigError, /split\.validation \+ split\.test is 1; it must be less than 1/],
    [{ split: { seed: 1, validation: 0.1, test: 0.1, stratified: 'yes' } }, nn.ConfigError, /split\.stratified is "yes"; it must be a boolean/],
    [{ split: { seed: 1, validation: 0.1, test: 0.1, stratified: true, k: 5 } }, nn.ConfigError, /split: unknown key "k"/],
    [[], nn.ConfigError, /metadata is \[\]; it must be an object/],
  ])('refuses %j with a typed error naming the field, and keeps what was there', (bad, type, msg) => {
    const m = model();
    m.setMetadata(full);
    let err: unknown;
    try { m.setMetadata(bad as never); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(type);
    expect((err as Error).message).toMatch(/^Sequential\.setMetadata: /);
    expect((err as Error).message).toMatch(msg);
    expect(m.metadata).toEqual(full);
  });

  it('a 1-output model takes 2 class names (negative, positive); not 1 or 3', () => {
    const m = model(3, 1);
    m.setMetadata({ classes: ['no', 'yes'] });
    expect(m.metadata!.classes).toEqual(['no', 'yes']);
    for (const c of [['yes'], ['a', 'b', 'c']]) {
      expect(() => m.setMetadata({ classes: c })).toThrow(new RegExp(`classes has ${c.length} names; the model has 1 outputs \\(a 1-output model takes 2 names`));
    }
  });

  it('is refused after dispose', () => {
    const m = model();
    m.dispose();
    expect(() => m.setMetadata(full)).toThrow(nn.StateError);
  });

  it('round-trips through toBytes/loadModel and save/loadModel; a model without it stays without', async () => {
    const m = model();
    expect(nn.loadModelSync(m.toBytes(), { engine }).metadata).toBeUndefined();
    m.setMetadata(full);
    const back = nn.loadModelSync(m.toBytes(), { engine });
    models.push(back);
    expect(back.metadata).toEqual(full);
    const path = join(mkdtempSync(join(tmpdir(), 'simdnn-meta-')), 'm.simdnn');
    await m.save(path);
    const again = await nn.loadModel(path, { engine });
    models.push(again);
    expect(again.metadata).toEqual(full);
  });

  it.each([
    ['not JSON', '{', /__metadata__\.metadata: not valid JSON/],
    ['an unknown key', '{"features":["a","b","c"],"evil":1}', /__metadata__: metadata: unknown key "evil"/],
    ['a __proto__ key', '{"__proto__":{"features":["x"]}}', /unknown key "__proto__"/],
    ['too few features', '{"features":["a"]}', /features has 1 names; the model has 3 inputs/],
    ['too many classes', '{"classes":["a","b","c"]}', /classes has 3 names; the model has 2 outputs/],
    ['a bad split', '{"split":{"seed":1.5,"validation":0,"test":0,"stratified":false}}', /split\.seed is 1\.5/],
    ['a string', '"csv"', /metadata is "csv"; it must be an object/],
  ])('a file with %s in its metadata is a ModelFormatError naming it, leaking nothing', (_, json, msg) => {
    const m = model();
    const bytes = withMetadata(m.toBytes(), json);
    const live = engine.liveAllocations;
    expect(() => nn.loadModelSync(bytes, { engine })).toThrow(nn.ModelFormatError);
    expect(() => nn.loadModelSync(bytes, { engine })).toThrow(msg);
    expect(engine.liveAllocations).toBe(live);
  });

  it('simdnn info shows it (text and --json)', async () => {
    const m = model();
    m.setMetadata(full);
    const path = join(mkdtempSync(join(tmpdir(), 'simdnn-meta-')), 'm.simdnn');
    await m.save(path);
    const text = await runNode([CLI, 'info', path]);
    expect(text.status, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^input csv \{"separator":","\}$/m);
    expect(text.stdout).toMatch(/^features \(3\): a, b, c$/m);
    expect(text.stdout).toMatch(/^target: species$/m);
    expect(text.stdout).toMatch(/^classes \(2\): setosa, virginica$/m);
    expect(text.stdout).toMatch(/^split: seed 7 · validation 0\.1 · test 0\.2 · stratified$/m);
    const json = await runNode([CLI, 'info', path, '--json']);
    expect(json.status, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout).metadata).toEqual(full);
  });

  it('travels in the ONNX export (metadata_props) and the TF.js export (userDefinedMetadata.simdnn), and back from TF.js', async () => {
    const m = model();
    m.setMetadata(full);
    const proto = protobuf.parse(ONNX_PROTO, { keepCase: true }).root.lookupType('onnx.ModelProto');
    const decoded = proto.toObject(proto.decode(await onnxBytes(m))) as { metadata_props: { key: string; value: string }[] };
    expect(decoded.metadata_props).toHaveLength(1);
    expect(decoded.metadata_props[0].key).toBe(ONNX_METADATA_KEY);
    expect(JSON.parse(decoded.metadata_props[0].value)).toEqual(full);
    const a = tfjsArtifacts(m);
    const t = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: a.modelJson.modelTopology, weightSpecs: a.modelJson.weightsManifest[0].weights, weightData: a.weights.slice().buffer, userDefinedMetadata: a.modelJson.userDefinedMetadata }));
    expect((t.getUserDefinedMetadata() as { simdnn: unknown }).simdnn).toEqual(full);
    t.dispose();
    const back = await importTfjs(a, { engine });
    models.push(back);
    expect(back.metadata).toEqual(full);
    // Without metadata, none is written.
    expect(tfjsArtifacts(model()).modelJson.userDefinedMetadata).toBeUndefined();
  });

  it('a TF.js model.json with bad simdnn metadata is a ModelFormatError naming it', async () => {
    const a = tfjsArtifacts(model());
    const bad = { ...a, modelJson: { ...a.modelJson, userDefinedMetadata: { simdnn: { classes: ['a', 'b', 'c'] } } } };
    await expect(importTfjs(bad, { engine })).rejects.toThrow(nn.ModelFormatError);
    await expect(importTfjs(bad, { engine })).rejects.toThrow(/userDefinedMetadata\.simdnn: metadata: classes has 3 names; the model has 2 outputs/);
  });
});
