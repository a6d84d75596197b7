// @civicloop/model/report: what a browser needs to check a report before sending it, and to
// tell which tenant a publishable key names.
export { CHANNELS, Channel, CreateTicketInput, FeedbackBody, PRIORITIES, Priority } from './schemas/report.js';
export { CRS_NAMES, Crs, Location, PhotoRef, Photos, isCrsName, type CrsName } from './schemas/common.js';
export { tenantOfKey } from './token.js';
