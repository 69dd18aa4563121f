import { describe, expect, it } from 'vitest';
import { kubeTime, mergeConditions } from './conditions.ts';

const t0 = Date.UTC(2026, 0, 1, 0, 0, 0);
const t1 = t0 + 60_000;

describe('mergeConditions', () => {
  it('keeps lastTransitionTime while the status holds and moves it when it flips', () => {
    const first = mergeConditions(
      undefined,
      [{ type: 'Ready', status: 'True', reason: 'Rendered', message: '' }],
      1,
      t0,
    );
    expect(first).toEqual([
      {
        type: 'Ready',
        status: 'True',
        reason: 'Rendered',
        message: '',
        observedGeneration: 1,
        lastTransitionTime: '2026-01-01T00:00:00Z',
      },
    ]);
    const same = mergeConditions(
      first,
      [{ type: 'Ready', status: 'True', reason: 'Rendered', message: 'x' }],
      2,
      t1,
    );
    expect(same[0]).toMatchObject({ observedGeneration: 2, message: 'x', lastTransitionTime: kubeTime(t0) });
    const flipped = mergeConditions(
      same,
      [{ type: 'Ready', status: 'False', reason: 'MemberNotFound', message: 'm' }],
      3,
      t1,
    );
    expect(flipped[0]).toMatchObject({
      status: 'False',
      reason: 'MemberNotFound',
      lastTransitionTime: kubeTime(t1),
    });
  });

  it('returns exactly the desired conditions, in order, with long messages cut', () => {
    const out = mergeConditions(
      [{ type: 'Old', status: 'True', reason: 'X', message: '', lastTransitionTime: kubeTime(t0) }],
      [
        { type: 'Ready', status: 'False', reason: 'R', message: 'y'.repeat(5000) },
        { type: 'SpecValid', status: 'True', reason: 'Valid', message: '' },
      ],
      1,
      t0,
    );
    expect(out.map((c) => c.type)).toEqual(['Ready', 'SpecValid']);
    expect(out[0].message.length).toBe(1024);
  });
});
