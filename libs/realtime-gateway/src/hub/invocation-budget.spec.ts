import { InvocationBudget } from './invocation-budget';

describe('InvocationBudget', () => {
  it('allows a burst, then the sustained rate', () => {
    const budget = new InvocationBudget(10, 5, 0);
    const first = Array.from({ length: 8 }, () => budget.take(0));
    expect(first).toEqual([true, true, true, true, true, false, false, false]);
    expect(budget.refusedInARow).toBe(3);
    // 100 ms at 10/s refills one call.
    expect(budget.take(100)).toBe(true);
    expect(budget.refusedInARow).toBe(0);
    expect(budget.take(100)).toBe(false);
  });

  it('never holds more than the burst, however long the connection was idle', () => {
    const budget = new InvocationBudget(10, 3, 0);
    const later = Array.from({ length: 4 }, () => budget.take(3_600_000));
    expect(later).toEqual([true, true, true, false]);
  });

  it('answers 200 calls in one second with burst + rate at most', () => {
    const budget = new InvocationBudget(20, 40, 0);
    let accepted = 0;
    for (let i = 0; i < 200; i++) if (budget.take(i * 5)) accepted++;
    expect(accepted).toBeGreaterThanOrEqual(40);
    expect(accepted).toBeLessThanOrEqual(60);
  });
});
