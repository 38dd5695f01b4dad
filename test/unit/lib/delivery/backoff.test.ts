import { describe, expect, it } from 'vitest';
import {
  backoffSeconds,
  MAX_VISIBILITY_SECONDS,
  receiveCountOf,
} from '../../../../lib/delivery/backoff.ts';

const top = () => 0.999999;
const bottom = () => 0;

describe('backoffSeconds', () => {
  it.each([
    [1, 30],
    [2, 60],
    [3, 120],
    [5, 480],
    [6, 900],
    [50, 900],
  ])(
    'caps receive %i at %i s (full jitter upper bound, 30 s doubling, 15 min cap)',
    (count, max) => {
      expect(backoffSeconds(count, 0, { random: top })).toBe(max);
    },
  );

  it('draws uniformly below the ceiling, so failed consumers do not return together', () => {
    expect(backoffSeconds(3, 0, { random: bottom })).toBe(0);
    expect(backoffSeconds(3, 0, { random: () => 0.5 })).toBe(60);
  });

  it('never goes below the floor a throttling reply asked for, and still spreads above it', () => {
    expect(backoffSeconds(1, 60, { random: bottom })).toBe(60);
    expect(backoffSeconds(1, 60, { random: top })).toBe(90);
  });

  it('never asks SQS for more than its 12 h visibility maximum', () => {
    expect(backoffSeconds(1, 100_000, { random: top })).toBe(MAX_VISIBILITY_SECONDS);
    expect(backoffSeconds(10_000, 0, { random: top, capSeconds: 10 ** 9 })).toBe(
      MAX_VISIBILITY_SECONDS,
    );
  });

  it('treats a missing or odd receive count as the first delivery', () => {
    expect(receiveCountOf({})).toBe(1);
    expect(receiveCountOf({ ApproximateReceiveCount: 'x' })).toBe(1);
    expect(receiveCountOf({ ApproximateReceiveCount: '4' })).toBe(4);
  });
});
