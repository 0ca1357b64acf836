// shared/site: the site's protocol: the JSON-RPC wire format and payload builders, faults and error codes, data types, the Shotgun client and its retry policy, site credentials and info, file transfer, pass-through.
// May import: nothing else in shared/ but config.ts and version.ts. This index is the package's only public face: other packages import it, never a file inside.
export {
  type AuthParams,
  AuthParamsSchema,
  type BatchItem,
  BatchParamsSchema,
  type Condition,
  type CreateParams,
  CreateParamsSchema,
  type EntityRefParams,
  EntityRefParamsSchema,
  type FilterGroup,
  isGroup,
  type Paging,
  READ_KEYS,
  type ReadParams,
  ReadParamsSchema,
  type ReadResult,
  type RpcRequest,
  RpcRequestSchema,
  type Sort,
  type SummaryParams,
  SummaryParamsSchema,
  type UpdateParams,
  UpdateParamsSchema,
} from './wire.js';
export { type DataType, DataTypeSchema, DATE_RE, DATE_TIME_RE, formatDateTime, type Link, type WireLink } from './data-types.js';
export { ErrorCode, type FaultBody, ShotgunFault } from './faults.js';
export {
  authParams,
  batchParams,
  type BatchRequest,
  type ClientCredentials,
  createParams,
  deleteParams,
  type EntityData,
  type FindArgs,
  findPlan,
  firstPage,
  type ListFilter,
  type OrderItem,
  PayloadError,
  readParams,
  recordsPerPageOf,
  reviveParams,
  rpcPayload,
  schemaFieldReadParams,
  schemaParams,
  type ServerVersion,
  serverVersionOf,
  summarizeParams,
  transformOutbound,
  translateFilters,
  updateParams,
  wireCondition,
} from './api3-payloads.js';
export { type CallOptions, type RawReply, ShotgunClient, type ShotgunClientOptions, ShotgunTransportError } from './shotgun-client.js';
export { ensureVerdictKeyFile, getVerdictKey, VERDICT_KEY_FILE_ENV, VERDICT_KEY_SECRET_ARN_ENV } from './verdict-key.js';
export { getScriptKey, getSiteCredentials, SCRIPT_KEY_UNSET_FIELD, SiteCredentials, SiteCredentialsError } from './site-credentials.js';
export { type InfoKeeper, SiteInfo } from './site-info.js';
export { isFileTransferPath, relayTransfer } from './file-transfer.js';
export { uploadTargets } from './upload-target.js';
export { passThrough } from './pass-through.js';
export { type Admission, type HealthReport, isOutageReply, SiteHealth, siteHealthFor, type SiteHealthOptions } from './site-health.js';
export {
  DEFAULT_SIGNED_URL_MARGIN_S,
  expiresAt,
  isPlaceholder,
  isSignedUrl,
  mayBeVolatile,
  objectOf,
  renews,
  sameObjects,
  servableUntil,
  TRANSIENT_IMAGE_PATH,
  volatileVerdict,
  volatility,
  type Volatility,
  withoutSignatures,
} from './signed-urls.js';
