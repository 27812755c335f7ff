/**
 * The engine objects one controller owns, found by the owner label it puts on each of them, so
 * a test looks at and cleans up only its own controller's containers and volumes on the shared
 * private engine.
 */
import type Docker from 'dockerode';
import { dockerFromHost } from '../../../src/runtime/docker/client.js';
import { LABELS } from '../../../src/runtime/types.js';
import { testEngine } from '../../support/engine.js';

/** The private test engine; fails with a clear message when it does not answer. */
export async function testDocker(): Promise<Docker> {
  const { dockerHost } = testEngine();
  if (!dockerHost) {
    throw new Error('no test engine was provided; run through test/vitest.config.ts');
  }
  const docker = dockerFromHost(dockerHost);
  try {
    await docker.ping();
  } catch (error) {
    throw new Error(
      `the private Docker engine at ${dockerHost} does not answer; start it with ` +
        'eval "$(npm run -s engine)" as root',
      { cause: error },
    );
  }
  return docker;
}

/** The owner id on the first of these containers or volumes that exists, else null. */
export async function ownerIdFrom(
  docker: Docker,
  names: { containers: string[]; volumes: string[] },
): Promise<string | null> {
  for (const name of names.containers) {
    const found = await docker.listContainers({ all: true, filters: { name: [`^/${name}$`] } });
    const owner = found[0]?.Labels[LABELS.owner];
    if (owner) return owner;
  }
  for (const name of names.volumes) {
    const { Volumes } = await docker.listVolumes({ filters: { name: [`^${name}$`] } });
    const owner = Volumes?.find((volume) => volume.Name === name)?.Labels?.[LABELS.owner];
    if (owner) return owner;
  }
  return null;
}

export interface Owned {
  containers: Docker.ContainerInfo[];
  volumes: Docker.VolumeInspectInfo[];
}

export async function ownedObjects(docker: Docker, ownerId: string): Promise<Owned> {
  const filters = { label: [`${LABELS.owner}=${ownerId}`] };
  const containers = await docker.listContainers({ all: true, filters });
  const { Volumes } = await docker.listVolumes({ filters });
  return { containers, volumes: Volumes ?? [] };
}

/** Force-removes every container, then every volume, labelled with this owner. */
export async function removeOwned(docker: Docker, ownerId: string): Promise<void> {
  const { containers, volumes } = await ownedObjects(docker, ownerId);
  for (const container of containers) {
    await docker.getContainer(container.Id).remove({ force: true, v: true });
  }
  for (const volume of volumes) await docker.getVolume(volume.Name).remove();
}

export function redisIdOf(object: { Labels?: Record<string, string> | null }): string | null {
  return object.Labels?.[LABELS.redisId] ?? null;
}
