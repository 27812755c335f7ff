/**
 * Projects and their environments: the folders Dokploy files databases under.
 */
import { conflict, notFound } from '../domain/errors.js';
import { type Db, type Statement, statementCache } from './database.js';
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

/** A database as listed inside its environment. */
export interface RedisSummary {
  redisId: string;
  name: string;
  appName: string;
  description: string | null;
  applicationStatus: string;
  createdAt: string;
  serverId: string | null;
}

export interface EnvironmentWithServices extends Environment {
  redis: RedisSummary[];
}

export interface ProjectWithEnvironments extends Project {
  environments: EnvironmentWithServices[];
}

export const DEFAULT_PROJECT_NAME = 'default';
export const DEFAULT_ENVIRONMENT_NAME = 'production';

export class ProjectRepository {
  private readonly statement: (source: string) => Statement;

  constructor(
    private readonly db: Db,
    private readonly now: () => Date,
  ) {
    this.statement = statementCache(db);
  }

  /** Creates a project and, as Dokploy does, its "production" environment. */
  createProjectWithEnvironment(input: { name: string; description?: string | null }): {
    project: Project;
    environment: Environment;
  } {
    const create = this.db.transaction(() => {
      const project = this.createProject(input);
      const environment = this.createEnvironment({
        projectId: project.projectId,
        name: DEFAULT_ENVIRONMENT_NAME,
      });
      return { project, environment };
    });
    return create();
  }

  createProject(input: { name: string; description?: string | null }): Project {
    const project: Project = {
      projectId: newId(),
      name: input.name,
      description: input.description ?? null,
      createdAt: this.now().toISOString(),
    };
    this.statement(
      'INSERT INTO projects (projectId, name, description, createdAt) ' +
        'VALUES (@projectId, @name, @description, @createdAt)',
    ).run(project);
    return project;
  }

  findProject(projectId: string): Project {
    const row = this.statement('SELECT * FROM projects WHERE projectId = ?').get(projectId);
    if (!row) throw notFound('Project');
    return row as Project;
  }

  listProjects(): ProjectWithEnvironments[] {
    const projects = this.statement('SELECT * FROM projects ORDER BY createdAt').all() as Project[];
    const environments = this.listEnvironmentsWithServices();
    return projects.map((project) => ({
      ...project,
      environments: environments.filter((env) => env.projectId === project.projectId),
    }));
  }

  /** One project with its environments and the databases in each. */
  findProjectWithEnvironments(projectId: string): ProjectWithEnvironments {
    const project = this.findProject(projectId);
    return { ...project, environments: this.listEnvironmentsWithServices(projectId) };
  }

  /** Deletes a project with no databases in any of its environments; refuses otherwise. */
  removeProject(projectId: string): Project {
    const remove = this.db.transaction(() => {
      const project = this.findProject(projectId);
      const count = this.statement(
        `SELECT COUNT(*) FROM redis JOIN environments USING (environmentId)
           WHERE environments.projectId = ?`,
      )
        .pluck()
        .get(projectId) as number;
      if (count > 0) {
        throw conflict(
          `Project "${project.name}" still holds ${count} database(s); remove or move them first`,
        );
      }
      this.statement('DELETE FROM environments WHERE projectId = ?').run(projectId);
      this.statement('DELETE FROM projects WHERE projectId = ?').run(projectId);
      return project;
    });
    return remove();
  }

  findEnvironmentWithServices(environmentId: string): EnvironmentWithServices {
    const [environment] = this.listEnvironmentsWithServices(undefined, environmentId);
    if (!environment) throw notFound('Environment');
    return environment;
  }

  /** Deletes an environment with no databases; refuses otherwise. */
  removeEnvironment(environmentId: string): Environment {
    const remove = this.db.transaction(() => {
      const environment = this.findEnvironment(environmentId);
      const count = this.statement('SELECT COUNT(*) FROM redis WHERE environmentId = ?')
        .pluck()
        .get(environmentId) as number;
      if (count > 0) {
        throw conflict(
          `Environment "${environment.name}" still holds ${count} database(s); ` +
            'remove or move them first',
        );
      }
      this.statement('DELETE FROM environments WHERE environmentId = ?').run(environmentId);
      return environment;
    });
    return remove();
  }

  private listEnvironmentsWithServices(
    projectId?: string,
    environmentId?: string,
  ): EnvironmentWithServices[] {
    const environments = this.statement(
      `SELECT * FROM environments
         WHERE (@projectId IS NULL OR projectId = @projectId)
           AND (@environmentId IS NULL OR environmentId = @environmentId)
         ORDER BY createdAt`,
    ).all({ projectId: projectId ?? null, environmentId: environmentId ?? null }) as Environment[];
    const services = this.statement(
      `SELECT redisId, name, appName, description, applicationStatus, createdAt, serverId,
           environmentId
         FROM redis WHERE deletionRequestedAt IS NULL ORDER BY createdAt`,
    ).all() as (RedisSummary & { environmentId: string })[];
    return environments.map((environment) => ({
      ...environment,
      redis: services
        .filter((service) => service.environmentId === environment.environmentId)
        .map(({ environmentId: _environmentId, ...summary }) => summary),
    }));
  }

  createEnvironment(input: {
    projectId: string;
    name: string;
    description?: string | null;
  }): Environment {
    this.findProject(input.projectId);
    const taken = this.statement('SELECT 1 FROM environments WHERE projectId = ? AND name = ?').get(
      input.projectId,
      input.name,
    );
    if (taken) throw conflict(`Environment "${input.name}" already exists in this project`);

    const environment: Environment = {
      environmentId: newId(),
      projectId: input.projectId,
      name: input.name,
      description: input.description ?? null,
      createdAt: this.now().toISOString(),
    };
    this.statement(
      'INSERT INTO environments (environmentId, projectId, name, description, createdAt) ' +
        'VALUES (@environmentId, @projectId, @name, @description, @createdAt)',
    ).run(environment);
    return environment;
  }

  findEnvironment(environmentId: string): Environment {
    const row = this.statement('SELECT * FROM environments WHERE environmentId = ?').get(
      environmentId,
    );
    if (!row) throw notFound('Environment');
    return row as Environment;
  }

  /** On a store with no project at all, creates "default" with an environment "production". */
  seedDefaults(): void {
    const seed = this.db.transaction(() => {
      const any = this.statement('SELECT 1 FROM projects LIMIT 1').get();
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
