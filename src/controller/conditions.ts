/**
 * Kubernetes-style conditions. `lastTransitionTime` moves only when a condition's status
 * changes, which is what kstatus-based health checks (Argo CD, Flux) rely on.
 */
import type { Condition, ConditionStatus } from '../domain/redis.js';

export interface ConditionUpdate {
  type: 'Ready' | 'Progressing' | 'Degraded';
  status: ConditionStatus;
  /** CamelCase, stable, machine-readable. */
  reason: string;
  message: string;
}

export function setCondition(
  conditions: readonly Condition[],
  update: ConditionUpdate,
  now: Date,
): Condition[] {
  const previous = conditions.find((condition) => condition.type === update.type);
  const lastTransitionTime =
    previous && previous.status === update.status ? previous.lastTransitionTime : now.toISOString();
  const next: Condition = { ...update, lastTransitionTime };
  return [...conditions.filter((condition) => condition.type !== update.type), next].sort((a, b) =>
    a.type.localeCompare(b.type),
  );
}

export function setConditions(
  conditions: readonly Condition[],
  updates: readonly ConditionUpdate[],
  now: Date,
): Condition[] {
  return updates.reduce<Condition[]>(
    (list, update) => setCondition(list, update, now),
    [...conditions],
  );
}

export function isTrue(conditions: readonly Condition[], type: string): boolean {
  return conditions.some((condition) => condition.type === type && condition.status === 'True');
}
