import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { migrateDatabase, revokePublicCreate } from './database.js';
import { provideTestServer } from './server-provider.js';

/** Database every per-file test database is cloned from: all migrations applied in `public`. */
export const TEMPLATE_DATABASE = 'authdb_test_template';

declare module 'vitest' {
  export interface ProvidedContext {
    /** URL of the test server's `postgres` database, as a superuser. */
    adminUrl: string;
    templateDatabase: string;
  }
}

/** Starts one server for the whole run and migrates the template once. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const server = await provideTestServer();
  console.log(`authdb tests: PostgreSQL from ${server.description}`);
  try {
    await createTemplate(server.adminUrl);
  } catch (error) {
    await server.stop();
    throw error;
  }
  project.provide('adminUrl', server.adminUrl);
  project.provide('templateDatabase', TEMPLATE_DATABASE);
  return () => server.stop();
}

async function createTemplate(adminUrl: string): Promise<void> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${TEMPLATE_DATABASE}`);
    await admin.query(`CREATE DATABASE ${TEMPLATE_DATABASE} TEMPLATE template0`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${TEMPLATE_DATABASE}`;
  await revokePublicCreate(url.toString());
  await migrateDatabase(url.toString());
}
