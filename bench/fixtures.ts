// Benchmark fixtures: data of known sizes created on the simulated site.
import type { ShotgunClient } from '../shared/site/index.js';

/** A project holding exactly `n` Shots (batches of 100 on the site), so the shapes have known sizes. */
export async function projectWithShots(client: ShotgunClient, name: string, n: number): Promise<{ type: string; id: number }> {
  const p = await client.call<{ id: number }>('create', { type: 'Project', fields: [{ field_name: 'name', value: name }], return_fields: ['id'] });
  const project = { type: 'Project', id: p.id };
  for (let i = 0; i < n; i += 100) {
    await client.call('batch', Array.from({ length: Math.min(100, n - i) }, (_, j) => ({
      request_type: 'create', type: 'Shot', return_fields: ['id'],
      fields: [{ field_name: 'code', value: `${name}_${String(i + j).padStart(4, '0')}` }, { field_name: 'project', value: project },
        { field_name: 'sg_status_list', value: 'ip' }, { field_name: 'description', value: `Shot ${i + j} of ${name}: layout, anim, lighting & comp` }],
    })));
  }
  return project;
}
