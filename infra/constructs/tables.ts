// The DynamoDB tables, built from shared/store/table-design.ts so the deployed keys and GSIs cannot drift from the local ones.
import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { TABLE_SPECS, type IndexSpec, type KeyAttr, type TableSpec } from '../../shared/store/index.js';

export interface TablesProps {
  /** The entities table and the refs (edge) table derived from it. */
  readonly entitiesRemovalPolicy: RemovalPolicy;
  readonly stateRemovalPolicy: RemovalPolicy;
}

/** Item-level read actions (transactions and batches authorize as these). */
const READ_ACTIONS = ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query', 'dynamodb:Scan', 'dynamodb:ConditionCheckItem'];
/** Item-level write actions. Table-level actions (DescribeTable, UpdateTable, DeleteTable, streams) are never granted. */
const WRITE_ACTIONS = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'];

function attr(k: KeyAttr): dynamodb.Attribute {
  return { name: k.name, type: k.type === 'S' ? dynamodb.AttributeType.STRING : dynamodb.AttributeType.NUMBER };
}

function gsi(i: IndexSpec): dynamodb.GlobalSecondaryIndexPropsV2 {
  const base = { indexName: i.name, partitionKey: attr(i.partitionKey), sortKey: attr(i.sortKey) };
  if (i.projection === 'ALL') return { ...base, projectionType: dynamodb.ProjectionType.ALL };
  if (i.projection === 'KEYS_ONLY') return { ...base, projectionType: dynamodb.ProjectionType.KEYS_ONLY };
  return { ...base, projectionType: dynamodb.ProjectionType.INCLUDE, nonKeyAttributes: i.projection.include };
}

/** One on-demand table with point-in-time recovery; deletion protection whenever the table is retained. */
export class CacheTable extends Construct {
  readonly table: dynamodb.TableV2;
  constructor(
    scope: Construct,
    id: string,
    readonly spec: TableSpec,
    removalPolicy: RemovalPolicy,
  ) {
    super(scope, id);
    this.table = new dynamodb.TableV2(this, 'Table', {
      partitionKey: attr(spec.partitionKey),
      sortKey: attr(spec.sortKey),
      globalSecondaryIndexes: spec.indexes.map(gsi),
      billing: dynamodb.Billing.onDemand(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: spec.ttlAttribute,
      removalPolicy,
      // Always on: a table is deleted only after an operator turns this off (docs/deploy.md), whatever the removal policy.
      deletionProtection: true,
    });
  }

  get tableName(): string {
    return this.table.tableName;
  }

  /** The table and each of its indexes by exact ARN: no `index/*` wildcard. */
  private arns(): string[] {
    return [this.table.tableArn, ...this.spec.indexes.map((i) => `${this.table.tableArn}/index/${i.name}`)];
  }

  grantRead(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({ grantee, actions: READ_ACTIONS, resourceArns: this.arns() });
  }

  /** Reads everywhere, writes on the base table only (writes never target an index). */
  grantReadWrite(grantee: iam.IGrantable): void {
    this.grantRead(grantee);
    iam.Grant.addToPrincipal({ grantee, actions: WRITE_ACTIONS, resourceArns: [this.table.tableArn] });
  }
}

export class Tables extends Construct {
  readonly entities: CacheTable;
  readonly state: CacheTable;
  /** Edge items (reverse references), written and read together with the entities table. */
  readonly refs: CacheTable;
  constructor(scope: Construct, id: string, props: TablesProps) {
    super(scope, id);
    const spec = (logical: TableSpec['logical']): TableSpec => {
      const s = TABLE_SPECS.find((t) => t.logical === logical);
      if (!s) throw new Error(`shared/store/table-design.ts defines no ${logical} table`);
      return s;
    };
    this.entities = new CacheTable(this, 'Entities', spec('entities'), props.entitiesRemovalPolicy);
    this.state = new CacheTable(this, 'State', spec('state'), props.stateRemovalPolicy);
    this.refs = new CacheTable(this, 'Refs', spec('refs'), props.entitiesRemovalPolicy);
  }

  /** The table names a function that works on the cache gets (shared/config.ts storeConfigFromEnv). */
  get environment(): Record<'ENTITIES_TABLE' | 'STATE_TABLE' | 'REFS_TABLE', string> {
    return { ENTITIES_TABLE: this.entities.tableName, STATE_TABLE: this.state.tableName, REFS_TABLE: this.refs.tableName };
  }
}
