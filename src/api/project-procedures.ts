/**
 * The `project.*` verbs: the folders that hold environments, which hold databases.
 */
import { z } from 'zod';
import { type ProcedureTable, procedure } from './procedure.js';

export const projectProcedures: ProcedureTable = {
  'project.all': procedure('query', z.object({}).optional(), (_input, { store }) =>
    store.projects.listProjects(),
  ),
};
