// Test helpers for the entity store: a DynamoDB client on the suite's DynamoDB Local and per-file tables.
import { inject } from 'vitest';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ensureTables, tableNames, type TableNames, EntityStore, type EntityStoreOptions } from '../../shared/store/index.js';
import { parseCachedSchema, type CachedSchema } from '../../shared/schema/index.js';
import { prng } from '../../local/sim/prng.js';

export function dynamo(): DynamoDBClient {
  return new DynamoDBClient({ endpoint: inject('dynamodbEndpoint'), region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
}

/** Fresh tables under a prefix unique to this file and run. */
export async function freshTables(ddb: DynamoDBClient, label: string): Promise<TableNames> {
  const names = tableNames(`${label}-${process.pid}-${Date.now().toString(36)}-`);
  await ensureTables(ddb, names);
  return names;
}

/**
 * A small schema with one field of every data type on `Thing`, plus the link shapes the store indexes:
 * Shot.sg_sequence (slot), Task.entity / Task.step (slots), Task.task_assignees (membership).
 */
export const TEST_SCHEMA_YAML = `
types:
  Project:
    identifier: name
    fields:
      id: {data_type: number}
      name: {data_type: text}
  Sequence:
    identifier: code
    fields:
      id: {data_type: number}
      code: {data_type: text}
      project: {data_type: entity, valid_types: [Project]}
  Shot:
    identifier: code
    fields:
      id: {data_type: number}
      code: {data_type: text}
      project: {data_type: entity, valid_types: [Project]}
      sg_sequence: {data_type: entity, valid_types: [Sequence], indexed: true}
      description: {data_type: text}
      updated_at: {data_type: date_time}
  Step:
    identifier: code
    fields:
      id: {data_type: number}
      code: {data_type: text}
  HumanUser:
    identifier: name
    fields:
      id: {data_type: number}
      name: {data_type: text}
  Group:
    identifier: code
    fields:
      id: {data_type: number}
      code: {data_type: text}
  Task:
    identifier: content
    fields:
      id: {data_type: number}
      content: {data_type: text}
      project: {data_type: entity, valid_types: [Project]}
      entity: {data_type: entity, valid_types: [Shot, Sequence], indexed: true}
      step: {data_type: entity, valid_types: [Step], indexed: true}
      task_assignees: {data_type: multi_entity, valid_types: [HumanUser, Group], indexed: true}
      sg_status_list: {data_type: status_list, valid_values: [wtg, ip, fin]}
      updated_at: {data_type: date_time}
  Thing:
    identifier: code
    fields:
      id: {data_type: number}
      code: {data_type: text}
      f_text: {data_type: text}
      f_number: {data_type: number}
      f_float: {data_type: float}
      f_checkbox: {data_type: checkbox}
      f_date: {data_type: date}
      f_date_time: {data_type: date_time}
      f_duration: {data_type: duration}
      f_percent: {data_type: percent}
      f_currency: {data_type: currency}
      f_timecode: {data_type: timecode}
      f_footage: {data_type: footage}
      f_list: {data_type: list, valid_values: [a, b]}
      f_status_list: {data_type: status_list, valid_values: [ip, fin]}
      f_entity: {data_type: entity, valid_types: [Shot, CustomEntity05]}
      f_multi_entity: {data_type: multi_entity, valid_types: [HumanUser, Group]}
      f_entity_type: {data_type: entity_type}
      f_url: {data_type: url}
      f_color: {data_type: color}
      f_tag_list: {data_type: tag_list}
      f_image: {data_type: image}
      f_serializable: {data_type: serializable}
      f_uuid: {data_type: uuid}
      f_password: {data_type: password}
      f_pivot_column: {data_type: pivot_column}
      f_summary: {data_type: summary}
      f_calculated: {data_type: calculated}
      f_addressing: {data_type: addressing}
      f_url_template: {data_type: url_template}
      project: {data_type: entity, valid_types: [Project]}
      updated_at: {data_type: date_time}
link_targets:
  CustomEntity05: code
`;

export function testSchema(): CachedSchema {
  return parseCachedSchema(TEST_SCHEMA_YAML, 'test schema');
}

export async function makeStore(label: string, opts: EntityStoreOptions = {}, schema: CachedSchema = testSchema()) {
  const ddb = dynamo();
  const tables = await freshTables(ddb, label);
  return { ddb, tables, schema, store: new EntityStore(ddb, tables, schema, opts) };
}

export { prng };
