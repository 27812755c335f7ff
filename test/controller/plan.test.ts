import { describe, expect, it } from 'vitest';
import { type DesiredView, type ObservedView, plan } from '../../src/controller/plan.js';

const desired = (overrides: Partial<DesiredView> = {}): DesiredView => ({
  deleting: false,
  desiredState: 'running',
  generation: 2,
  specHash: 'h1',
  deployPending: false,
  restartPending: false,
  rebuildPending: false,
  passwordPending: false,
  ...overrides,
});

type ObservedContainerView = NonNullable<ObservedView['container']>;

const container = (overrides: Partial<ObservedContainerView> = {}): ObservedContainerView => ({
  id: 'c1',
  state: 'running',
  specHash: 'h1',
  generation: 1,
  startedAt: '2026-01-01T00:00:00Z',
  ...overrides,
});

const observed = (overrides: Partial<ObservedView> = {}): ObservedView => ({
  container: container(),
  volumeExists: true,
  knownReady: true,
  ...overrides,
});

const kinds = (result: ReturnType<typeof plan>): string[] => result.steps.map((s) => s.kind);

describe('plan', () => {
  it('does nothing for a record that was never deployed', () => {
    const result = plan(desired({ desiredState: 'undeployed' }), observed({ container: null }));
    expect(result).toEqual({ steps: [], outcome: 'undeployed' });
  });

  it('creates everything for a first deploy', () => {
    const result = plan(
      desired({ deployPending: true }),
      observed({ container: null, volumeExists: false, knownReady: false }),
    );
    expect(kinds(result)).toEqual([
      'checkSettings',
      'ensureImage',
      'ensureVolume',
      'createContainer',
      'startContainer',
      'waitReady',
    ]);
    expect(result.outcome).toBe('running');
  });

  it('keeps an existing volume when the container is missing (drift or data kept)', () => {
    const result = plan(desired(), observed({ container: null, knownReady: false }));
    expect(kinds(result)).toEqual([
      'checkSettings',
      'ensureImage',
      'createContainer',
      'startContainer',
      'waitReady',
    ]);
  });

  it('is a no-op for a healthy, known-ready container on the current spec', () => {
    expect(plan(desired(), observed()).steps).toEqual([]);
  });

  it('only checks readiness when the container was not seen ready before', () => {
    expect(kinds(plan(desired(), observed({ knownReady: false })))).toEqual(['waitReady']);
  });

  it('recreates the container, keeping the volume, when the spec changed', () => {
    const result = plan(desired({ specHash: 'h2' }), observed());
    expect(kinds(result)).toEqual([
      'checkSettings',
      'ensureImage',
      'removeContainer',
      'createContainer',
      'startContainer',
      'waitReady',
    ]);
    expect(result.steps[2]).toEqual({ kind: 'removeContainer', reason: 'spec-changed' });
  });

  it('checks the settings and the image before tearing down the container it replaces', () => {
    for (const wish of [{ specHash: 'h2' }, { deployPending: true }, { rebuildPending: true }]) {
      const steps = kinds(plan(desired(wish), observed()));
      expect(steps.indexOf('checkSettings')).toBe(0);
      expect(steps.indexOf('ensureImage')).toBeLessThan(steps.indexOf('removeContainer'));
    }
  });

  it('recreates on a deploy request even when nothing changed', () => {
    const result = plan(desired({ deployPending: true }), observed());
    expect(result.steps).toContainEqual({ kind: 'removeContainer', reason: 'deploy' });
    expect(kinds(result)).not.toContain('removeVolume');
  });

  it('starts a stopped container instead of recreating it, writing its config first', () => {
    const result = plan(desired(), observed({ container: container({ state: 'exited' }) }));
    expect(kinds(result)).toEqual(['writeConfig', 'startContainer', 'waitReady']);
  });

  it('gives a container created but never started its config before starting it', () => {
    const result = plan(desired(), observed({ container: container({ state: 'created' }) }));
    expect(kinds(result)).toEqual(['writeConfig', 'startContainer', 'waitReady']);
  });

  it('restarts a running container on a reload request', () => {
    expect(kinds(plan(desired({ restartPending: true }), observed()))).toEqual([
      'restartContainer',
      'waitReady',
    ]);
  });

  it('wipes container and volume on rebuild, then creates both again', () => {
    const result = plan(desired({ rebuildPending: true }), observed());
    expect(kinds(result)).toEqual([
      'checkSettings',
      'ensureImage',
      'removeContainer',
      'removeVolume',
      'ensureVolume',
      'createContainer',
      'startContainer',
      'waitReady',
    ]);
  });

  it('stops a running container when stopped is desired, and leaves a stopped one alone', () => {
    expect(kinds(plan(desired({ desiredState: 'stopped' }), observed()))).toEqual([
      'stopContainer',
    ]);
    const idle = plan(
      desired({ desiredState: 'stopped' }),
      observed({ container: container({ state: 'exited' }) }),
    );
    expect(idle).toEqual({ steps: [], outcome: 'stopped' });
  });

  it('does not create anything while stopped, even with a restart pending', () => {
    const result = plan(
      desired({ desiredState: 'stopped', restartPending: true }),
      observed({ container: null }),
    );
    expect(result).toEqual({ steps: [], outcome: 'stopped' });
  });

  it('removes container and volume, then the record, on deletion', () => {
    expect(kinds(plan(desired({ deleting: true }), observed()))).toEqual([
      'removeContainer',
      'removeVolume',
      'purgeRecord',
    ]);
    expect(
      kinds(plan(desired({ deleting: true }), observed({ container: null, volumeExists: false }))),
    ).toEqual(['purgeRecord']);
  });

  it('deletes even a record that was never deployed', () => {
    const result = plan(
      desired({ deleting: true, desiredState: 'undeployed' }),
      observed({ container: null, volumeExists: false }),
    );
    expect(result.outcome).toBe('deleted');
  });

  it('changes the password of a running container in place, without a restart', () => {
    expect(kinds(plan(desired({ passwordPending: true }), observed()))).toEqual([
      'applyPassword',
      'waitReady',
    ]);
  });

  it('rewrites the config of a stopped container for its next start', () => {
    const stoppedContainer = observed({ container: container({ state: 'exited' }) });
    expect(
      kinds(plan(desired({ desiredState: 'stopped', passwordPending: true }), stoppedContainer)),
    ).toEqual(['writeConfig']);
    expect(kinds(plan(desired({ passwordPending: true }), stoppedContainer))).toEqual([
      'writeConfig',
      'startContainer',
      'waitReady',
    ]);
  });

  it('gives a new password to the container being replaced before anything can fail', () => {
    const result = plan(desired({ passwordPending: true, specHash: 'h2' }), observed());
    expect(kinds(result)).toEqual([
      'applyPassword',
      'checkSettings',
      'ensureImage',
      'removeContainer',
      'createContainer',
      'startContainer',
      'waitReady',
    ]);
    const stopped = observed({ container: container({ state: 'exited' }) });
    expect(kinds(plan(desired({ passwordPending: true, specHash: 'h2' }), stopped))).not.toContain(
      'applyPassword',
    );
  });

  it('waits on a container the engine is restarting, after making sure it has its config', () => {
    const result = plan(desired(), observed({ container: container({ state: 'restarting' }) }));
    expect(kinds(result)).toEqual(['writeConfig', 'waitReady']);
  });

  it('never needs the volume to find nothing to do', () => {
    // The idle check of a resync plans without looking at volumes; this is what makes it sound.
    const states = ['running', 'exited', 'created', 'paused', 'restarting'] as const;
    const containers = [null, ...states.map((state) => container({ state }))];
    for (const desiredState of ['running', 'stopped', 'undeployed'] as const) {
      for (const pending of [{}, { deployPending: true }, { rebuildPending: true }]) {
        for (const seen of containers) {
          for (const knownReady of [true, false]) {
            const wish = desired({ desiredState, ...pending });
            const withVolume = plan(wish, observed({ container: seen, knownReady }));
            if (withVolume.steps.length > 0) continue;
            const without = plan(
              wish,
              observed({ container: seen, knownReady, volumeExists: false }),
            );
            expect(without.steps).toEqual([]);
          }
        }
      }
    }
  });

  it('does not carry out again a deploy or rebuild whose container already exists', () => {
    // Killed after making the container and before marking the request applied: the container
    // carries the generation of the request, so a restart finishes the job instead of redoing it.
    const madeForIt = container({ generation: 2 });
    expect(
      plan(desired({ deployPending: true }), observed({ container: madeForIt })).steps,
    ).toEqual([]);
    expect(
      kinds(plan(desired({ rebuildPending: true }), observed({ container: madeForIt }))),
    ).toEqual([]);
    const created = container({ generation: 2, state: 'created' });
    expect(kinds(plan(desired({ deployPending: true }), observed({ container: created })))).toEqual(
      ['writeConfig', 'startContainer', 'waitReady'],
    );
    // A container of unknown generation is made again, as before.
    const unlabelled = container({ generation: null });
    expect(
      kinds(plan(desired({ deployPending: true }), observed({ container: unlabelled }))),
    ).toContain('removeContainer');
  });
});
