import { CivicLoopReport } from './element.js';

export { CivicLoopReport, type CivicLoopReportEvents } from './element.js';

if (!customElements.get('civicloop-report')) customElements.define('civicloop-report', CivicLoopReport);

declare global {
  interface HTMLElementTagNameMap {
    'civicloop-report': CivicLoopReport;
  }
}
