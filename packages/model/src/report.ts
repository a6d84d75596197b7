// @civicloop/model/report: the schemas a browser needs to check a report before sending it.
export { CHANNELS, Channel, CreateTicketInput, FeedbackBody, PRIORITIES, Priority } from './schemas/report.js';
export { Location, PhotoRef, Photos } from './schemas/common.js';
