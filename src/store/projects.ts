/**
 * Projects and their environments: the folders Dokploy files databases under.
 */
import { conflict, notFound } from '../domain/errors.js';
import type { Db } from './database.js';
import { newId } from './ids.js';

export interface Project {
  projectId: string;
  name: string;
  description: string | null;
  createdAt: string;
}

export interface Environment {
  environmentId: string;
  projectId: string;
  name: string;
  description: string | null;
  createdAt: string;
}

export interface ProjectWithEnvironments extends Project {
  environments: Environment[];
}

export const DEFAULT_PROJECT_NAME = 'default';
export const DEFAULT_ENVIRONMENT_NAME = 'production';

export class ProjectRepository {
  constructor(
    private readonly db: Db,
    private readonly now: () => Date,
  ) {}

  createProject(input: { name: string; description?: string | null }): Project {
    const project: Project = {
      projectId: newId(),
      name: input.name,
      description: input.description ?? null,
      createdAt: this.now().toISOString(),
    };
    this.db
      .prepare(
        'INSERT INTO projects (projectId, name, description, createdAt) ' +
          'VALUES (@projectId, @name, @description, @createdAt)',
      )
      .run(project);
    return project;
  }

  findProject(projectId: string): Project {
    const row = this.db.prepare('SELECT * FROM projects WHERE projectId = ?').get(projectId);
    if (!row) throw notFound('Project');
    return row as Project;
  }

  listProjects(): ProjectWithEnvironments[] {
    const projects = this.db
      .prepare('SELECT * FROM projects ORDER BY createdAt')
      .all() as Project[];
    const environments = this.db
      .prepare('SELECT * FROM environments ORDER BY createdAt')
      .all() as Environment[];
    return projects.map((project) => ({
      ...project,
      environments: environments.filter((env) => env.projectId === project.projectId),
    }));
  }

  createEnvironment(input: {
    projectId: string;
    name: string;
    description?: string | null;
  }): Environment {
    this.findProject(input.projectId);
    const taken = this.db
      .prepare('SELECT 1 FROM environments WHERE projectId = ? AND name = ?')
      .get(input.projectId, input.name);
    if (taken) throw conflict(`Environment "${input.name}" already exists in this project`);

    const environment: Environment = {
      environmentId: newId(),
      projectId: input.projectId,
      name: input.name,
      description: input.description ?? null,
      createdAt: this.now().toISOString(),
    };
    this.db
      .prepare(
        'INSERT INTO environments (environmentId, projectId, name, description, createdAt) ' +
          'VALUES (@environmentId, @projectId, @name, @description, @createdAt)',
      )
      .run(environment);
    return environment;
  }

  findEnvironment(environmentId: string): Environment {
    const row = this.db
      .prepare('SELECT * FROM environments WHERE environmentId = ?')
      .get(environmentId);
    if (!row) throw notFound('Environment');
    return row as Environment;
  }

  /** On a store with no project at all, creates "default" with an environment "production". */
  seedDefaults(): void {
    const seed = this.db.transaction(() => {
      const any = this.db.prepare('SELECT 1 FROM projects LIMIT 1').get();
      if (any) return;
      const project = this.createProject({
        name: DEFAULT_PROJECT_NAME,
        description: 'Created on first start',
      });
      this.createEnvironment({ projectId: project.projectId, name: DEFAULT_ENVIRONMENT_NAME });
    });
    seed();
  }
}
