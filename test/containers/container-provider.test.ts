import { hostname, networkInterfaces } from 'node:os';
import pg from 'pg';
import { describe, expect, inject, it } from 'vitest';
import { chosenProvider, containerImage } from '../support/server-provider.js';

// The container path really runs on a container: the server the suite
// reaches answers from another network namespace (its own address, not one
// of this machine's) and another UTS namespace (its own host name).

describe('the container provider', () => {
  it('serves the suite from a PostgreSQL in a container, not from this machine', async () => {
    expect(chosenProvider()).toBe('testcontainers');
    const client = new pg.Client({ connectionString: inject('adminUrl') });
    await client.connect();
    try {
      const { rows } = await client.query<{ address: string | null; host: string; version: string }>(
        "SELECT host(inet_server_addr()) AS address, btrim(pg_read_file('/etc/hostname'), E'\\n') AS host, current_setting('server_version_num') AS version",
      );
      const [row] = rows;
      const machineAddresses = Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((a) => a.address));
      // A Unix-socket connection would have no address: this one came over TCP, from outside.
      expect(row?.address).toEqual(expect.any(String));
      expect(machineAddresses).not.toContain(row?.address);
      expect(row?.host).not.toBe(hostname());
      expect(row?.host).not.toBe('');
      const major = process.env.TEST_POSTGRES_VERSION ?? '17';
      expect(Number(row?.version) / 10_000 | 0).toBe(Number(major));
      console.log(`container ${row?.host} at ${row?.address}, image ${containerImage()}, PostgreSQL ${row?.version}`);
    } finally {
      await client.end();
    }
  });
});
