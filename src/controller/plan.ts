/**
 * The reconcile decision, as a pure function of what the record asks for and what the runtime
 * shows. No I/O here: everything is decided from the two inputs, so every case is unit-tested.
 */
import type { DesiredState } from '../domain/redis.js';
import type { ContainerState } from '../runtime/types.js';

export interface DesiredView {
  deleting: boolean;
  desiredState: DesiredState;
  /** The record's generation; every deploy or rebuild request moves it. */
  generation: number;
  specHash: string;
  deployPending: boolean;
  restartPending: boolean;
  rebuildPending: boolean;
  /** The password changed since it was last given to this container. */
  passwordPending: boolean;
}

export interface ObservedView {
  /** The record's own container, or null when there is none. */
  container: {
    id: string;
    state: ContainerState;
    specHash: string | null;
    /** The generation it was made for (its label), or null when unknown. */
    generation: number | null;
    startedAt: string | null;
  } | null;
  volumeExists: boolean;
  /** True when an earlier reconcile saw this very container run (same id and start) and ready. */
  knownReady: boolean;
}

export type Step =
  | { kind: 'removeContainer'; reason: 'delete' | 'rebuild' | 'spec-changed' | 'deploy' }
  | { kind: 'removeVolume' }
  /** Refuses settings the engine would refuse at create, before anything is torn down. */
  | { kind: 'checkSettings' }
  | { kind: 'ensureImage' }
  | { kind: 'ensureVolume' }
  | { kind: 'createContainer' }
  | { kind: 'startContainer' }
  | { kind: 'stopContainer' }
  | { kind: 'restartContainer' }
  /** Changes the password of the running Redis in place and rewrites its config file. */
  | { kind: 'applyPassword' }
  /** Rewrites the config file of a container that is not running, for its next start. */
  | { kind: 'writeConfig' }
  | { kind: 'waitReady' }
  | { kind: 'purgeRecord' };

/** What the record looks like once the steps have run. */
export type Outcome = 'deleted' | 'undeployed' | 'running' | 'stopped';

export interface Plan {
  steps: Step[];
  outcome: Outcome;
}

const RUNNING_STATES: ReadonlySet<ContainerState> = new Set(['running', 'restarting', 'paused']);

export function plan(desired: DesiredView, observed: ObservedView): Plan {
  if (desired.deleting) return planDeletion(observed);
  if (desired.desiredState === 'undeployed') return { steps: [], outcome: 'undeployed' };

  const steps: Step[] = [];
  let container = observed.container;
  let volumeExists = observed.volumeExists;
  // A container made for this generation was made after every request so far: a deploy or
  // rebuild that a crash kept from being marked applied is already carried out, not done again.
  const madeFor = container?.generation ?? null;
  const madeForThis = madeFor !== null && madeFor >= desired.generation;

  if (desired.rebuildPending && !madeForThis) {
    if (container) steps.push({ kind: 'removeContainer', reason: 'rebuild' });
    if (volumeExists) steps.push({ kind: 'removeVolume' });
    container = null;
    volumeExists = false;
  } else if (container && container.specHash !== desired.specHash) {
    steps.push({ kind: 'removeContainer', reason: 'spec-changed' });
    container = null;
  } else if (
    container &&
    desired.deployPending &&
    !madeForThis &&
    desired.desiredState === 'running'
  ) {
    // A deploy of something already deployed recreates the container, as Dokploy's does.
    steps.push({ kind: 'removeContainer', reason: 'deploy' });
    container = null;
  }

  const running = container !== null && RUNNING_STATES.has(container.state);
  const startsAgain = container !== null && container.state !== 'running';
  if (container?.state === 'running' && desired.passwordPending) {
    steps.push({ kind: 'applyPassword' });
  } else if (startsAgain && (desired.passwordPending || desired.desiredState === 'running')) {
    // Written before every start of an existing container: a controller killed between
    // creating a container and writing its config left one that could never start.
    steps.push({ kind: 'writeConfig' });
  }

  if (desired.desiredState === 'stopped') {
    if (running) steps.push({ kind: 'stopContainer' });
    return { steps, outcome: 'stopped' };
  }

  if (!container) {
    const first: Step[] = [];
    if (observed.container?.state === 'running' && desired.passwordPending) {
      // A new password goes to the container being replaced first: should its replacement
      // fail, the one kept serving must not go on taking the old password.
      first.push({ kind: 'applyPassword' });
    }
    // Checked first: a spec the engine refuses, or an image that cannot be had, fails before
    // the container it would replace is torn down, so that one goes on serving.
    first.push({ kind: 'checkSettings' }, { kind: 'ensureImage' });
    steps.unshift(...first);
    if (!volumeExists) steps.push({ kind: 'ensureVolume' });
    steps.push({ kind: 'createContainer' }, { kind: 'startContainer' }, { kind: 'waitReady' });
  } else if (container.state === 'restarting') {
    // The engine is already restarting it; readiness tells whether that works out.
    steps.push({ kind: 'waitReady' });
  } else if (container.state !== 'running') {
    steps.push({ kind: 'startContainer' }, { kind: 'waitReady' });
  } else if (desired.restartPending) {
    steps.push({ kind: 'restartContainer' }, { kind: 'waitReady' });
  } else if (!observed.knownReady || desired.passwordPending) {
    steps.push({ kind: 'waitReady' });
  }
  return { steps, outcome: 'running' };
}

function planDeletion(observed: ObservedView): Plan {
  const steps: Step[] = [];
  if (observed.container) steps.push({ kind: 'removeContainer', reason: 'delete' });
  if (observed.volumeExists) steps.push({ kind: 'removeVolume' });
  steps.push({ kind: 'purgeRecord' });
  return { steps, outcome: 'deleted' };
}

/** Steps that prepare a new container while the one it replaces goes on serving. */
export function isPreparation(step: Step): boolean {
  return (
    step.kind === 'checkSettings' || step.kind === 'ensureImage' || step.kind === 'applyPassword'
  );
}

/** True when the plan changes the runtime, as opposed to only checking readiness. */
export function changesRuntime(steps: readonly Step[]): boolean {
  return steps.some(
    (step) =>
      step.kind !== 'waitReady' &&
      step.kind !== 'checkSettings' &&
      step.kind !== 'purgeRecord' &&
      step.kind !== 'applyPassword' &&
      step.kind !== 'writeConfig',
  );
}
