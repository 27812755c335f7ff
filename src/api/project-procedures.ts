/**
 * The `project.*` and `environment.*` verbs: the folders that hold databases. A folder that
 * still holds a database is never removed.
 */
import {
  environmentCreateInput,
  environmentIdInput,
  noInput,
  projectCreateInput,
  projectIdInput,
} from './inputs.js';
import { type ProcedureTable, procedure } from './procedure.js';

export const projectProcedures: ProcedureTable = {
  'project.all': procedure('query', noInput, (_input, { store }) => store.projects.listProjects()),

  'project.one': procedure('query', projectIdInput, ({ projectId }, { store }) =>
    store.projects.findProjectWithEnvironments(projectId),
  ),

  'project.create': procedure('mutation', projectCreateInput, (input, { store }) =>
    store.projects.createProjectWithEnvironment(input),
  ),

  'project.remove': procedure('mutation', projectIdInput, ({ projectId }, { store }) =>
    store.projects.removeProject(projectId),
  ),

  'environment.one': procedure('query', environmentIdInput, ({ environmentId }, { store }) =>
    store.projects.findEnvironmentWithServices(environmentId),
  ),

  'environment.byProjectId': procedure(
    'query',
    projectIdInput,
    ({ projectId }, { store }) =>
      store.projects.findProjectWithEnvironments(projectId).environments,
  ),

  'environment.create': procedure('mutation', environmentCreateInput, (input, { store }) =>
    store.projects.createEnvironment(input),
  ),

  'environment.remove': procedure('mutation', environmentIdInput, ({ environmentId }, { store }) =>
    store.projects.removeEnvironment(environmentId),
  ),

  /** What Dokploy's CLI calls to check a token: one admin, whoever presents a valid token. */
  'user.get': procedure('query', noInput, () => ({
    id: 'admin',
    userId: 'admin',
    role: 'owner',
    name: 'redis-controller admin',
  })),
};
