// Elementwise closeness: |got − ref| ≤ atol + rtol·|ref|, with a message naming case, index, values.
export function assertClose(got: ArrayLike<number>, ref: ArrayLike<number>, atol: number, rtol: number, what: string): void {
  if (got.length !== ref.length) throw new Error(`${what}: length ${got.length}, expected ${ref.length}`);
  for (let i = 0; i < ref.length; i++) {
    const g = got[i], r = ref[i];
    if (!(Math.abs(g - r) <= atol + rtol * Math.abs(r))) {
      throw new Error(`${what}: index ${i}: ref ${r}, got ${g} (atol ${atol}, rtol ${rtol})`);
    }
  }
}
