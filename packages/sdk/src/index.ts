export {
  CivicLoop,
  Tickets,
  Units,
  StaffDirectory,
  Devices,
  Fleet,
  type CivicLoopOptions,
  type CommandResult,
  type WorkerSuggestion,
  type NearbyReport,
  type GeoJsonFeature,
  type GeoJsonFeatureCollection,
  type Attendance,
  type DeviceState,
  type DeviceMessageTally,
  type WaitingCommand,
  type DriverOnBoard,
  type AlarmConfirmation,
  type MonthlyRanking,
  type RankedZone,
  type CommandOptions,
} from './client.js';
export { PagePromise, type Page } from './pagination.js';
export { Media, type UploadedPhoto } from './media.js';
export { Residents, type AnonymousResident } from './residents.js';
export { Zones } from './zones.js';
export { ProvisioningProfiles } from './provisioning-profiles.js';
export { Intake } from './intake.js';
export { Catalogue } from './catalogue.js';
export { Partners } from './partners.js';
export { Webhooks, WebhookSignatureError, verifyWebhook, type VerifyWebhookOptions } from './webhooks.js';
// From the model's small token entry: a browser bundle of the SDK does not carry every schema.
export { signToken, type SignTokenOptions } from '@civicloop/model/token';
export { SseParser, type SseMessage } from './sse.js';
export type { EventSubscribeOptions, SubscribeOptions, Subscription, StreamOptions, RealtimeMessage } from './events.js';
export { DEFAULTS, newIdempotencyKey, type RequestOptions, type TransportOptions } from './transport.js';
export { randomId } from './random-id.js';
export * from './errors.js';
export type {
  CrsName,
  Location,
  ReceivedPoint,
  DeviceAlert,
  DeviceAlertType,
  LocatedPosition,
  ConfirmableAlarm,
  Ticket,
  TicketEvent,
  TicketStatus,
  Actor,
  LikelyDuplicate,
  StreamEvent,
  CreateTicketInput,
  CommandName,
  CommandBodies,
  Category,
  CategoryCatalogue,
  CategoryDefinition,
  CategoryChange,
  Question,
  QuestionDatatype,
  Answers,
  Unit,
  Staff,
  TokenRole,
  Zone,
  CreateZoneInput,
  UpdateZoneInput,
  Webhook,
  CreatedWebhook,
  WebhookDelivery,
  WebhookPayload,
  HotlineRecord,
  HotlineImportResult,
  StatsResult,
  StatGroup,
  BlackSpot,
  Partner,
  PartnerKeys,
  CreatePartnerInput,
  UpdatePartnerInput,
  ProvisioningProfile,
  IssuedProvisioningProfile,
  CreateProvisioningProfileInput,
} from '@civicloop/model';
